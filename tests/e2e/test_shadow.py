"""Shadow mode: read and decide everything, write nothing, record it all; turning it off acts on nothing old."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from bot.settings import ROOT
from sandbox.world import World
from tests.e2e.test_dispatch import self_service, submit
from tests.e2e.test_oncall import ALICE, on_call_now, oncall
from tests.e2e.test_statuspage import page

SLACK_WRITES = (
    r"/api/(chat\.(postMessage|update|delete|postEphemeral)|conversations\.setTopic|usergroups\.users\.update|"
    r"reactions\.add)$"
)


def vendor_writes(world: World) -> dict[str, int]:
    """Every write request each emulator received (Slack's Web API is all POST: its write methods by name)."""
    written = {"slack": len(world.slack.calls("POST", SLACK_WRITES))}
    for fake in (world.pagerduty, world.zendesk, world.github, world.jira, world.statuspage):
        written[fake.name] = sum(len(fake.calls(method)) for method in ("POST", "PUT", "PATCH", "DELETE"))
    return written


def recorded(bot: Any, kind_prefix: str) -> list[dict[str, Any]]:
    return bot.runtime.store.query("SELECT * FROM shadow_effects WHERE kind LIKE ?", [f"{kind_prefix}%"])


def test_a_shadow_run_writes_nothing_and_records_every_would_be_effect(world, make_bot):
    bot = make_bot(SWITCHBOARD_SHADOW="true", INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600")
    before = vendor_writes(world)
    world.slack.post_message("U0BOB", "C0SUPPORT", "The VPN is down for everyone")
    submit(bot, self_service("shadow-1"))
    page(world, "sp0api", "Checkout down", priority="P1")
    bot.runtime.scheduler.run_and_wait("incidents.poll")
    for prefix in ("support.create_ticket", "dispatch.", "statuspage.open", "jira_sync.create"):
        world.slack.wait_for(lambda prefix=prefix: recorded(bot, prefix), message=f"a recorded {prefix} effect")
    report = bot.command_reply("U0ALICE", "C0SUPPORT", "/support", "report")
    assert report.startswith("(shadow) ")
    bot.drain_outbox()
    assert vendor_writes(world) == before
    states = {r["state"] for r in bot.runtime.store.query("SELECT state FROM outbox WHERE kind != 'test.kept'")}
    assert states <= {"shadowed", "done"}

    environ = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test")}
    printed = subprocess.run(
        [sys.executable, "app.py", "shadow", "report", "--since", "1h"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False,
    )
    assert printed.returncode == 0, printed.stderr
    for capability in ("support", "dispatch", "statuspage", "jira_sync"):
        assert f"\n{capability} (" in printed.stdout
    assert "opening the Statuspage incident for component" in printed.stdout

    bot.stop()
    after = make_bot(INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600")  # shadow off
    after.runtime.scheduler.run_and_wait("incidents.poll")
    after.drain_outbox()
    writes = vendor_writes(world)
    assert writes["zendesk"] == before["zendesk"]  # the message seen in shadow: the old tool answered it
    assert writes["github"] == before["github"]  # the alarm seen in shadow: not acted on later
    assert len(world.statuspage.calls("POST")) == 1  # the status incident is state: still current, so opened once
    assert writes["jira"] == before["jira"]  # the P1's issue was the old tool's to make
    link = after.runtime.store.query_one("SELECT state FROM jira_links")
    assert link["state"] == "shadowed"



def test_on_call_in_shadow_writes_no_topic_and_writes_what_still_differs_afterwards(world, make_bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    world.slack.add_usergroup("S0TSTOPS", "ops-oncall", users=["U0DAVE"])
    bot = make_bot(SHADOW_CAPABILITIES="oncall")
    answer = oncall(bot, "link PTSTPRI <!subteam^S0TSTOPS|@ops-oncall> C0OPS")
    assert answer.startswith("(shadow) ")
    bot.runtime.scheduler.run_and_wait("oncall.sync")
    bot.runtime.scheduler.run_and_wait("oncall.write")
    world.slack.wait_for(lambda: recorded(bot, "oncall.topic"), message="the recorded topic")
    world.slack.wait_for(lambda: recorded(bot, "oncall.usergroup_members"), message="the recorded members")
    assert not world.slack.calls("POST", r"/api/(conversations\.setTopic|usergroups\.users\.update)$")
    assert world.slack.topic("C0OPS") == "" and world.slack.usergroup_members("S0TSTOPS") == ["U0DAVE"]
    assert oncall(bot, "").startswith("*Primary*: <@U0ALICE> since")  # reading answers are not "(shadow)"

    bot.stop()
    after = make_bot()  # shadow off: the topic is read again and what still differs is written, once
    world.slack.wait_for(lambda: world.slack.topic("C0OPS") == "<@U0ALICE> is on-call for Primary", message="topic")
    world.slack.wait_for(lambda: world.slack.usergroup_members("S0TSTOPS") == ["U0ALICE"], message="members")
    after.runtime.scheduler.run_and_wait("oncall.write")
    assert len(world.slack.calls("POST", r"/api/conversations\.setTopic$")) == 1
    assert len(world.slack.calls("POST", r"/api/usergroups\.users\.update$")) == 1
