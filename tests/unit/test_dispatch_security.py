"""Dispatch's defences, part by part: who may do what, recipients, producer text, GitHub text, settings, and the HTTP
intake's parsing and limits (the real server class on loopback, with short limits so nothing waits long)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from bot.dispatch import rules
from bot.dispatch import slack_messages as ui
from bot.dispatch.audit_texts import escalation_comment, yes_comment
from bot.dispatch.commands import broadcast_message, confirm_message, take_recipients
from bot.dispatch.config import load
from bot.dispatch.intake_http import IntakeServer, Limits, Reply, WrongTokens, content_length, parse_head
from bot.dispatch.message_spec import Defaults, parse_message
from bot.dispatch.slack_people import GROUP, USER, SlackPeople
from bot.settings import SettingsError, load_settings

BASE = {"GITHUB_TOKEN": "t", "GITHUB_REPO": "acme/alerts"}
TOKEN = "t0ken-" * 6
WAIT = 5.0  # upper bound of every wait on a socket here; none of them should come near it


def config(**env: str):
    return load(load_settings({**BASE, **env}, dotenv_path=None))


def never_admin(_: str) -> bool:
    return False


# --- settings -----------------------------------------------------------------------------------------------


def test_a_short_token_is_refused_without_showing_it():
    with pytest.raises(SettingsError, match=r"^DISPATCH_TOKEN must be at least 32 characters long") as error:
        config(DISPATCH_HTTP_PORT="8089", DISPATCH_TOKEN="hunter2")
    assert "hunter2" not in str(error.value)
    assert config(DISPATCH_HTTP_PORT="8089", DISPATCH_TOKEN=TOKEN).http_token == TOKEN


def test_allowed_users_may_be_everyone_explicitly():
    assert config(DISPATCH_ALLOWED_USERS="*").allowed == ("*",)
    assert config(DISPATCH_ALLOWED_USERS="U0BOB, *").allowed == ("U0BOB", "*")
    with pytest.raises(SettingsError, match="or \\* for everyone, got 'all'"):
        config(DISPATCH_ALLOWED_USERS="all")


def test_tls_needs_readable_files_and_both_of_them(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("y")
    cfg = config(DISPATCH_HTTP_TLS_CERT=str(cert), DISPATCH_HTTP_TLS_KEY=str(key))
    assert (cfg.tls_cert, cfg.tls_key) == (str(cert), str(key))
    with pytest.raises(SettingsError, match=r"^DISPATCH_HTTP_TLS_CERT and DISPATCH_HTTP_TLS_KEY must be set together"):
        config(DISPATCH_HTTP_TLS_KEY=str(key))
    with pytest.raises(SettingsError, match=r"^DISPATCH_HTTP_TLS_KEY must be the path of a readable PEM file"):
        config(DISPATCH_HTTP_TLS_CERT=str(cert), DISPATCH_HTTP_TLS_KEY=str(tmp_path / "missing.pem"))
    server = IntakeServer("127.0.0.1", 0, TOKEN, lambda body: (202, {}), tls_cert=str(cert), tls_key=str(key))
    with pytest.raises(SettingsError, match=r"^DISPATCH_HTTP_TLS_CERT and DISPATCH_HTTP_TLS_KEY cannot be used"):
        server.start()


def test_broadcast_cap_and_mentions_settings():
    assert (config().broadcast_max, config().allow_mentions) == (200, False)
    with pytest.raises(SettingsError, match=r"^DISPATCH_BROADCAST_MAX must be a whole number of at least 1"):
        config(DISPATCH_BROADCAST_MAX="0")
    with pytest.raises(SettingsError, match=r"^DISPATCH_ALLOW_MENTIONS must be true or false"):
        config(DISPATCH_ALLOW_MENTIONS="sometimes")


# --- who may do what ----------------------------------------------------------------------------------------


def test_paging_and_broadcasting_are_denied_by_default():
    members = {"S0ONCALL": frozenset({"U0CAROL"})}.get

    def groups(group: str) -> frozenset[str]:
        return members(group) or frozenset()

    def admin(user: str) -> bool:
        return user == "U0ALICE"

    assert not rules.may_reach("U0BOB", (), admin, groups)
    assert rules.may_reach("U0ALICE", (), admin, groups)
    assert rules.may_reach("U0BOB", ("*",), never_admin, groups)
    assert rules.may_reach("U0BOB", ("U0BOB",), never_admin, groups)
    assert rules.may_reach("U0CAROL", ("S0ONCALL",), never_admin, groups)
    assert not rules.may_reach("U0DAVE", ("U0BOB", "S0ONCALL"), admin, groups)
    # confirm and status: everybody while the list is empty, as before
    assert rules.may_use("U0BOB", (), never_admin, groups)
    assert not rules.may_use("U0DAVE", ("U0BOB",), never_admin, groups)


def test_broadcast_cap_spares_admins_and_asks_only_when_over():
    asked: list[str] = []

    def admin(user: str) -> bool:
        asked.append(user)
        return user == "U0ALICE"

    assert not rules.over_broadcast_cap(200, 200, admin, "U0BOB") and asked == []
    assert rules.over_broadcast_cap(201, 200, admin, "U0BOB")
    assert not rules.over_broadcast_cap(5000, 200, admin, "U0ALICE")


def test_an_alert_is_seen_by_its_sender_its_recipients_and_admins():
    assert rules.may_see("U0BOB", "slack:U0BOB", [], never_admin)
    assert rules.may_see("U0BOB", "http", ["U0CAROL", "U0BOB"], never_admin)
    assert not rules.may_see("U0BOB", "slack:U0BOBBY", [None, "U0CAROL"], never_admin)
    assert rules.may_see("U0ALICE", "http", [], lambda user: user == "U0ALICE")


def test_mentions_are_allowed_by_the_setting_or_for_text_written_in_slack():
    assert not rules.mentions_allowed("http", False)
    assert rules.mentions_allowed("http", True)
    assert rules.mentions_allowed("slack:U0BOB", False)


def test_an_address_is_locked_out_after_five_wrong_tokens_in_a_minute():
    assert rules.intake_lockout([1.0, 2.0, 3.0, 4.0], 5.0, 5, 60.0) == 0.0
    assert rules.intake_lockout([1.0, 2.0, 3.0, 4.0, 5.0], 5.0, 5, 60.0) == 56.0
    assert rules.intake_lockout([1.0, 2.0, 3.0, 4.0, 5.0], 61.0, 5, 60.0) == 0.0  # the first one aged out
    tokens = WrongTokens(allowed=2, window=10.0)
    assert tokens.wait("10.0.0.1", 0.0) == 0.0
    tokens.record("10.0.0.1", 0.0)
    tokens.record("10.0.0.1", 1.0)
    assert tokens.wait("10.0.0.1", 2.0) == 8.0 and tokens.wait("10.0.0.2", 2.0) == 0.0
    assert tokens.wait("10.0.0.1", 11.5) == 0.0  # and the address is forgotten once all its failures aged out


# --- recipients ---------------------------------------------------------------------------------------------


def test_recipients_are_mentions_never_words():
    handles = {"alice": (USER, "U0ALICE"), "sre": (GROUP, "S0SRE")}

    def resolve(name: str) -> tuple[str, str] | None:
        return handles.get(name.lower())

    def take(text: str) -> tuple[list[str], list[str], str]:
        return take_recipients(text.split(), resolve)

    assert take("@alice URGENT WAN down") == (["U0ALICE"], [], "URGENT WAN down")
    assert take("<@U0ALICE|alice> URGENT WAN down") == (["U0ALICE"], [], "URGENT WAN down")
    assert take("U0BOB W0CAROL hello") == ([], [], "U0BOB W0CAROL hello")  # bare IDs are words
    assert take("@Alice @SRE @ghost hi") == (["U0ALICE"], ["S0SRE"], "@ghost hi")


class FakeSlack:
    """users.list in pages, usergroups.list, usergroups.users.list; counts calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.pages = {
            None: {
                "members": [
                    {"id": "U1", "name": "alice", "profile": {"display_name": "Al"}},
                    {"id": "U2", "name": "gone", "deleted": True, "profile": {}},
                ],
                "response_metadata": {"next_cursor": "p2"},
            },
            "p2": {
                "members": [
                    {"id": "U3", "name": "bob", "profile": {"display_name": "sre"}},
                    {"id": "B1", "name": "robot", "is_bot": True, "profile": {}},
                ],
                "response_metadata": {"next_cursor": ""},
            },
        }

    def users_list(self, limit: int, cursor: str | None = None) -> dict[str, Any]:
        self.calls.append(f"users.list {cursor}")
        return self.pages[cursor]

    def usergroups_list(self) -> dict[str, Any]:
        self.calls.append("usergroups.list")
        return {"usergroups": [{"id": "S1", "handle": "sre"}, {"id": "S2", "handle": "old", "date_delete": 5}]}

    def usergroups_users_list(self, usergroup: str) -> dict[str, Any]:
        self.calls.append(f"usergroups.users.list {usergroup}")
        return {"users": ["U1", "U3"]}


