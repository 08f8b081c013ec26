"""A database written by the previous version (tests/upgrade/previous_version.sql: identifiers such as
`oncall-sync`, `jira_sync:cursor`, `incidents_slack_post`) upgrades with nothing lost and nothing done twice."""

import sqlite3
from pathlib import Path

from bot.wiring import open_store

PREVIOUS = Path(__file__).with_name("previous_version.sql")


def restore_previous(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(PREVIOUS.read_text())
    conn.close()


def test_upgrade_renames_identifiers_and_keeps_every_value(world):
    settings = world.settings()
    restore_previous(settings.database_file)
    store = open_store(settings)
    try:
        state = {row["key"]: row["value"] for row in store.query("SELECT key, value FROM state")}
        assert state["jira_sync.cursor"] == "1795999000.5"
        assert state["support.poll.cursor"] == "1795990000"
        assert state["statuspage.last_audit_at"] == "1795999970.0"
        assert state["dispatch.channel.U0BOB"] == "D0BOBDM"
        assert '"at": 1795999940.0' in state["oncall.last_sync"]
        assert not [key for key in state if ":" in key or "-" in key]
        jobs = {row["job"] for row in store.query("SELECT DISTINCT job FROM job_runs")}
        assert jobs == {
            "core.housekeeping",
            "core.outbox",
            "oncall.sync",
            "oncall.write",
            "dispatch.timeouts",
            "support.poll",
            "support.report",
            "statuspage.reconcile",
            "incidents.poll",
            "jira_sync.poll",
        }
        kinds = {row["key"]: row["kind"] for row in store.query("SELECT key, kind FROM outbox")}
        assert kinds == {
            "oncall:handoff:upgrade-1": "oncall.handoff_dm",
            "slack:upgrade-1": "incidents.slack_post",
            "slack:upgrade-done": "incidents.slack_post",
        }
        assert store.scalar("SELECT log_cursor FROM pd_accounts WHERE name = 'default'") == 1795999500.0
    finally:
        store.close()


def test_pending_effects_of_the_previous_version_are_done_once(world, make_bot):
    restore_previous(world.settings().database_file)
    bot = make_bot()
    dm = world.slack.wait_for(lambda: world.slack.dm_messages("U0CAROL"), message="the hand-off DM queued before")
    world.slack.wait_for_message("C0OPS", lambda m: m["text"] == "upgrade test: incident note")
    bot.runtime.scheduler.run_and_wait("core.outbox")
    assert [m["text"] for m in dm] == ["upgrade test: you are now on call"]
    assert len(world.slack.dm_messages("U0CAROL")) == 1
    posts = [m["text"] for m in world.slack.messages("C0OPS") if m["text"].startswith("upgrade test")]
    assert posts == ["upgrade test: incident note"]  # the effect already done before the upgrade is not redone
    states = {row["key"]: row["state"] for row in bot.runtime.store.query("SELECT key, state FROM outbox")}
    assert states["oncall:handoff:upgrade-1"] == states["slack:upgrade-1"] == "done"
