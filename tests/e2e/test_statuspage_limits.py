"""The status page under Statuspage's rate limit, and across restarts: every write happens exactly once."""

from __future__ import annotations

import itertools

from sandbox.world import World
from tests.e2e.test_statuspage import page, poll, start, unresolved

WAIT = 20.0


def test_calls_are_paced_and_a_429_is_honoured(world: World, make_bot):
    sp = world.statuspage
    sp.requests_per_second = 1  # the real limit: one request a second per key
    sp.limit_status = 429
    bot = start(make_bot, STATUSPAGE_REQUEST_INTERVAL="1.1")
    sp.inject_fault(r"/incidents$", 429, method="POST", retry_after=1, times=1)
    page(world, "sp0api")
    page(world, "sp0web")
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    sp.wait_for(lambda: len(unresolved(world)) == 2, WAIT, "both incidents opened")
    bot.drain_outbox()

    answered = [r for r in sp.requests if r.status]
    assert [r.status for r in answered].count(429) == 1, "only the injected 429: the calls themselves were paced"
    assert len([r for r in answered if r.method == "POST" and r.status == 201]) == 2
    for before, after in itertools.pairwise(answered):
        assert after.at - before.at >= 0.9, f"{after.method} {after.path} came {after.at - before.at:.2f}s after"


def test_restart_between_poll_and_write_opens_exactly_one_incident(world: World, make_bot):
    sp = world.statuspage
    bot = start(make_bot)
    sp.inject_fault(r"/incidents$", 503, method="POST", times=-1)
    page(world, "sp0db")
    bot.runtime.scheduler.run_and_wait("incidents.poll")  # decided and queued; Statuspage is down
    sp.wait_for(lambda: sp.calls("POST", r"/incidents$"), WAIT, "the first attempt")
    bot.stop()
    sp.clear_faults()

    again = start(make_bot)  # same database: the queued open is still there
    sp.wait_for(lambda: unresolved(world), WAIT, "the incident opened after the restart")
    poll(world, again)
    assert len([r for r in sp.calls("POST", r"/incidents$") if r.status == 201]) == 1
    assert sorted(unresolved(world)) == ["sp0db"]


def test_a_create_whose_answer_was_lost_is_not_repeated(world: World, make_bot):
    """Statuspage has no idempotency key: the answer to a POST can be lost after the incident was made."""
    sp = world.statuspage
    bot = start(make_bot)
    sp.inject_fault(r"/incidents$", 0, method="POST", delay=5.3)  # made after the client's 5 s timeout
    page(world, "sp0web")
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    sp.wait_for(lambda: unresolved(world), WAIT, "the slow incident")
    store = bot.runtime.store
    sp.wait_for(
        lambda: store.scalar("SELECT incident_id FROM statuspage_incidents WHERE component_id = 'sp0web'"),
        WAIT,
        "the bot to find and keep the incident it made",
    )
    bot.drain_outbox()
    assert len(sp.incidents()) == 1
    assert len(sp.calls("POST", r"/incidents$")) == 1