def test_typed_names_resolve_to_members_and_usergroups_from_cached_lists():
    slack = FakeSlack()
    now = [0.0]
    people = SlackPeople(slack, clock=lambda: now[0])  # type: ignore[arg-type]
    assert people.resolve("Alice") == (USER, "U1")
    assert people.resolve("al") == (USER, "U1")  # a display name
    assert people.resolve("sre") == (GROUP, "S1")  # a usergroup handle beats a display name
    for nobody in ("gone", "robot", "old", "nobody"):
        assert people.resolve(nobody) is None, nobody
    assert slack.calls == ["usergroups.list", "users.list None", "users.list p2"]
    assert people.group_members("S1") == people.group_members("S1") == frozenset({"U1", "U3"})
    now[0] = 301.0
    people.resolve("bob")
    assert slack.calls.count("usergroups.list") == 2 and slack.calls.count("usergroups.users.list S1") == 1


# --- producer text and GitHub text --------------------------------------------------------------------------

DEFAULTS = Defaults("acme/alerts", pagerduty_service="P1")
SPOOF = "<https://evil.example/login|https://sso.acme.com/login> <@U0CAROL> <!subteam^S1> <!channel> *bold*"


def spoofing(kind: str = "self-service") -> Any:
    return parse_message(
        {
            "type": kind,
            "requestId": "r1",
            "users": [{"slackId": "U0BOB"}],
            "body": {
                "github": {"title": "T", "body": "B"},
                "slack": {
                    "message": SPOOF,
                    "prompt": "Sure? " + SPOOF,
                    "actions": {"yes": "Y", "no": "N", "yes_response": SPOOF, "no_response": SPOOF},
                },
            },
        },
        DEFAULTS,
    )


