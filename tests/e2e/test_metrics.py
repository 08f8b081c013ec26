"""Metrics end to end: the real bot with METRICS_PORT set, scraped over HTTP like Prometheus does.

The vendor counters are process-wide (every bot in this test process adds to them), so those are compared before
and after; the rest belongs to the one bot scraped.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.check import run_checks
from bot.runner import Bot
from bot.runtime import StartupError
from bot.wiring import build
from tests.e2e.harness import BotUnderTest

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
VENDORS = ("slack", "pagerduty", "zendesk", "jira", "github", "statuspage")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(bot: BotUnderTest) -> Samples:
    settings = bot.runtime.settings
    answer = requests.get(f"http://{settings.metrics_host}:{settings.metrics_port}/metrics", timeout=10)
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples, vendor: str, status: int) -> float:
    return value(samples, "switchboard_vendor_requests_total", vendor=vendor, status=str(status))


def rate_limited(samples: Samples, vendor: str) -> float:
    return value(samples, "switchboard_vendor_rate_limited_total", vendor=vendor)


@pytest.fixture
def bot(make_bot) -> BotUnderTest:
    return make_bot(METRICS_PORT=str(free_port()))


def test_metrics_show_requests_acks_the_socket_the_outbox_and_job_successes(bot, world):
    before = scrape(bot)
    assert value(before, "switchboard_socket_connected") == 1
    assert requests_of(before, "slack", 200) >= 2  # auth.test and apps.connections.open at start
    assert bot.command_reply("U0BOB", "C0OPS", "/switchboard", "status")
    world.slack.open_home("U0ALICE")  # an event acked, then views.publish
    world.slack.wait_for(lambda: world.slack.home_view("U0ALICE"), message="the Home tab")
    polled_at = time.time()
    bot.runtime.scheduler.run_and_wait("incidents.poll")  # asks PagerDuty for incident log entries
    after = scrape(bot)

    assert value(after, "switchboard_ack_seconds_count") >= 2
    assert value(after, "switchboard_ack_seconds_sum") > 0
    assert value(after, "switchboard_ack_seconds_bucket", le="+Inf") == value(after, "switchboard_ack_seconds_count")
    assert requests_of(after, "pagerduty", 200) > requests_of(before, "pagerduty", 200)
    assert requests_of(after, "slack", 200) > requests_of(before, "slack", 200)
    assert value(after, "switchboard_job_last_success_timestamp_seconds", job="incidents.poll") >= polled_at
    assert value(after, "switchboard_job_interval_seconds", job="core.outbox") == 1.0
    assert ("switchboard_outbox_pending", frozenset()) in after
    assert value(after, "switchboard_outbox_failed") == 0
    assert all(("switchboard_vendor_rate_limited_total", frozenset({("vendor", v)})) in after for v in VENDORS)
    assert value(after, "switchboard_socket_connected") == 1


def test_every_vendor_request_is_counted_with_its_status(bot, world):
    before = scrape(bot)
    results = run_checks(world.settings(SWITCHBOARD_RETRY_PROFILE="test"))  # one cheap call to each vendor
    assert results and all(result.ok for result in results), results
    after = scrape(bot)
    for vendor in VENDORS:
        assert requests_of(after, vendor, 200) > requests_of(before, vendor, 200), vendor


def test_rate_limits_are_counted_retries_included_and_a_locally_refused_slack_call_is_no_request(bot, world):
    before = scrape(bot)
    # PagerDuty answers 429 twice; the client's retries (the library's own among them) each count
    world.pagerduty.inject_fault(r"/abilities$", 429, times=2, headers={"ratelimit-reset": "0"})
    results = {r.integration: r for r in run_checks(world.settings(SWITCHBOARD_RETRY_PROFILE="test"))}
    assert results["PagerDuty"].ok
    # Slack asks for 30 s: the method is paused, and the next call is refused without a request
    limited = {"ok": False, "error": "ratelimited"}
    world.slack.inject_fault(r"/api/chat\.postMessage$", 429, retry_after=30, body=limited)
    for text in ("first", "refused locally"):
        with pytest.raises(SlackApiError):
            bot.runtime.slack.chat_postMessage(channel="C0OPS", text=text)
    after = scrape(bot)

    assert requests_of(after, "pagerduty", 429) - requests_of(before, "pagerduty", 429) == 2
    assert rate_limited(after, "pagerduty") - rate_limited(before, "pagerduty") == 2
    assert requests_of(after, "slack", 429) - requests_of(before, "slack", 429) == 1
    assert rate_limited(after, "slack") - rate_limited(before, "slack") == 2
    assert len(world.slack.calls("POST", r"/api/chat\.postMessage$")) == 1


def test_the_socket_gauge_follows_the_connection(bot, world):
    world.slack.inject_fault(r"/api/apps\.connections\.open$", 500, times=-1)
    world.slack.drop_socket()
    world.slack.wait_for(lambda: value(scrape(bot), "switchboard_socket_connected") == 0, message="the gauge at 0")
    world.slack.clear_faults()
    world.slack.wait_for(
        lambda: value(scrape(bot), "switchboard_socket_connected") == 1, timeout=30, message="the gauge back at 1"
    )


def test_a_taken_metrics_port_stops_the_bot_before_it_connects(world):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runtime = build(world.settings(SWITCHBOARD_RETRY_PROFILE="test", METRICS_PORT=str(port)))
        try:
            with pytest.raises(StartupError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
                Bot(runtime).start()
        finally:
            runtime.close()
    assert world.slack.connection_count == 0


def test_without_metrics_port_nothing_listens(make_bot):
    quiet = make_bot()
    assert quiet.bot.metrics_server is None
    assert quiet.runtime.settings.metrics_port is None
