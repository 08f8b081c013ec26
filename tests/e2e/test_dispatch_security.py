"""Dispatch against hostile clients, producers and members, end to end: the real bot over Socket Mode, its real HTTP
intake, and the Slack, GitHub and PagerDuty emulators.

The intake survives floods and guessing; producer text cannot spoof links or ping; paging and broadcasting are
denied by default and broadcasts are capped; recipients are mentions, never words; Slack text put on GitHub does
not notify; `/dispatch status` shows an alert only to those it concerns.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.settings import ROOT
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_dispatch import (
    REPO,
    broadcast,
    click,
    dispatch_bot,
    dm_messages,
    self_service,
    submit,
    wait_prompt,
)
from tests.e2e.test_dispatch_intake import PYTHON, TOKEN, counts, env_for, free_port, post

DENIED = "Only Switchboard admins and DISPATCH_ALLOWED_USERS can page or broadcast."
DEADLINE = 5.0  # the issue's bound for a valid request and a Slack command while the intake is flooded


def intake_bot(make_bot: Any, **overrides: str) -> tuple[BotUnderTest, int]:
    port = free_port()
    return dispatch_bot(make_bot, DISPATCH_HTTP_PORT=str(port), DISPATCH_TOKEN=TOKEN, **overrides), port


def raw_exchange(port: int, request: bytes, source: str = "127.0.0.1") -> bytes:
    """Send raw bytes and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE, source_address=(source, 0)) as sock:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # what arrived before the reset is the answer
    return answer


def head_request(length: bytes, token: str = TOKEN) -> bytes:
    return (
        b"POST /dispatch HTTP/1.1\r\nHost: intake\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + length + b"\r\nConnection: close\r\n\r\n"
    )


def slash_within_deadline(bot: BotUnderTest, user: str, command: str, text: str) -> str:
    """A slash command's answer, waited for at most DEADLINE (the fake's wait, no sleeping)."""
    before = len(bot.slack.responses)
    ack = bot.slack.wait_for_ack(bot.slack.slash_command(user, "C0OPS", command, text), timeout=DEADLINE)
    inline = (ack.get("payload") or {}).get("text")
    if inline:
        return inline
    bot.slack.wait_for(lambda: len(bot.slack.responses) > before, timeout=DEADLINE, message=f"answer to {command}")
    return bot.slack.responses[before]["body"].get("text", "")


# --- the HTTP intake ----------------------------------------------------------------------------------------


def test_two_hundred_half_open_connections_neither_block_the_intake_nor_slack(make_bot, world):
    bot, port = intake_bot(make_bot)
    threads_before = threading.active_count()
    hostile: list[socket.socket] = []
    try:
        for n in range(200):
            sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
            if n % 2:  # half of them start a request and never finish its headers
                sock.sendall(b"POST /dispatch HTTP/1.1\r\nHost: intake\r\nAuthoriz")
            hostile.append(sock)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/dispatch",
            data=json.dumps(self_service("flood-1")).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=DEADLINE) as response:
            assert (response.status, json.loads(response.read())) == (202, {"requestId": "flood-1"})
        assert slash_within_deadline(bot, "U0BOB", "/switchboard", "help")  # Socket Mode still acks and answers
        # Idle connections cost a socket each, not a thread each.
        assert threading.active_count() < threads_before + 20
    finally:
        for sock in hostile:
            sock.close()
    wait_prompt(bot, "U0BOB")


def test_wrong_tokens_from_one_address_are_slowed_down(make_bot, world):
    bot, port = intake_bot(make_bot)
    body = json.dumps(self_service("guess-1")).encode()
    for attempt in range(5):
        assert post(port, body, token=f"guess-{attempt}")[0] == 401
    status, answer = post(port, body)  # even the right token waits: guessing gets no answers
    assert status == 429 and answer["error"].startswith("too many wrong tokens from this address; try again in")
    raw = raw_exchange(port, head_request(str(len(body)).encode()) + body)
    assert raw.startswith(b"HTTP/1.1 429 ") and b"\r\nRetry-After: " in raw
    assert counts(bot) == (0, 0)
    other = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE, source_address=("127.0.0.2", 0))
    other.request("POST", "/dispatch", body, {"Authorization": f"Bearer {TOKEN}"})
    assert other.getresponse().status == 202  # another address is not affected
    other.close()
    wait_prompt(bot, "U0BOB")


