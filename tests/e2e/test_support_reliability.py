"""Support desk: nothing lost, nothing duplicated — redelivery, concurrency, Zendesk and Slack failures, restarts."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading

from bot.settings import ROOT
from bot.support.effects import COMING_TEXT
from tests.e2e.test_support import (
    AGENT_ID,
    CHANNEL,
    bot_replies,
    comments,
    open_request,
    poll,
    sentinel,
    settled,
    ticket_of,
    wait_comments,
    wait_reply,
)

TICKETS_POST = r"/api/v2/tickets\.json$"


def copies_at_once(world, envelope_id: str, count: int) -> None:
    """Slack hands the same event to the bot in `count` new envelopes (new event ids) at the same moment."""
    payload = world.slack.envelope(envelope_id)["envelope"]["payload"]
    start = threading.Barrier(count)

    def send(n: int) -> None:
        duplicate = copy.deepcopy(payload)
        duplicate["event_id"] = f"{payload['event_id']}x{n}"
        start.wait()
        world.slack.send_envelope("events_api", duplicate)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_redelivered_message_and_reply_make_one_ticket_and_one_comment(bot, world):
    ts, envelope = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    world.slack.wait_for_ack(world.slack.redeliver(envelope, retry_attempt=1))
    ticket = ticket_of(world, ts)
    _, reply = world.slack.post_message("U0BOB", CHANNEL, "since 9am", thread_ts=ts)
    world.slack.wait_for_ack(world.slack.redeliver(reply, retry_attempt=2, retry_reason="timeout"))
    sentinel(bot)
    assert len(world.zendesk.tickets()) == 2  # the request and the sentinel
    assert comments(world, ticket["id"])[1:] == ["Bob Baker (Slack): since 9am"]
    assert sum("your new support request" in text for text in bot_replies(world, ts)) == 1


def test_the_same_message_in_several_envelopes_at_once_makes_one_ticket(bot, world):
    ts, envelope = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    copies_at_once(world, envelope, 4)
    ticket = ticket_of(world, ts)
    _, reply = world.slack.post_message("U0BOB", CHANNEL, "since 9am", thread_ts=ts)
    copies_at_once(world, reply, 4)
    wait_comments(world, ticket["id"], 2)
    sentinel(bot)
    assert len(world.zendesk.tickets()) == 2
    assert len(world.zendesk.calls("POST", TICKETS_POST)) == 2
    assert comments(world, ticket["id"])[1:] == ["Bob Baker (Slack): since 9am"]


def test_concurrent_replies_each_become_exactly_one_comment(bot, world):
    ts, ticket = open_request(world, "VPN down")
    people = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"] * 2
    start = threading.Barrier(len(people))

    def reply(n: int, user: str) -> None:
        start.wait()
        world.slack.post_message(user, CHANNEL, f"reply {n}", thread_ts=ts)

    threads = [threading.Thread(target=reply, args=(n, user)) for n, user in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_comments(world, ticket["id"], 1 + len(people))
    settled(bot)
    bodies = comments(world, ticket["id"])[1:]
    assert len(bodies) == len(people)
    assert sorted(body.split(": ")[1] for body in bodies) == sorted(f"reply {n}" for n in range(len(people)))


def test_zendesk_rate_limit_on_create_says_the_ticket_is_coming(bot, world):
    world.zendesk.inject_fault(TICKETS_POST, 429, method="POST", retry_after=1)
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    replies = wait_reply(world, ts, "your new support request is")
    assert replies[0] == COMING_TEXT and replies[1].startswith("Hello, your new support request is")
    first, second = world.zendesk.calls("POST", TICKETS_POST)
    assert (first.status, second.status) == (429, 201)
    assert second.at - first.at >= 1.0, "the retry waited for Retry-After"
    assert first.header("idempotency-key") == second.header("idempotency-key")
    assert len(world.zendesk.tickets()) == 1


def test_zendesk_down_then_a_restart_still_delivers_ticket_and_replies(make_bot, world):
    bot = make_bot()
    world.zendesk.inject_fault(TICKETS_POST, 503, method="POST", times=-1)
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    wait_reply(world, ts, "can't reach Zendesk")
    world.slack.post_message("U0BOB", CHANNEL, "since 9am", thread_ts=ts)
    world.slack.wait_for(
        lambda: bot.runtime.store.scalar("SELECT COUNT(*) FROM support_forwards") == 1, message="the queued reply"
    )
    bot.stop()
    world.zendesk.clear_faults()
    make_bot()
    replies = wait_reply(world, ts, "your new support request is")
    ticket = ticket_of(world, ts)
    assert wait_comments(world, ticket["id"], 2)[1] == "Bob Baker (Slack): since 9am"
    assert len(world.zendesk.tickets()) == 1
    assert sum(text == COMING_TEXT for text in replies) == 1
    keys = {r.header("idempotency-key") for r in world.zendesk.calls("POST", TICKETS_POST)}
    assert keys == {f"switchboard-slack:{CHANNEL}:{ts}"}


def test_zendesk_refusing_the_ticket_is_said_once_and_not_retried(make_bot, world):
    bot = make_bot(ZENDESK_GROUP_ID="4242")  # no such group: Zendesk answers 422
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    text = wait_reply(world, ts, "unable to talk to Zendesk")[0]
    assert text.startswith("🤖 I'm unable to talk to Zendesk (API Error 422)")
    settled(bot)
    assert len(world.zendesk.calls("POST", TICKETS_POST)) == 1
    assert bot.runtime.store.scalar("SELECT state FROM support_threads") == "failed"


def test_kill_and_restart_between_poll_and_post(make_bot, world):
    bot = make_bot()
    ts, ticket = open_request(world, "VPN down")
    settled(bot)
    world.slack.inject_fault(r"/api/chat\.postMessage$", 500, times=-1)  # Slack is down when the poll has run
    world.zendesk.agent_comment(ticket["id"], "On it", author_id=AGENT_ID)
    before = len(world.slack.calls("POST", r"/api/chat\.postMessage$"))
    poll(bot)
    world.slack.wait_for_calls("POST", r"/api/chat\.postMessage$", count=before + 1)
    bot.stop()
    world.slack.clear_faults()
    again = make_bot()
    wait_reply(world, ts, "Zoe Zendesk (Zendesk): On it")
    poll(again)  # the cursor moved with the queued post: the comment is not read again
    settled(again)
    assert sum("On it" in text for text in bot_replies(world, ts)) == 1


def test_slack_rate_limit_on_a_post_delays_it_once(bot, world):
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=1, times=2)  # the client's retry too
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "VPN down")
    wait_reply(world, ts, "Secondary on call")
    settled(bot)
    assert sum("your new support request" in text for text in bot_replies(world, ts)) == 1


def test_a_bad_support_setting_stops_startup_with_one_line(world):
    env = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test", SUPPORT_OFFICE_HOURS="9 to 5")}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("switchboard: SUPPORT_OFFICE_HOURS: expected days, hours")


def test_paced_posts_wait_in_the_outbox_and_keep_their_order(bot, world):
    """Slack's one post per second per channel: the wait is a RetryLater, so nothing sleeps in the outbox job."""
    # 4 s, not Slack's 1 s: the second post must fall inside the window even on a loaded machine
    bot.runtime.services["support"].poster.pace_seconds = 4.0
    ts, _ = open_request(world, "Printer on fire")  # link, then the on-call notice, a pace apart
    replies = wait_reply(world, ts, "Primary on call")
    assert "your new support request is" in replies[0] and "Primary on call" in replies[1]
    paced = bot.runtime.store.query("SELECT key FROM outbox WHERE last_error = 'pacing posts to C0SUPPORT'")
    assert paced  # the second post had to wait its turn: a "not now", not a failure
    world.slack.wait_for(
        lambda: bot.runtime.store.scalar(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'support.post' AND (state != 'done' OR failures > 0)"
        )
        == 0,
        message="every post effect done without a failure",
    )
    assert len(bot_replies(world, ts)) == 2