LINK = "https://sso.acme.com/login (<https://evil.example/login>)"  # the label, then the real target
SAFE = f"{LINK} &lt;@U0CAROL&gt; &lt;!subteam^S1&gt; &lt;!channel&gt; *bold*"
MENTIONS = f"{LINK} <@U0CAROL> <!subteam^S1> &lt;!channel&gt; *bold*"


@pytest.mark.parametrize(("allow", "expected"), [(False, SAFE), (True, MENTIONS)])
def test_every_producer_text_in_slack_goes_through_producer_text(allow, expected):
    message = spoofing()
    assert ui.alert_message(1, 2, message, None, allow_mentions=allow)[0] == expected
    assert ui.prompt_message(1, 2, message, allow_mentions=allow)[0] == "Sure? " + expected
    reminder = ui.reminder(1, 2, message, 1700000000, allow_mentions=allow)[0]
    assert reminder.startswith(":alarm_clock: Reminder: Sure? " + expected + " — please answer")
    for answer in ("yes", "no"):
        answered = ui.answered_prompt(1, 2, message, answer, "U0BOB", 1700000000, None, 30, allow_mentions=allow)
        assert answered[0].startswith("Sure? " + expected) and answered[2][0]["text"] == expected
    nag = parse_message({"type": "nag", **_nag_fields()}, DEFAULTS)
    _, blocks = ui.alert_message(1, 2, nag, None, allow_mentions=allow)
    assert [b["text"]["text"] for b in blocks if b["type"] == "section"] == [expected, "Sure? " + expected]


def _nag_fields() -> dict[str, Any]:
    return {
        "requestId": "n1",
        "users": [{"slackId": "U0BOB"}],
        "body": {"github": {"title": "T", "body": "B"}, "slack": {"message": SPOOF, "prompt": "Sure? " + SPOOF}},
    }


def test_slack_text_on_github_does_not_notify():
    confirm = confirm_message("U0BOB", "bob", "U0CAROL", "ask @octocat and @acme/security", "r1")
    assert confirm["body"]["github"]["body"].startswith("ask @\u200boctocat and @\u200bacme/security\n\nAsked in Slack")
    sent = broadcast_message("U0BOB", "bob", ["U0CAROL"], "cc @acme/all", "r2")
    assert sent["body"]["github"]["body"].startswith("cc @\u200bacme/all\n\nBroadcast from Slack")
    assert yes_comment("@octocat", "Yes", 1700000000).startswith('@\u200boctocat answered "Yes"')
    said = escalation_comment(spoofing(), "no", "@octocat", 1700000000, 30, None)
    assert said.startswith('@\u200boctocat answered "N" (no)')


# --- the intake's HTTP parsing ------------------------------------------------------------------------------