def test_the_server_header_names_no_version_and_content_length_takes_ascii_digits_only(make_bot, world):
    bot, port = intake_bot(make_bot)
    body = json.dumps(self_service("cl-1")).encode()
    for length in ("\u00b2".encode("latin-1"), "\u00b2".encode(), b"-5", b"1e3", b"12, 12"):
        answer = raw_exchange(port, head_request(length) + body)
        assert answer.startswith(b"HTTP/1.1 400 "), length
        assert b"Content-Length must be one number of bytes (ASCII digits)" in answer
    answer = raw_exchange(port, head_request(str(len(body)).encode()) + body)
    assert answer.startswith(b"HTTP/1.1 202 ")  # the handler survived every one of them
    headers = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    server = next(line for line in headers if line.lower().startswith("server:"))
    assert server == "Server: switchboard-dispatch"
    assert "python" not in answer.decode("latin-1").lower()
    assert counts(bot) == (1, 0)


def server_cert_files(world: Any, directory: Path) -> tuple[Path, Path]:
    """The loopback CA's server certificate (127.0.0.1, localhost) and its key, as PEM files."""
    leaf = world.ca._cert  # LoopbackCA issues one server certificate; it has no public accessor for the files
    cert, key = directory / "intake-cert.pem", directory / "intake-key.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    return cert, key


def test_the_intake_speaks_tls_when_given_a_certificate(make_bot, world, tmp_path):
    cert, key = server_cert_files(world, tmp_path)
    bot, port = intake_bot(make_bot, DISPATCH_HTTP_TLS_CERT=str(cert), DISPATCH_HTTP_TLS_KEY=str(key))
    request = urllib.request.Request(
        f"https://127.0.0.1:{port}/dispatch",
        data=json.dumps(self_service("tls-1")).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=DEADLINE, context=world.ca.client_context()) as response:
        assert (response.status, response.headers["Server"]) == (202, "switchboard-dispatch")
    wait_prompt(bot, "U0BOB")
    with pytest.raises((http.client.HTTPException, OSError)):
        post(port, json.dumps(self_service("plain-1")).encode())  # plain HTTP gets no HTTP answer
    untrusted = ssl.create_default_context()  # a client that does not trust the certificate refuses it
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(request, timeout=DEADLINE, context=untrusted)
    assert counts(bot) == (1, 0)


def test_a_short_token_and_a_half_tls_configuration_are_refused_at_startup(world, tmp_path):
    cert, _ = server_cert_files(world, tmp_path)
    port = str(free_port())
    cases = [
        (
            {"DISPATCH_TOKEN": "short-token"},
            "switchboard: DISPATCH_TOKEN must be at least 32 characters long (it has 11); generate one with",
        ),
        (
            {"DISPATCH_TOKEN": TOKEN, "DISPATCH_HTTP_TLS_CERT": str(cert)},
            "switchboard: DISPATCH_HTTP_TLS_CERT and DISPATCH_HTTP_TLS_KEY must be set together",
        ),
    ]
    for overrides, expected in cases:
        env = env_for(world, DISPATCH_HTTP_PORT=port, **overrides)
        result = subprocess.run([PYTHON, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith(expected)
        assert "short-token" not in result.stderr  # a secret is never printed, not even a bad one


# --- producer text ------------------------------------------------------------------------------------------

SPOOF = "[login](x) <https://evil.example/login|https://sso.acme.com/login> <@U0CAROL> <!subteam^S0SRE> <!channel>"


def spoofing_broadcast(request_id: str) -> dict[str, Any]:
    message = broadcast(request_id, [{"slackId": "U0BOB"}])
    message["body"]["slack"]["message"] = f"Rotate now: {SPOOF} <!here|here> <!everyone>"
    return message


def test_producer_text_cannot_spoof_links_or_ping_anyone(make_bot, world):
    bot = dispatch_bot(make_bot)
    submit(bot, spoofing_broadcast("spoof-1"))
    sent = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: "Rotate now" in m["text"])
    text = sent["text"]
    assert "https://sso.acme.com/login (<https://evil.example/login>)" in text  # the real target is shown
    assert "|https://sso.acme.com/login>" not in text
    for ping in ("<@U0CAROL>", "<!subteam^S0SRE>", "<!channel>", "<!here", "<!everyone>"):
        assert ping not in text and ping not in json.dumps(sent["blocks"]), ping
    assert "&lt;@U0CAROL&gt;" in text  # shown as text, not dropped


def test_mentions_in_producer_text_only_when_allowed_and_never_channel_wide(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOW_MENTIONS="true")
    submit(bot, spoofing_broadcast("spoof-2"))
    text = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: "Rotate now" in m["text"])["text"]
    assert "<@U0CAROL>" in text and "<!subteam^S0SRE>" in text
    for ping in ("<!channel>", "<!here", "<!everyone>"):
        assert ping not in text, ping
    assert "https://sso.acme.com/login (<https://evil.example/login>)" in text


