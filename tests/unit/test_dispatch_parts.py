"""Dispatch's pure parts: settings, Slack messages, /dispatch parsing, GitHub error mapping and creation pacing."""

from __future__ import annotations

import pytest

from bot.clients.github import GithubException
from bot.dispatch import slack_messages as ui
from bot.dispatch.commands import _title, confirm_message, take_recipients
from bot.dispatch.config import load
from bot.dispatch.github_audit import CreationPacer, GitHubRejected, _next_link, classify
from bot.dispatch.message_spec import Defaults, parse_message
from bot.outbox import RetryLater
from bot.settings import SettingsError, load_settings
from bot.store import Store
from bot.wiring import MIGRATIONS

BASE = {"GITHUB_TOKEN": "t", "GITHUB_REPO": "acme/alerts"}
TOKEN = "x" * 32


def config(**env: str):
    return load(load_settings({**BASE, **env}, dotenv_path=None))


# --- settings -----------------------------------------------------------------------------------------------


def test_config_defaults():
    cfg = config()
    assert cfg.confirm_timeout_seconds == 1800 and cfg.allowed == () and cfg.http_port is None
    assert (cfg.broadcast_max, cfg.allow_mentions, cfg.tls_cert, cfg.tls_key) == (200, False, None, None)
    assert cfg.http_host == "127.0.0.1" and (cfg.creates_per_minute, cfg.creates_per_hour) == (40, 450)
    assert (cfg.github_default_user, cfg.default_channel, cfg.pagerduty_service) == (None, None, None)


def test_config_reads_every_setting():
    cfg = config(
        GITHUB_DEFAULT_USER="@acme/security",
        SLACK_DEFAULT_CHANNEL="#alerts",
        PAGERDUTY_SERVICE_ID="PABC123",
        DISPATCH_CONFIRM_TIMEOUT_MINUTES="0.5",
        DISPATCH_ALLOWED_USERS="U0BOB, S0TEAM",
        DISPATCH_HTTP_PORT="8089",
        DISPATCH_HTTP_HOST="0.0.0.0",
        DISPATCH_TOKEN=TOKEN,
        DISPATCH_BROADCAST_MAX="50",
        DISPATCH_ALLOW_MENTIONS="true",
    )
    assert (cfg.github_default_user, cfg.default_channel, cfg.pagerduty_service) == (
        "acme/security",
        "#alerts",
        "PABC123",
    )
    assert cfg.confirm_timeout_seconds == 30 and cfg.allowed == ("U0BOB", "S0TEAM")
    assert (cfg.http_host, cfg.http_port, cfg.http_token) == ("0.0.0.0", 8089, TOKEN)
    assert (cfg.broadcast_max, cfg.allow_mentions) == (50, True)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISPATCH_CONFIRM_TIMEOUT_MINUTES": "0"}, "DISPATCH_CONFIRM_TIMEOUT_MINUTES must be a positive number"),
        ({"DISPATCH_CONFIRM_TIMEOUT_MINUTES": "soon"}, "DISPATCH_CONFIRM_TIMEOUT_MINUTES must be a positive number"),
        ({"DISPATCH_ALLOWED_USERS": "bob"}, "DISPATCH_ALLOWED_USERS must be comma-separated Slack user IDs"),
        ({"DISPATCH_HTTP_PORT": "99999", "DISPATCH_TOKEN": TOKEN}, "DISPATCH_HTTP_PORT must be a TCP port"),
        ({"DISPATCH_HTTP_PORT": "8089"}, "DISPATCH_TOKEN is required when DISPATCH_HTTP_PORT is set"),
        ({"SLACK_DEFAULT_CHANNEL": "alerts"}, "SLACK_DEFAULT_CHANNEL must be a channel name starting with #"),
        ({"GITHUB_DEFAULT_USER": "a b"}, "GITHUB_DEFAULT_USER must be a GitHub login"),
        ({"PAGERDUTY_SERVICE_ID": "p-1"}, "PAGERDUTY_SERVICE_ID must be a PagerDuty service ID"),
        ({"DISPATCH_GITHUB_CREATES_PER_MINUTE": "0"}, "DISPATCH_GITHUB_CREATES_PER_MINUTE must be a whole number"),
    ],
)
def test_config_errors_name_the_setting(env, message):
    with pytest.raises(SettingsError, match="^" + message):
        config(**env)


# --- Slack messages -----------------------------------------------------------------------------------------

MESSAGE = parse_message(
    {
        "type": "self-service",
        "requestId": "r1",
        "users": [{"slackId": "U0BOB"}],
        "body": {
            "github": {"title": "T", "body": "B"},
            "slack": {"message": "x" * 7000, "prompt": "Sure? <!channel>", "actions": {"yes": "Y", "no": "N"}},
        },
    },
    Defaults("acme/alerts", pagerduty_service="P1"),
)