def test_only_http_1_request_heads_are_parsed():
    request = parse_head(b"\r\nPOST /dispatch/?x=1 HTTP/1.1\r\nHost: a\r\nX-Two: 1\r\nx-two: 2\r\n\r\n")
    assert request is not None and (request.method, request.path) == ("POST", "/dispatch")
    assert request.headers["x-two"] == ["1", "2"] and request.keeps_alive
    for head in (
        b"GET /\r\n\r\n",
        b"POST / HTTP/2\r\n\r\n",
        b"POST / HTTP/1.1\r\n folded\r\n\r\n",
        b"P\xd6ST / HTTP/1.1\r\n\r\n",
    ):
        assert parse_head(head) is None, head


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"12", 12),
        (b"\xb2", 400),  # "²" in Latin-1: isdigit() says yes, int() says no
        ("\u00b2".encode(), 400),
        ("\u0661".encode(), 400),  # an Arabic-Indic digit one
        (b"+5", 400),
        (b"", 400),
        (b"5, 5", 400),
        (str(1024 * 1024 + 1).encode(), 413),
    ],
)
def test_content_length_takes_ascii_digits_only(header, expected):
    request = parse_head(b"POST /dispatch HTTP/1.1\r\nContent-Length: " + header + b"\r\n\r\n")
    assert request is not None
    found = content_length(request)
    assert (found.status if isinstance(found, Reply) else found) == expected
    chunked = parse_head(b"POST /dispatch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert content_length(chunked).status == 411  # type: ignore[union-attr]


def test_answers_name_no_version():
    head = Reply(202, {"requestId": "r"}, close=False).encode().split(b"\r\n\r\n")[0].decode()
    assert "Server: switchboard-dispatch" in head.split("\r\n") and "Python" not in head and "Connection" not in head


# --- the intake's limits, on a real socket ------------------------------------------------------------------


@pytest.fixture
def serve():
    servers: list[IntakeServer] = []

    def start(submit: Any = None, **limits: Any) -> IntakeServer:
        server = IntakeServer(
            "127.0.0.1", 0, TOKEN, submit or (lambda body: (202, {"bytes": len(body)})), limits=Limits(**limits)
        )
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (within WAIT) without answering."""
    sock.settimeout(WAIT)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def request_bytes(body: bytes) -> bytes:
    head = f"POST /dispatch HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def post(server: IntakeServer, body: bytes = b"{}") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.bound_port}/dispatch", data=body)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_headers_must_arrive_in_time_or_the_connection_is_closed(serve):
    server = serve(header_timeout=0.2)
    with socket.create_connection(("127.0.0.1", server.bound_port)) as silent:
        assert closed_by_server(silent)
    with socket.create_connection(("127.0.0.1", server.bound_port)) as slow:
        slow.sendall(b"POST /dispatch HTTP/1.1\r\nHost: a\r\n")  # never the blank line
        assert closed_by_server(slow)
    assert post(server) == (202, {"bytes": 2})


def test_connections_over_the_limit_are_refused_at_once(serve):
    server = serve(max_connections=3, header_timeout=60.0)  # a refusal cannot be a header timeout here
    idle = [socket.create_connection(("127.0.0.1", server.bound_port)) for _ in range(3)]
    try:
        with socket.create_connection(("127.0.0.1", server.bound_port)) as extra:
            assert closed_by_server(extra)
    finally:
        idle[0].close()
    assert answer_once_a_slot_is_free(server).startswith(b"HTTP/1.1 202 ")
    for sock in idle[1:]:
        sock.close()


def answer_once_a_slot_is_free(server: IntakeServer) -> bytes:
    """The first answer to a request once the server has seen a connection go (each refusal is immediate)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", server.bound_port), timeout=WAIT) as probe:
            probe.sendall(request_bytes(b""))
            try:
                answer = probe.recv(1024)
            except ConnectionResetError:
                answer = b""
        if answer:
            return answer
    raise AssertionError("no connection slot came free")


def test_busy_handlers_answer_503_at_once(serve):
    entered, release = threading.Event(), threading.Event()

    def slow_submit(body: bytes) -> tuple[int, dict[str, Any]]:
        entered.set()
        release.wait(WAIT)
        return 202, {}

    server = serve(slow_submit, max_handlers=1)
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(post(server)))
    worker.start()
    assert entered.wait(WAIT)
    status, answer = post(server)
    assert (status, answer) == (503, {"error": "busy; send the message again in a moment"})
    release.set()
    worker.join(WAIT)
    assert first == [(202, {})]


def test_a_connection_serves_several_requests_and_a_crashing_submit_is_a_500(serve):
    def submit(body: bytes) -> tuple[int, dict[str, Any]]:
        if body == b"boom":
            raise RuntimeError("boom")
        return 202, {"body": body.decode()}

    server = serve(submit)
    with socket.create_connection(("127.0.0.1", server.bound_port), timeout=WAIT) as sock:
        stream = sock.makefile("rb")
        for body in (b"one", b"two"):
            sock.sendall(request_bytes(body))
            assert stream.readline() == b"HTTP/1.1 202 Accepted\r\n"
            while stream.readline() != b"\r\n":
                pass
            assert stream.read(len(json.dumps({"body": "one"}))) == json.dumps({"body": body.decode()}).encode()
    assert post(server, b"boom")[0] == 500