def test_prompts_and_responses_are_producer_text_too(make_bot, world):
    bot = dispatch_bot(make_bot)
    message = self_service("spoof-3")
    message["body"]["slack"]["prompt"] = "Was this you? <!channel> <https://evil.example|https://sso.acme.com>"
    message["body"]["slack"]["actions"]["yes_response"] = "Closed <!here> <@U0CAROL>"
    submit(bot, message)
    prompt = bot.slack.wait_for_message(bot.slack.dm_channel("U0BOB"), lambda m: m["text"].startswith("Was this"))
    assert prompt["text"] == "Was this you? &lt;!channel&gt; https://sso.acme.com (<https://evil.example>)"
    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    answered = bot.slack.wait_for(
        lambda: next((m for m in dm_messages(bot, "U0BOB") if m.get("attachments")), None), message="the response"
    )
    assert answered["attachments"][0]["text"] == "Closed &lt;!here&gt; &lt;@U0CAROL&gt;"


# --- who may page and broadcast -----------------------------------------------------------------------------


def test_a_member_who_is_not_allowed_cannot_page_broadcast_or_send_json(make_bot, world):
    bot = dispatch_bot(make_bot)  # DISPATCH_ALLOWED_USERS unset: deny by default
    raw = json.dumps(broadcast("json-1", [{"slackId": "U0CAROL"}]))
    for text in ("page DB down", "broadcast <@U0CAROL|carol> Freeze deploys", f"json {raw}", "page", "broadcast"):
        assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", text) == DENIED, text
    assert counts(bot) == (0, 0)
    bot.drain_outbox()
    assert world.pagerduty.calls("POST", r"/incidents") == []  # nobody paged
    assert not any(b"Freeze" in r.body for r in world.slack.calls("POST", r"chat\.postMessage$"))
    assert dm_messages(bot, "U0CAROL") == []  # nobody messaged
    assert world.github.issues(REPO) == []  # no audit issue
    # confirm (one person) is still everybody's while the list is unset; an admin may page
    assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", "confirm <@U0CAROL|carol> ok?").startswith("Dispatch `")
    assert bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "page DB down").startswith("Dispatch `")


def test_a_star_allows_every_member_explicitly(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="*")
    reply = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "page Checkout is down")
    assert reply.startswith("Dispatch `") and "paging PagerDuty" in reply
    world.pagerduty.wait_for(lambda: world.pagerduty.calls("POST", r"^/incidents$"), message="the page")


def test_broadcasts_are_capped_unless_an_admin_sends_them(make_bot, world):
    world.slack.add_usergroup("S0ALL", "everyone-ish", users=["U0BOB", "U0CAROL", "U0DAVE"])
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0BOB", DISPATCH_BROADCAST_MAX="2")
    capped = (
        "A broadcast from Slack may reach at most 2 people (DISPATCH_BROADCAST_MAX) unless a Switchboard admin "
        "sends it; this one would reach 3. Nothing was sent."
    )
    assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", "broadcast <!subteam^S0ALL|@everyone-ish> Hi") == capped
    users = [{"slackId": user} for user in ("U0ALICE", "U0CAROL", "U0DAVE")]
    raw = json.dumps(broadcast("json-cap", users))
    assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", f"json {raw}") == capped
    assert counts(bot) == (0, 0)
    reply = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "broadcast <!subteam^S0ALL|@everyone-ish> Hi")
    assert "3 people get a DM" in reply
    ok = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "broadcast <@U0CAROL> <@U0DAVE> Hi")
    assert "2 people get a DM" in ok


def test_status_shows_an_alert_only_to_its_sender_its_recipients_and_admins(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0DAVE,U0BOB,U0CAROL")
    reply = bot.command_reply("U0DAVE", "C0OPS", "/dispatch", "broadcast <@U0BOB> Freeze deploys")
    rid = reply.split("`")[1]
    submit(bot, broadcast("producer-1", [{"slackId": "U0BOB"}]))  # from a producer, to Bob
    for user in ("U0DAVE", "U0BOB", "U0ALICE"):  # the sender, the recipient, an admin
        status = bot.command_reply(user, "C0OPS", "/dispatch", f"status {rid}")
        assert status.startswith(f"*Dispatch `{rid}`*"), user
    hidden = bot.command_reply("U0CAROL", "C0OPS", "/dispatch", f"status {rid}")
    assert hidden == f"No dispatch alert has requestId `{rid}`. `/dispatch status` lists the latest ones."
    assert "producer-1" in bot.command_reply("U0BOB", "C0OPS", "/dispatch", "status")
    latest = bot.command_reply("U0DAVE", "C0OPS", "/dispatch", "status")
    assert rid in latest and "producer-1" not in latest
    everything = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "status")
    assert rid in everything and "producer-1" in everything


