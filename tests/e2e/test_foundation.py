"""The foundation end to end: the real bot over Socket Mode against the loopback fakes."""

import os
import signal
import subprocess
import sys
import time

import yaml

from bot.check import run_checks
from bot.settings import ROOT
from bot.wiring import SPECS
from listeners.commands import command_names
from listeners.events import EVENTS

PYTHON = sys.executable


def test_slash_command_round_trip_over_socket_mode(bot):
    envelope = bot.slack.slash_command("U0BOB", "C0OPS", "/switchboard", "help")
    ack = bot.slack.wait_for_ack(envelope)
    assert ack["envelope_id"] == envelope
    bot.slack.wait_for(lambda: bot.slack.responses, message="the answer posted to response_url")
    assert "/switchboard status" in bot.slack.responses[0]["body"]["text"]


def test_status_lists_capabilities_and_jobs(bot):
    text = bot.command_reply("U0BOB", "C0OPS", "/switchboard", "status")
    assert "oncall: on" in text
    assert "housekeeping" in text


def test_unknown_subcommand_gets_a_friendly_answer(bot):
    text = bot.command_reply("U0BOB", "C0OPS", "/switchboard", "frobnicate")
    assert text.startswith("I don't know `frobnicate`.")


def test_home_tab_shows_capabilities_and_job_health(bot):
    def broken() -> None:
        raise RuntimeError("PagerDuty said 503")

    bot.runtime.scheduler.add("demo-sync", broken)
    bot.runtime.scheduler.run_now("demo-sync")
    bot.slack.wait_for(
        lambda: bot.runtime.store.scalar("SELECT COUNT(*) FROM job_runs WHERE job='demo-sync' AND ok=0"),
        message="the failed run recorded",
    )
    bot.slack.open_home("U0ALICE")
    bot.slack.wait_for_calls("POST", r"/api/views\.publish$")
    view = bot.slack.home_view("U0ALICE")
    text = str(view)
    assert "Switchboard health" in text
    assert "On-call topics and usergroups*: on" in text
    assert "*demo-sync* (on demand) — failing" in text
    assert "PagerDuty said 503" in text
    assert "*core.housekeeping* (every 3600s) — ok" in text and "last success" in text and "next run in" in text
    assert "failed job runs 1" in text


def test_redelivered_event_is_handled_once(bot):
    first = bot.slack.open_home("U0ALICE")
    bot.slack.wait_for_ack(first)
    bot.slack.wait_for_calls("POST", r"/api/views\.publish$", count=1)
    again = bot.slack.redeliver(first, retry_attempt=1, retry_reason="timeout")
    bot.slack.wait_for_ack(again)
    fresh = bot.slack.open_home("U0BOB")
    bot.slack.wait_for_ack(fresh)
    bot.slack.wait_for_calls("POST", r"/api/views\.publish$", count=2)
    publishes = [r.json or r.form for r in bot.slack.calls("POST", r"/api/views\.publish$")]
    assert sorted(p["user_id"] for p in publishes) == ["U0ALICE", "U0BOB"]
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM slack_events") == 2


def test_bot_reconnects_after_the_socket_drops(bot):
    opens = len(bot.slack.calls("POST", r"/api/apps\.connections\.open$"))
    bot.slack.drop_socket()
    bot.slack.wait_for(
        lambda: len(bot.slack.calls("POST", r"/api/apps\.connections\.open$")) > opens and bot.slack.connection_count,
        timeout=30,
        message="a new Socket Mode connection",
    )
    assert "/switchboard status" in bot.command_reply("U0BOB", "C0OPS", "/switchboard", "help")


def test_manifest_lists_exactly_the_registered_commands_and_events():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert commands == command_names(SPECS)
    listened = {"message" if e.startswith("message.") else e for e in events}
    assert listened == set(EVENTS)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in (ROOT / "manifest.yml").read_text()