def test_long_messages_become_several_sections_with_one_marker():
    _, blocks = ui.alert_message(7, 3, MESSAGE, "<u|acme/alerts#1>")
    assert [len(b["text"]["text"]) for b in blocks if b["type"] == "section"] == [3000, 3000, 1000]
    assert blocks[0]["block_id"] == "dispatch:7:message:3" and "block_id" not in blocks[1]
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "GitHub issue: <u|acme/alerts#1>"}],
    }


def test_prompts_cannot_ping_a_channel_and_carry_only_the_alert_id():
    text, blocks = ui.prompt_message(7, 3, MESSAGE)
    assert text == "Sure? &lt;!channel&gt;"
    assert [(b["action_id"], b["value"], b.get("style")) for b in blocks[1]["elements"]] == [
        ("dispatch_yes", "7", "primary"),
        ("dispatch_no", "7", "danger"),
    ]


def test_answered_prompts_look_like_the_original():
    _, blocks, [yes] = ui.answered_prompt(7, 3, MESSAGE, "yes", "U0BOB", 1700000000, "https://gh/1", 30)
    assert (yes["color"], yes["footer"], yes["text"]) == (
        "#008E00",
        "Dispatch alert acknowledged",
        "Thanks, closed https://gh/1",
    )
    assert "answered by <@U0BOB>" in blocks[1]["elements"][0]["text"]
    _, _, [no] = ui.answered_prompt(7, 3, MESSAGE, "no", "U0BOB", 1700000000, None, 30)
    assert (no["color"], no["footer"]) == ("#CC0000", "Dispatch alert escalated")
    _, late, _ = ui.answered_prompt(7, 3, MESSAGE, "no response", None, 1700000000, None, 0.5)
    assert "No answer within 0.5 minutes" in late[1]["elements"][0]["text"]


def test_notes_use_the_originals_words():
    assert (
        ui.fallback_note(1, 2, "#alerts", "r1")[0] == "Slack user ID was missing, fell back to #alerts for requestId r1"
    )
    text, _, [attachment] = ui.delivery_error(1, 2, "U0X", "r1", "user_not_found")
    assert text == "Error sending message to `U0X` for requestId r1"
    assert attachment == {"title": "Slack error message", "text": '{"ok": false, "error": "user_not_found"}'}


# --- /dispatch --------------------------------------------------------------------------------------------


def test_leading_mentions_are_taken_until_the_text():
    handles = {"carol": ("user", "U0CAROL"), "oncall": ("group", "S0ONCALL")}
    words = ["<@U0BOB|bob>", "@Carol", "<!subteam^S0SRE|@sre>", "@oncall", "restart", "<@U0DAVE>", "now"]
    assert take_recipients(words, lambda name: handles.get(name.lower())) == (
        ["U0BOB", "U0CAROL"],
        ["S0SRE", "S0ONCALL"],
        "restart <@U0DAVE> now",
    )
    assert take_recipients(["<@U0BOB>"], handles.get) == (["U0BOB"], [], "")


def test_slack_made_titles_carry_the_request_id_and_fit_github():
    assert _title("hello", "abc") == "hello (abc)"
    assert len(_title("x" * 400, "abcdef012345")) <= 256
    message = confirm_message("U0ALICE", "alice", "U0BOB", "ok?", "abc")
    parsed = parse_message(message, Defaults("acme/alerts", pagerduty_service="P1"))
    assert parsed.recipients[0].slack_id == "U0BOB" and parsed.github_title == "ok? (abc)"


# --- GitHub -----------------------------------------------------------------------------------------------


def test_github_errors_map_to_wait_retry_or_give_up():
    limited = classify(GithubException(403, {"message": "secondary rate limit"}, {"Retry-After": "30"}))
    assert isinstance(limited, RetryLater) and limited.seconds == 30
    assert classify(GithubException(429, {"message": "slow down"}, {})).seconds == 60
    server = GithubException(502, {"message": "Bad Gateway"}, {})
    assert classify(server) is server
    refused = classify(GithubException(410, {"message": "Issues are disabled"}, {}))
    assert isinstance(refused, GitHubRejected) and str(refused) == "GitHub answered 410: Issues are disabled"


def test_next_link():
    header = '<http://h/api/v3/x?page=2>; rel="next", <http://h/api/v3/x?page=5>; rel="last"'
    assert _next_link(header) == "http://h/api/v3/x?page=2"
    assert _next_link('<http://h/x?page=1>; rel="prev"') is None


def test_creation_pacer_keeps_minute_and_hour_budgets(tmp_path):
    store = Store(tmp_path / "p.db", MIGRATIONS)
    pacer = CreationPacer(store, per_minute=2, per_hour=3)
    pacer.reserve(now=1000.0)
    pacer.reserve(now=1010.0)
    with pytest.raises(RetryLater) as minute:
        pacer.reserve(now=1020.0)
    assert minute.value.seconds == 40  # the 1000.0 creation leaves the window at 1060
    pacer.reserve(now=1061.0)
    with pytest.raises(RetryLater) as hour:
        pacer.reserve(now=1200.0)
    assert hour.value.seconds == 3400  # 3 in the last hour: wait until 1000 + 3600
    pacer.reserve(now=4601.0)  # old creations are forgotten
    store.close()
