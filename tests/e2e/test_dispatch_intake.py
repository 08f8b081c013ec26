"""Dispatch intakes end to end: `app.py dispatch`, the HTTP intake, `/dispatch`, and crashes between steps."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

from bot.outbox import OUTBOX_JOB
from bot.settings import ROOT
from tests.e2e.test_dispatch import (
    ENV,
    REPO,
    alert,
    dispatch_bot,
    dm_messages,
    incidents,
    self_service,
    wait_prompt,
    wait_state,
)

PYTHON = sys.executable
TOKEN = "s3cret-intake-token-for-the-tests-only"  # DISPATCH_TOKEN needs at least 32 characters


def env_for(world: Any, **overrides: str) -> dict[str, str]:
    return {**os.environ, **world.env(**{**ENV, "SWITCHBOARD_RETRY_PROFILE": "test", **overrides})}


def run_cli(world: Any, *args: str, stdin: str | None = None, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "app.py", "dispatch", *args],
        cwd=ROOT,
        env=env_for(world, **overrides),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(port: int, body: bytes, token: str | None = TOKEN, path: str = "/dispatch", method: str = "POST"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def counts(bot: Any) -> tuple[int, int]:
    store = bot.runtime.store
    return store.scalar("SELECT COUNT(*) FROM dispatch_alerts"), store.scalar("SELECT COUNT(*) FROM dispatch_rejects")


# --- python app.py dispatch -------------------------------------------------------------------------------


def test_cli_hands_the_message_to_the_running_bot(make_bot, world, tmp_path):
    bot = dispatch_bot(make_bot)
    message = tmp_path / "alarm.json"
    message.write_text(json.dumps(self_service("cli-1")))
    result = run_cli(world, str(message))
    assert (result.returncode, result.stdout, result.stderr) == (0, "cli-1\n", "")
    wait_prompt(bot, "U0BOB")  # the running bot picked it up from SQLite and owns the buttons
    assert alert(bot, "cli-1")["source"] == "cli"
    again = run_cli(world, "-", stdin=json.dumps(self_service("cli-1")))
    assert again.returncode == 0 and again.stdout == "cli-1\n" and "already received" in again.stderr
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert len(dm_messages(bot, "U0BOB")) == 2  # routed once: one message and one prompt


def test_cli_prints_every_validation_error_and_exits_2(make_bot, world):
    bot = dispatch_bot(make_bot)
    bad = {"type": "self-service", "users": [{"slackId": "bob"}], "body": {"github": {"title": 5}, "slack": {}}}
    result = run_cli(world, "-", stdin=json.dumps(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "users[0].slackId must be a Slack user ID such as U012AB3CD, got 'bob'",
        "body.github.title must be a string",
        "body.github.body is required for self-service",
        "body.slack.message is required for self-service",
        "body.slack.prompt is required for self-service",
        "body.slack.actions.yes is required for self-service",
        "body.slack.actions.no is required for self-service",
    ]
    for text, expected in [
        (
            "{not json",
            "message is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2",
        ),
        ('{"requestId": "x"}', "type is required (one of self-service, broadcast, high-priority, low-priority, nag)"),
        ("[1, 2]", "message must be a JSON object, got list"),
    ]:
        result = run_cli(world, "-", stdin=text)
        assert (result.returncode, result.stderr.strip()) == (2, expected)
    assert counts(bot) == (0, 4)  # nothing routed; every rejected message kept as a dead letter


def test_cli_reports_an_unreadable_file_and_a_switched_off_dispatch(world, tmp_path):
    missing = run_cli(world, str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "No such file" in missing.stderr
    off = run_cli(world, "-", stdin="{}", GITHUB_TOKEN="")
    assert off.returncode == 1 and off.stderr.strip() == "switchboard: dispatch is off; set GITHUB_TOKEN"
    bad_setting = run_cli(world, "-", stdin="{}", SLACK_DEFAULT_CHANNEL="ops channel")
    assert bad_setting.returncode == 1
    assert bad_setting.stderr.strip().startswith("switchboard: SLACK_DEFAULT_CHANNEL must be a channel name")


# --- the HTTP intake --------------------------------------------------------------------------------------


def test_http_intake_needs_the_token_and_answers_202_or_400(make_bot, world):
    port = free_port()
    bot = dispatch_bot(make_bot, DISPATCH_HTTP_PORT=str(port), DISPATCH_TOKEN=TOKEN)
    body = json.dumps(self_service("http-1")).encode()
    assert post(port, body, token=None)[0] == 401
    assert post(port, body, token="wrong")[0] == 401
    assert counts(bot) == (0, 0)  # a caller without the token stores nothing
    assert post(port, body) == (202, {"requestId": "http-1"})
    wait_prompt(bot, "U0BOB")
    assert post(port, body) == (202, {"requestId": "http-1", "duplicate": True})
    status, answer = post(port, json.dumps({"type": "high"}).encode())
    assert (status, answer) == (400, {"errors": ["body.pagerduty.title is required for high-priority"]})
    assert post(port, b"{oops")[0] == 400
    assert post(port, b"", method="GET")[0] == 405
    assert post(port, body, path="/elsewhere")[0] == 404
    assert counts(bot) == (1, 2)
    assert alert(bot, "http-1")["source"] == "http"


def test_http_intake_is_off_by_default_and_needs_a_token_when_on(make_bot, world):
    bot = dispatch_bot(make_bot)
    assert bot.runtime.services["dispatch"].intake is None
    env = env_for(world, DISPATCH_HTTP_PORT=str(free_port()))
    result = subprocess.run([PYTHON, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "switchboard: DISPATCH_TOKEN is required when DISPATCH_HTTP_PORT is set (the intake's bearer token)"
    )


# --- /dispatch --------------------------------------------------------------------------------------------


def test_dispatch_confirm_and_page_from_slack(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0BOB")  # Bob may page
    reply = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "confirm <@U0BOB|bob> did you restart db-1?")
    assert reply.startswith("Dispatch `") and "<@U0BOB> is asked to confirm" in reply
    rid = reply.split("`")[1]
    prompt = wait_prompt(bot, "U0BOB", "Can you confirm this?")
    assert [b["text"]["text"] for b in prompt["blocks"][1]["elements"]] == ["Yes", "No"]
    assert dm_messages(bot, "U0BOB")[0]["text"] == "<@U0ALICE> asked me to check with you: did you restart db-1?"
    assert world.github.issues(REPO)[0]["title"] == f"did you restart db-1? ({rid})"

    page = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "page Checkout is down")
    page_id = page.split("`")[1]
    wait_state(bot, page_id, "escalated")
    [incident] = incidents(bot)
    assert incident["title"] == "Checkout is down" and incident["service"]["id"] == ENV["PAGERDUTY_SERVICE_ID"]


def test_a_redelivered_dispatch_command_is_routed_once(make_bot, world):
    bot = dispatch_bot(make_bot)
    envelope = world.slack.slash_command("U0ALICE", "C0OPS", "/dispatch", "confirm <@U0BOB|bob> did you reboot db-2?")
    world.slack.wait_for_ack(envelope)
    wait_prompt(bot, "U0BOB", "Can you confirm this?")
    before = len(world.slack.responses)
    world.slack.wait_for_ack(world.slack.redeliver(envelope))  # the same payload (same trigger_id) again
    world.slack.wait_for(lambda: len(world.slack.responses) > before, message="the answer to the redelivery")
    assert "was already received; it was not sent again" in world.slack.responses[before]["body"]["text"]
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert counts(bot) == (1, 0) and len(world.github.issues(REPO)) == 1 and len(dm_messages(bot, "U0BOB")) == 2


def test_dispatch_broadcast_expands_usergroups_and_reports_status(make_bot, world):
    world.slack.add_usergroup("S0SRE", "sre", users=["U0CAROL", "U0DAVE"])
    bot = dispatch_bot(make_bot)
    reply = bot.command_reply(
        "U0ALICE", "C0OPS", "/dispatch", "broadcast <@U0BOB> <!subteam^S0SRE|@sre> Freeze deploys"
    )
    assert "3 people get a DM" in reply
    rid = reply.split("`")[1]
    wait_state(bot, rid, "notified")
    for user in ("U0BOB", "U0CAROL", "U0DAVE"):
        assert dm_messages(bot, user)[0]["text"] == ":mega: Broadcast from <@U0ALICE>: Freeze deploys"
    status = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", f"status {rid}")
    assert "Acknowledged (0/3): nobody yet" in status
    latest = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "status")
    assert latest.startswith("*Latest dispatch alerts*") and rid in latest


def test_dispatch_bad_input_gets_a_precise_answer_and_changes_nothing(make_bot, world):
    bot = dispatch_bot(make_bot, PAGERDUTY_SERVICE_ID="", DISPATCH_ALLOWED_USERS="U0BOB")
    answers = {
        "confirm hello": "Usage: `/dispatch confirm @user <what to confirm>`",
        "broadcast": "Usage: `/dispatch broadcast @a @b @team <message>`",
        "page": "Usage: `/dispatch page <title>`",
        "status nope": "No dispatch alert has requestId `nope`.",
        "frobnicate": "I don't know `frobnicate`.",
        "page DB down": "I couldn't send that:\n• pagerDutyServiceId is required: PAGERDUTY_SERVICE_ID is not set",
        "json {}": "I couldn't send that:\n• type is required (one of self-service,",
    }
    for text, expected in answers.items():
        assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", text).startswith(expected), text
    assert counts(bot) == (0, 2)
    help_text = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "help")
    assert help_text.startswith("*Dispatch*") and "/dispatch confirm @user" in help_text


def test_dispatch_json_lets_an_admin_send_a_raw_message(make_bot, world):
    bot = dispatch_bot(make_bot)
    raw = json.dumps({"type": "high", "requestId": "raw-1", "body": {"pagerduty": {"title": "Raw page"}}})
    reply = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "json " + raw.replace('"', "\u201c", 1))
    assert reply.startswith("Dispatch `raw-1` accepted")
    wait_state(bot, "raw-1", "escalated")


def test_dispatch_allowed_users_limits_who_may_send(make_bot, world):
    world.slack.add_usergroup("S0ONCALL", "oncall", users=["U0CAROL"])
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0BOB,S0ONCALL")
    refused = bot.command_reply("U0DAVE", "C0OPS", "/dispatch", "page Nope")
    assert refused == "Only Switchboard admins and DISPATCH_ALLOWED_USERS can page or broadcast."
    refused = bot.command_reply("U0DAVE", "C0OPS", "/dispatch", "confirm <@U0BOB> ok?")
    assert refused.startswith("Sorry, you are not allowed to use `/dispatch` here")
    assert bot.command_reply("U0DAVE", "C0OPS", "/dispatch", "help").startswith("*Dispatch*")
    for user in ("U0BOB", "U0CAROL", "U0ALICE"):  # listed, in a listed usergroup, an admin
        assert bot.command_reply(user, "C0OPS", "/dispatch", f"page From {user}").startswith("Dispatch `"), user
    assert counts(bot) == (3, 0)


# --- crashes between steps --------------------------------------------------------------------------------


def start_bot_process(world: Any) -> subprocess.Popen:
    process = subprocess.Popen(
        [PYTHON, "app.py"], cwd=ROOT, env=env_for(world), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    world.slack.wait_connected(timeout=30)
    return process


def kill_on(fake: Any, method: str, path: str, process: subprocess.Popen, marker: bytes = b"") -> None:
    """SIGKILL the bot the moment the vendor has acted on this request, before the bot hears the answer."""

    def observer(request: Any) -> None:
        ours = request.method == method and request.path.endswith(path) and marker in request.body
        if ours and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)

    fake.observers.append(observer)


def test_a_crash_between_issue_created_and_dm_sent_resumes_with_one_of_each(make_bot, world):
    process = start_bot_process(world)
    try:
        kill_on(world.github, "POST", f"/repos/{REPO}/issues", process)
        assert run_cli(world, "-", stdin=json.dumps(self_service("crash-1"))).returncode == 0
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    world.github.observers.clear()
    assert len(world.github.issues(REPO)) == 1 and dm_messages_of(world, "U0BOB") == []
    bot = dispatch_bot(make_bot)  # the same database: the interrupted route resumes
    wait_prompt(bot, "U0BOB")
    assert alert(bot, "crash-1")["issue_number"] == 1
    assert len(world.github.issues(REPO)) == 1
    assert len(world.github.calls("POST", rf"/repos/{REPO}/issues$")) == 1
    assert [m["text"] for m in dm_messages(bot, "U0BOB")] == ["Login alarm crash-1", "Was this you?"]


def test_a_crash_right_after_the_dm_was_posted_does_not_post_it_again(make_bot, world):
    process = start_bot_process(world)
    try:
        kill_on(world.slack, "POST", "/api/chat.postMessage", process, marker=b"dispatch:")
        assert run_cli(world, "-", stdin=json.dumps(self_service("crash-2"))).returncode == 0
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    world.slack.observers.clear()
    assert [m["text"] for m in dm_messages_of(world, "U0BOB")] == ["Login alarm crash-2"]
    bot = dispatch_bot(make_bot)
    wait_prompt(bot, "U0BOB")
    bot.runtime.scheduler.run_and_wait(OUTBOX_JOB)
    assert [m["text"] for m in dm_messages(bot, "U0BOB")] == ["Login alarm crash-2", "Was this you?"]
    assert len(world.github.issues(REPO)) == 1


def dm_messages_of(world: Any, user: str) -> list[dict[str, Any]]:
    return world.slack.dm_messages(user)


def test_pending_steps_survive_a_restart(make_bot, world):
    world.slack.inject_fault(r"/api/chat\.postMessage$", 500, times=-1)  # Slack is down
    bot = dispatch_bot(make_bot)
    rid = bot.runtime.services["dispatch"].submit(self_service("restart-1"), "test")[0].request_id
    bot.slack.wait_for(lambda: world.slack.calls("POST", r"chat\.postMessage$"), message="a failed post")
    bot.stop()
    world.slack.clear_faults()
    again = dispatch_bot(make_bot)
    wait_state(again, rid, "awaiting_answer")
    assert len(world.github.issues(REPO)) == 1 and len(dm_messages(again, "U0BOB")) == 2