def test_every_manifest_command_is_acked(bot):
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    for entry in manifest["features"]["slash_commands"]:
        assert bot.command("U0BOB", "C0OPS", entry["command"], "help")["envelope_id"]


def test_check_reports_ok_and_fail_against_the_fakes(world):
    results = {
        r.integration: r for r in run_checks(world.settings(GITHUB_TOKEN="ghp_wrong", SWITCHBOARD_RETRY_PROFILE="test"))
    }
    assert set(results) == {"Slack", "PagerDuty", "Zendesk", "Jira", "GitHub", "Statuspage"}
    assert [name for name, r in results.items() if not r.ok] == ["GitHub"]
    assert "401" in results["GitHub"].reason
    assert results["Slack"].reason.startswith("bot UBOT")


def test_check_command_prints_a_table_and_fails_on_a_bad_token(world):
    env = {**os.environ, **world.env(STATUSPAGE_API_KEY="wrong", SWITCHBOARD_RETRY_PROFILE="test")}
    result = subprocess.run([PYTHON, "app.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["integration", "result", "reason"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows == {
        "Slack": "OK",
        "PagerDuty": "OK",
        "Zendesk": "OK",
        "Jira": "OK",
        "GitHub": "OK",
        "Statuspage": "FAIL",
    }


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAGERDUTY_", "ZENDESK_"))}
    return env


def test_run_without_tokens_exits_1_with_one_line(tmp_path):
    result = subprocess.run(
        [PYTHON, str(ROOT / "app.py")], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set" in result.stderr
    assert "python app.py sandbox" in result.stderr


def test_malformed_setting_stops_startup_naming_it(tmp_path):
    env = {**clean_env(), "SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y", "GITHUB_REPO": "no-slash"}
    result = subprocess.run(
        [PYTHON, str(ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "switchboard: GITHUB_REPO must be owner/name, such as acme/alerts, got 'no-slash'"


def test_sigterm_shuts_down_cleanly(world):
    env = {**os.environ, **world.env(SWITCHBOARD_RETRY_PROFILE="test")}
    process = subprocess.Popen(
        [PYTHON, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        world.slack.wait_connected(timeout=30)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopped" in stderr
    world.slack.wait_for(lambda: world.slack.connection_count == 0, message="the socket closed")


def test_sandbox_plays_the_tour_and_keeps_running(tmp_path):
    env = {**clean_env(), "SWITCHBOARD_SANDBOX_DIR": str(tmp_path / "sandbox"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [PYTHON, "app.py", "sandbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if "The tour is over" in line:
                break
        assert process.poll() is None, "the sandbox keeps running after the tour"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    transcript = "\n".join(lines)
    assert "[#ops] bob: /switchboard status" in transcript
    assert "(only bob sees) Switchboard:" in transcript
    assert "[Home tab of alice] updated" in transcript
    assert "GitHub" in transcript and "OK" in transcript
    assert process.returncode == 0


def test_sandbox_interactive_lets_a_person_run_commands(tmp_path):
    env = {**clean_env(), "SWITCHBOARD_SANDBOX_DIR": str(tmp_path / "sandbox"), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [PYTHON, "app.py", "sandbox", "--interactive", "--no-tour"],
        cwd=ROOT,
        env=env,
        input=":as carol\n/switchboard help\n:in nowhere\n:quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "(only carol sees) Switchboard: *Switchboard* — `/switchboard status`" in result.stdout
    assert "No channel 'nowhere'" in result.stdout


def test_one_person_cannot_run_capability_commands_past_the_pace(bot):
    for _ in range(10):
        assert bot.command_reply("U0BOB", "C0OPS", "/statuspage", "help").startswith("*Status page*")
    too_fast = bot.command_reply("U0BOB", "C0OPS", "/statuspage", "help")
    assert too_fast.startswith("You're running commands quickly: try again in ")
    assert bot.command_reply("U0CAROL", "C0OPS", "/statuspage", "help").startswith("*Status page*")