def test_status_hides_other_peoples_alerts_when_everyone_may_use_dispatch(make_bot, world):
    bot = dispatch_bot(make_bot)
    reply = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "broadcast <@U0BOB> Freeze deploys")
    rid = reply.split("`")[1]
    hidden = bot.command_reply("U0CAROL", "C0OPS", "/dispatch", f"status {rid}")
    assert hidden == f"No dispatch alert has requestId `{rid}`. `/dispatch status` lists the latest ones."
    assert bot.command_reply("U0CAROL", "C0OPS", "/dispatch", "status").startswith(
        "No dispatch alerts sent by or to you yet."
    )
    assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", f"status {rid}").startswith(f"*Dispatch `{rid}`*")
    assert rid in bot.command_reply("U0BOB", "C0OPS", "/dispatch", "status")


# --- recipients are mentions, never words -------------------------------------------------------------------


@pytest.mark.parametrize("alice", ["<@U0ALICE|alice>", "@alice"])
def test_broadcast_words_are_the_message_and_only_mentions_are_recipients(make_bot, world, alice):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0BOB")
    reply = bot.command_reply("U0BOB", "C0OPS", "/dispatch", f"broadcast {alice} URGENT WAN down")
    assert "1 people get a DM" in reply
    sent = bot.slack.wait_for_message(bot.slack.dm_channel("U0ALICE"), lambda m: "URGENT" in m["text"])
    assert sent["text"] == ":mega: Broadcast from <@U0BOB>: URGENT WAN down"
    bot.drain_outbox()
    posts = world.slack.calls("POST", r"chat\.postMessage$")
    assert {r.args()["channel"] for r in posts if "URGENT" in str(r.args().get("text"))} == {"U0ALICE"}
    opened = world.slack.calls("POST", r"conversations\.open$")
    assert not any(b"URGENT" in r.body or b"WAN" in r.body for r in opened)
    rid = reply.split("`")[1]
    recipients = bot.runtime.store.query(
        "SELECT slack_id FROM dispatch_recipients JOIN dispatch_alerts a ON a.id = alert_id WHERE request_id = ?",
        [rid],
    )
    assert [r["slack_id"] for r in recipients] == ["U0ALICE"]


def test_an_unknown_name_starts_the_message(make_bot, world):
    bot = dispatch_bot(make_bot, DISPATCH_ALLOWED_USERS="U0BOB")
    reply = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "broadcast @carol @nobody-here is paging")
    assert "1 people get a DM" in reply
    sent = bot.slack.wait_for_message(bot.slack.dm_channel("U0CAROL"), lambda m: "paging" in m["text"])
    assert sent["text"] == ":mega: Broadcast from <@U0BOB>: @nobody-here is paging"
    usage = bot.command_reply("U0BOB", "C0OPS", "/dispatch", "broadcast URGENT WAN down")
    assert usage.startswith("Usage: `/dispatch broadcast @a @b @team <message>`")


# --- Slack text into vendors --------------------------------------------------------------------------------


def test_slack_text_on_github_does_not_notify(make_bot, world):
    bot = dispatch_bot(make_bot)
    text = "confirm <@U0CAROL|carol> did @octocat or @acme/security restart db-1?"
    assert bot.command_reply("U0BOB", "C0OPS", "/dispatch", text).startswith("Dispatch `")
    issue = world.github.wait_for(lambda: world.github.issues(REPO), message="the audit issue")[0]
    assert "@octocat" not in issue["body"] and "@acme/security" not in issue["body"]
    assert "@\u200boctocat" in issue["body"] and "@\u200bacme/security" in issue["body"]


def test_user_input_in_log_lines_is_quoted(make_bot, world, caplog):
    _, port = intake_bot(make_bot)
    forged = "x\nCRITICAL root: forged line"
    accepted = {"type": forged, "requestId": "log\u2028-1", "body": {"pagerduty": {"title": "t"}}}
    rejected = {**self_service("log-2"), "users": [{"slackId": "U0BOB\nCRITICAL root: forged"}]}
    with caplog.at_level(logging.INFO, logger="bot.dispatch"):
        assert post(port, json.dumps(accepted).encode())[0] == 202
        assert post(port, json.dumps(rejected).encode())[0] == 400
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("bot.dispatch")]
    assert any("log\\u2028-1" in line for line in lines)  # the requestId, quoted
    assert all("\n" not in line and "\u2028" not in line for line in lines)
