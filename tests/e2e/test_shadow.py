"""Shadow mode: read and decide everything, write nothing, record it all; turning it off acts on nothing old."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from bot.settings import ROOT
from sandbox.world import World
from tests.e2e.test_dispatch import self_service, submit
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

