"""The vendor client factories against the fakes: Retry-After honoured, non-idempotent POSTs never re-sent,
custom CAs trusted."""

import pytest
from github import GithubException
from slack_sdk.errors import SlackApiError

from bot.check import run_checks
from bot.clients.github import build_github
from bot.clients.pagerduty import build_rest_client
from bot.clients.slack import build_web_client
from bot.clients.statuspage import StatuspageError, build_statuspage


@pytest.fixture
def settings(world):
    return world.settings(SWITCHBOARD_RETRY_PROFILE="test")


def test_slack_rate_limit_is_retried_after_retry_after(world, settings):
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=0, body={"ok": False, "error": "ratelimited"})
    response = build_web_client(settings).chat_postMessage(channel="C0OPS", text="hello")
    assert response["ok"]
    assert [r.status for r in world.slack.calls("POST", r"/api/chat\.postMessage$")] == [429, 200]
    assert [m["text"] for m in world.slack.messages("C0OPS")] == ["hello"]


def test_slack_post_is_not_resent_after_a_server_error(world, settings):
    world.slack.inject_fault(r"/api/chat\.postMessage$", 500)
    with pytest.raises(SlackApiError):
        build_web_client(settings).chat_postMessage(channel="C0OPS", text="hello")
    assert len(world.slack.calls("POST", r"/api/chat\.postMessage$")) == 1


def test_github_issue_create_is_not_resent_on_5xx_in_production(world):
    github = build_github(world.settings(SWITCHBOARD_RETRY_PROFILE="production"))
    world.github.inject_fault(r"/repos/sandbox/alerts/issues$", 502, method="POST")
    repo = github.get_repo("sandbox/alerts")
    with pytest.raises(GithubException):
        repo.create_issue(title="disk full")
    assert len(world.github.calls("POST", r"/issues$")) == 1
    assert world.github.issues("sandbox/alerts") == []


def test_pagerduty_429_waits_for_the_reset_hint_then_succeeds(world, settings):
    world.pagerduty.inject_fault(r"/abilities$", 429, times=2, headers={"ratelimit-reset": "0"})
    assert build_rest_client(settings).rget("/abilities")
    assert [r.status for r in world.pagerduty.calls("GET", r"/abilities$")] == [429, 429, 200]


def test_pagerduty_gives_up_after_the_bounded_retries(world, settings):
    world.pagerduty.inject_fault(r"/abilities$", 429, times=-1, retry_after=0)
    with pytest.raises(Exception, match="429"):
        build_rest_client(settings).rget("/abilities")
    # the library's one immediate retry, our one wait-and-retry (test profile), each making two requests
    assert len(world.pagerduty.calls("GET", r"/abilities$")) == 4


def test_statuspage_420_is_honoured(world, settings):
    world.statuspage.inject_fault(r"/pages/sandboxpage$", 420, retry_after=0)
    assert build_statuspage(settings).page()["id"] == "sandboxpage"
    assert [r.status for r in world.statuspage.calls("GET", r"/pages/sandboxpage$")] == [420, 200]


def test_statuspage_errors_name_the_status(world, settings):
    client = build_statuspage(world.settings(SWITCHBOARD_RETRY_PROFILE="test", STATUSPAGE_API_KEY="wrong"))
    with pytest.raises(StatuspageError, match="401"):
        client.page()


def test_custom_ca_from_ssl_cert_file_is_trusted(world):
    trusted = {r.integration: r for r in run_checks(world.settings(SWITCHBOARD_RETRY_PROFILE="test"))}
    assert trusted["PagerDuty"].ok
    untrusted = world.settings(SWITCHBOARD_RETRY_PROFILE="test", SSL_CERT_FILE="")
    result = {r.integration: r for r in run_checks(untrusted)}["PagerDuty"]
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.reason


def test_a_long_slack_retry_after_pauses_only_that_method(world):
    """Production profile: a 30 s Retry-After is not slept inside the call; the method is paused, others go on."""
    client = build_web_client(world.settings(SWITCHBOARD_RETRY_PROFILE="production"))
    limited = {"ok": False, "error": "ratelimited"}
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=30, body=limited)
    with pytest.raises(SlackApiError) as first:  # at once: had it waited 30 s and retried, the post would succeed
        client.chat_postMessage(channel="C0OPS", text="hello")
    assert first.value.response["error"] == "ratelimited"
    with pytest.raises(SlackApiError) as second:  # refused locally: Slack is not asked again during the pause
        client.chat_postMessage(channel="C0OPS", text="hello again")
    assert second.value.response.status_code == 429
    assert 28 <= float(second.value.response.headers["Retry-After"]) <= 30
    assert len(world.slack.calls("POST", r"/api/chat\.postMessage$")) == 1
    client.conversations_setTopic(channel="C0OPS", topic="still writable")  # another method is not paused
    assert world.slack.topic("C0OPS") == "still writable"


def test_a_post_rate_limit_pauses_only_that_channel(world):
    client = build_web_client(world.settings(SWITCHBOARD_RETRY_PROFILE="production"))
    limited = {"ok": False, "error": "ratelimited"}
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=30, body=limited)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0OPS", text="busy channel")
    with pytest.raises(SlackApiError):  # still paused, refused locally
        client.chat_postMessage(channel="C0OPS", text="again")
    client.chat_postMessage(channel="C0GENERAL", text="another channel")  # not held back
    assert [m["text"] for m in world.slack.messages("C0GENERAL")] == ["another channel"]
    assert len(world.slack.calls("POST", r"/api/chat\.postMessage$")) == 2
