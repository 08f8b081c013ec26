"""Operating the bot: health from another process, Socket Mode resilience."""

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time

from bot.health import check
from bot.logs import JsonFormatter
from bot.settings import ROOT
from bot.wiring import housekeeping

PYTHON = sys.executable


def health(world, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test", **env)}
    return subprocess.run(
        [PYTHON, "app.py", "health"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def test_health_is_ok_while_the_bot_runs_and_says_why_when_not(world, make_bot, tmp_path):
    bot = make_bot()
    running = health(world)
    assert running.returncode == 0, running.stderr
    assert running.stdout.startswith("switchboard health: ok: connected")
    elsewhere = tmp_path / "elsewhere.db"
    nothing = health(world, DATABASE_PATH=str(elsewhere))
    assert nothing.returncode == 1 and not elsewhere.exists()
    assert nothing.stderr.strip() == (
        f"switchboard health: no database at {elsewhere}: is the bot running with this DATABASE_PATH?"
    )
    bot.stop()

    def unhealthy() -> subprocess.CompletedProcess | None:
        result = health(world)  # the last heartbeat ages out after three intervals (1.5 s in the test profile)
        return result if result.returncode == 1 else None

    stopped = world.slack.wait_for(unhealthy, message="the stale heartbeat", timeout=30)
    assert "no heartbeat for" in stopped.stderr and "the bot is stopped or stuck" in stopped.stderr


def test_refused_reconnects_back_off_and_health_reports_the_lost_connection(bot, world):
    opens = len(world.slack.calls("POST", r"/api/apps\.connections\.open$"))
    world.slack.inject_fault(r"/api/apps\.connections\.open$", 500, times=-1)
    world.slack.drop_socket()
    runner = bot.bot
    world.slack.wait_for(lambda: len(runner.backoff.delays) >= 3, timeout=30, message="three refused reconnects")
    assert runner.backoff.failures >= 3
    store = bot.runtime.store
    world.slack.wait_for(lambda: not check(store)[0], timeout=10, message="health to see the lost connection")
    assert check(store)[1] == "not connected to Slack (Socket Mode is reconnecting)"
    tried = len(world.slack.calls("POST", r"/api/apps\.connections\.open$")) - opens
    assert tried <= len(runner.backoff.delays) + 1  # one try per wait, not one per monitor tick
    world.slack.clear_faults()
    world.slack.wait_for(lambda: world.slack.connection_count, timeout=30, message="the reconnection")
    world.slack.wait_for(lambda: check(store)[0], timeout=10, message="health to recover")
    world.slack.open_home("U0ALICE")
    world.slack.wait_for(lambda: world.slack.home_view("U0ALICE"), message="the Home tab")
    assert "Socket Mode reconnects (24 h) 1" in str(world.slack.home_view("U0ALICE"))


def test_a_second_connection_with_the_same_token_is_warned_about(world, make_bot, caplog):
    make_bot()
    caplog.set_level(logging.WARNING, logger="bot.runner")
    make_bot()

    def warned() -> bool:
        return any("Slack reports 2 open connections for this app" in r.getMessage() for r in caplog.records)

    world.slack.wait_for(warned, message="the warning about a second connection")


def test_json_logs_follow_one_command_from_its_envelope_to_the_work_after_the_ack(bot, world):
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        world.pagerduty.inject_fault(r"^/schedules", 500, times=-1)
        envelope = bot.slack.slash_command("U0BOB", "C0OPS", "/oncall", "PTSTPRI")
        bot.slack.wait_for_ack(envelope)
        world.slack.wait_for(lambda: "PagerDuty failed" in lines.getvalue(), message="the command's warning")
    finally:
        root.removeHandler(handler)
    entries = [json.loads(line) for line in lines.getvalue().splitlines()]
    failed = next(e for e in entries if "PagerDuty failed" in e["message"])
    assert failed["level"] == "WARNING" and failed["logger"] == "bot.oncall.commands"
    assert failed["capability"] == "oncall"
    assert failed["envelope_id"] == envelope
    assert failed["request_id"]  # the command's trigger ID
    assert failed["time"].endswith("Z")


def test_backup_while_the_bot_runs_is_a_consistent_private_copy(bot, world, tmp_path):
    for number in range(50):  # the outbox is busy while the copy is made
        bot.runtime.outbox.enqueue(f"test.backup:{number}", "test.unknown", {"n": number})
    target = tmp_path / "copy.db"
    environ = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test")}
    result = subprocess.run(
        [PYTHON, "app.py", "backup", str(target)], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"backed up to {target} (") and result.stdout.strip().endswith(" bytes)")
    assert target.stat().st_mode & 0o777 == 0o600
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT COUNT(*) FROM outbox WHERE key LIKE 'test.backup:%'").fetchone() == (50,)
        versions = copy.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    finally:
        copy.close()
    assert versions == bot.runtime.store.schema_version


def alerts_in(world, channel: str) -> list[dict]:
    return [m for m in world.slack.messages(channel) if "gave up on" in m.get("text", "")]


def test_work_that_fails_for_good_is_alerted_with_a_retry_button_for_admins(world, make_bot):
    bot = make_bot(SWITCHBOARD_ALERT_CHANNEL="C0OPS")
    lost = {"user": "U0NOBODY", "text": "You are now on call"}  # no such user: Slack refuses the DM for good
    bot.runtime.outbox.enqueue("oncall:handoff:lost", "oncall.handoff_dm", lost)
    alert = world.slack.wait_for(lambda: alerts_in(world, "C0OPS"), message="the failure alert")[0]
    assert "*On-call topics and usergroups* gave up on: the hand-off DM to <@U0NOBODY>" in alert["text"]
    assert "Last error: `" in alert["text"]
    assert "/switchboard failed" not in alert["text"]
    listed = bot.command_reply("U0ALICE", "C0OPS", "/switchboard", "failed")
    assert listed.startswith("*1 effect(s) failed for good*") and "the hand-off DM to <@U0NOBODY>" in listed
    assert bot.command_reply("U0BOB", "C0OPS", "/switchboard", "failed").startswith("Only Switchboard admins")

    before = len(world.slack.responses)
    world.slack.click_button("U0BOB", "C0OPS", alert["ts"], "core.retry_effect")
    world.slack.wait_for(lambda: len(world.slack.responses) > before, message="the answer to a non-admin")
    assert world.slack.responses[before]["body"]["text"].startswith("Only Switchboard admins")
    assert bot.runtime.outbox.get("oncall:handoff:lost").state == "failed"

    world.slack.click_button("U0ALICE", "C0OPS", alert["ts"], "core.retry_effect")
    world.slack.wait_for(lambda: len(alerts_in(world, "C0OPS")) == 2, message="the retry, failing again")
    effect = bot.runtime.outbox.get("oncall:handoff:lost")
    assert effect.key == "oncall:handoff:lost" and effect.state == "failed" and effect.attempts == 2


def test_without_an_alert_channel_each_admin_gets_a_dm(world, make_bot):
    bot = make_bot(SWITCHBOARD_ADMINS="U0ALICE,U0CAROL")
    bot.runtime.outbox.enqueue("oncall:handoff:lost", "oncall.handoff_dm", {"user": "U0NOBODY", "text": "hi"})
    for admin in ("U0ALICE", "U0CAROL"):
        world.slack.wait_for(
            lambda admin=admin: [m for m in world.slack.dm_messages(admin) if "gave up on" in m["text"]],
            message=f"the DM to {admin}",
        )
    assert not [m for m in world.slack.dm_messages("U0BOB") if "gave up on" in m["text"]]


def test_housekeeping_prunes_what_grows_and_keeps_what_is_still_needed(bot):
    store = bot.runtime.store
    now = time.time()
    old, recent = now - 91 * 86400, now - 86400
    with store.write() as db:
        for key, state, done_at in [
            ("old-done", "done", old),
            ("recent-done", "done", recent),
            ("old-failed", "failed", old),
            ("old-pending", "pending", None),
        ]:
            db.conn.execute(
                "INSERT INTO outbox (key, kind, payload, state, attempts, next_attempt_at, created_at, done_at) "
                "VALUES (?, 'test.kept', '{}', ?, 1, ?, ?, ?)",
                [f"test.prune:{key}", state, now + 86400, old, done_at],
            )
        db.conn.execute("INSERT INTO statuspage_suppressed VALUES ('sp0api', 'default/P1', ?)", [old])
        db.conn.execute("INSERT INTO statuspage_suppressed VALUES ('sp0api', 'default/P2', ?)", [recent])
        db.conn.execute("INSERT INTO jira_forwarded_notes VALUES ('default', 'N1', 1, ?)", [old])
        db.conn.execute("INSERT INTO slack_user_cache VALUES ('gone@x.example', NULL, ?)", [now - 1])
        for alert_id, state, created in [(901, "closed", old), (902, "awaiting_answer", old), (903, "closed", recent)]:
            db.conn.execute(
                "INSERT INTO dispatch_alerts (id, request_id, type, requested_type, source, message, title, state, "
                "created_at, updated_at) VALUES (?, ?, 'broadcast', 'broadcast', 'test', '{}', 't', ?, ?, ?)",
                [alert_id, f"prune-{alert_id}", state, created, created],
            )
            recipient = (
                "INSERT INTO dispatch_recipients (alert_id, position, destination, state) VALUES (?, 0, 'U', 'sent')"
            )
            db.conn.execute(recipient, [alert_id])
            history = "INSERT INTO dispatch_history (alert_id, at, event) VALUES (?, ?, 'sent')"
            db.conn.execute(history, [alert_id, created])
    deleted = housekeeping(bot.runtime, now)
    assert deleted["outbox"] == 1 and deleted["statuspage"] == 1 and deleted["jira_sync"] == 1
    assert deleted["slack_user_cache"] == 1
    kept = {row["key"] for row in store.query("SELECT key FROM outbox WHERE key LIKE 'test.prune:%'")}
    assert kept == {"test.prune:recent-done", "test.prune:old-failed", "test.prune:old-pending"}
    assert store.scalar("SELECT pd_incident FROM statuspage_suppressed") == "default/P2"
    assert deleted["dispatch"] == 3  # the old finished alert, its recipient and its history
    assert [r["id"] for r in store.query("SELECT id FROM dispatch_alerts WHERE id > 900 ORDER BY id")] == [902, 903]


def test_the_home_tab_of_a_large_install_stays_within_slack_limits(bot, world):
    for number in range(150):
        bot.runtime.scheduler.add(f"test.job_{number:03d}", lambda: None)
    world.slack.open_home("U0ALICE")
    world.slack.wait_for(lambda: world.slack.home_view("U0ALICE"), message="the Home tab")
    view = world.slack.home_view("U0ALICE")
    assert len(view["blocks"]) == 100 and not world.slack.refusals()
    assert view["blocks"][-1]["elements"][0]["text"].endswith("more: `/switchboard status` lists every job")
    before = len(world.slack.responses)
    bot.command("U0ALICE", "C0OPS", "/switchboard", "status")

    def answer() -> str:
        bodies = [r["body"] for r in world.slack.responses[before:]]
        return "\n".join(b.get("text", "") + str(b.get("blocks", "")) for b in bodies)

    world.slack.wait_for(lambda: "test.job_149" in answer(), message="the whole status answer")
    assert all(f"test.job_{n:03d}" in answer() for n in range(150)) and not world.slack.refusals()
