"""The metrics module on its own: what a scrape reads, the vendor counters, the bounded HTTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.metrics import Metrics, MetricsServer, count_refused_locally, count_vendor_response
from bot.scheduler import JobStatus
from bot.settings import SettingsError, load_settings


def job(name: str, last_success_at: float | None, interval: float | None = 60.0) -> JobStatus:
    return JobStatus(
        name=name,
        interval=interval,
        running=False,
        last_started_at=last_success_at,
        last_success_at=last_success_at,
        last_error=None,
        last_error_at=None,
        next_run_at=None,
        runs=1 if last_success_at else 0,
        failures=0,
    )


def sample(found: Metrics, name: str, **labels: str) -> float | None:
    return found.registry.get_sample_value(name, labels)


def build(outbox: dict[str, int] | None = None, jobs: list[JobStatus] | None = None, connected: bool = True) -> Metrics:
    return Metrics(
        outbox_counts=lambda: outbox or {"pending": 0, "done": 0, "failed": 0},
        jobs=lambda: jobs or [],
        socket_connected=lambda: connected,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    serving = MetricsServer(build(outbox={"pending": 2, "failed": 1}), "127.0.0.1", free_port())
    serving.start()
    yield serving
    serving.stop()


def test_a_scrape_reads_the_outbox_the_jobs_and_the_socket_when_it_happens():
    outbox = {"pending": 3, "done": 10, "failed": 1}
    jobs = [job("core.outbox", 1_700_000_000.0, 1.0), job("oncall.write", None, None)]
    connected = [True]
    found = Metrics(outbox_counts=lambda: outbox, jobs=lambda: jobs, socket_connected=lambda: connected[0])
    assert sample(found, "switchboard_outbox_pending") == 3
    assert sample(found, "switchboard_outbox_failed") == 1
    assert sample(found, "switchboard_job_last_success_timestamp_seconds", job="core.outbox") == 1_700_000_000.0
    assert sample(found, "switchboard_job_interval_seconds", job="core.outbox") == 1.0
    # a job that never succeeded has no timestamp (not a 0 that reads as "54 years late"); an on-demand one no interval
    assert sample(found, "switchboard_job_last_success_timestamp_seconds", job="oncall.write") is None
    assert sample(found, "switchboard_job_interval_seconds", job="oncall.write") is None
    assert sample(found, "switchboard_socket_connected") == 1
    outbox["pending"], connected[0] = 0, False  # gauges are read at scrape time, never cached
    assert sample(found, "switchboard_outbox_pending") == 0
    assert sample(found, "switchboard_socket_connected") == 0


def test_a_source_that_fails_leaves_only_its_own_metrics_out(caplog):
    def closed() -> dict[str, int]:
        raise RuntimeError("store is closed")

    found = Metrics(outbox_counts=closed, jobs=lambda: [job("core.outbox", 5.0)], socket_connected=lambda: True)
    assert sample(found, "switchboard_outbox_pending") is None
    assert sample(found, "switchboard_socket_connected") == 1
    assert sample(found, "switchboard_job_last_success_timestamp_seconds", job="core.outbox") == 5.0
    assert "store is closed" in caplog.text


def test_vendor_answers_are_counted_by_status_and_429_or_420_as_rate_limited():
    found = build()
    before_ok = sample(found, "switchboard_vendor_requests_total", vendor="statuspage", status="200") or 0
    before_limited = sample(found, "switchboard_vendor_rate_limited_total", vendor="statuspage")
    assert before_limited is not None  # every vendor's series exists from the start
    for status in (200, 420, 429, 500):
        count_vendor_response("statuspage", status)
    assert sample(found, "switchboard_vendor_requests_total", vendor="statuspage", status="200") == before_ok + 1
    assert sample(found, "switchboard_vendor_rate_limited_total", vendor="statuspage") == before_limited + 2


def test_a_call_refused_locally_is_rate_limited_but_not_a_request():
    found = build()
    requests_before = sum(
        s.value for f in found.registry.collect() if f.name == "switchboard_vendor_requests" for s in f.samples
    )
    limited_before = sample(found, "switchboard_vendor_rate_limited_total", vendor="slack") or 0
    count_refused_locally("slack")
    requests_after = sum(
        s.value for f in found.registry.collect() if f.name == "switchboard_vendor_requests" for s in f.samples
    )
    assert sample(found, "switchboard_vendor_rate_limited_total", vendor="slack") == limited_before + 1
    assert requests_after == requests_before


def test_two_bots_in_one_process_keep_their_own_state_and_share_the_vendor_counters():
    first, second = build(outbox={"pending": 1}), build(outbox={"pending": 7})  # no duplicate-registration error
    first.observe_ack(0.02)
    assert sample(first, "switchboard_ack_seconds_count") == 1
    assert sample(second, "switchboard_ack_seconds_count") == 0
    assert sample(first, "switchboard_outbox_pending") == 1
    assert sample(second, "switchboard_outbox_pending") == 7
    count_vendor_response("jira", 201)
    assert sample(first, "switchboard_vendor_requests_total", vendor="jira", status="201") == sample(
        second, "switchboard_vendor_requests_total", vendor="jira", status="201"
    )


def test_the_ack_histogram_has_buckets_up_to_slacks_three_second_deadline():
    found = build()
    found.observe_ack(0.04)
    assert sample(found, "switchboard_ack_seconds_bucket", le="0.025") == 0
    assert sample(found, "switchboard_ack_seconds_bucket", le="0.05") == 1
    assert sample(found, "switchboard_ack_seconds_bucket", le="3.0") == 1


def test_the_server_answers_get_metrics_in_prometheus_text_and_nothing_else(server):
    base = f"http://127.0.0.1:{server.port}"
    answer = requests.get(base + "/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    assert families["switchboard_outbox_pending"].samples[0].value == 2
    assert families["switchboard_ack_seconds"].type == "histogram"
    assert requests.get(base + "/", timeout=10).status_code == 404
    assert requests.post(base + "/metrics", timeout=10).status_code == 405


def test_the_server_serves_from_one_thread_and_drops_a_stalled_client(server, monkeypatch):
    monkeypatch.setattr(metrics._QuietRequestHandler, "timeout", 0.2)
    threads = threading.active_count()
    with socket.create_connection(("127.0.0.1", server.port)) as stalled:  # connects, never sends a request
        answer = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=30)  # served once it is dropped
        assert answer.status_code == 200
        assert stalled.recv(1) == b""  # the server hung up on it
    for _ in range(5):
        requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    assert threading.active_count() == threads  # no thread per request


def test_stop_releases_the_port_and_a_taken_port_fails_to_start(server):
    with pytest.raises(OSError):
        MetricsServer(build(), "127.0.0.1", server.port).start()
    server.stop()
    again = MetricsServer(build(), "127.0.0.1", server.port)
    again.start()
    again.stop()


def test_metrics_settings_default_to_off_on_loopback_and_name_a_bad_port():
    settings = load_settings({}, dotenv_path=None)
    assert settings.metrics_port is None
    assert settings.metrics_host == "127.0.0.1"
    assert load_settings({"METRICS_PORT": "9464"}, dotenv_path=None).metrics_port == 9464
    with pytest.raises(SettingsError, match="METRICS_PORT must be a TCP port"):
        load_settings({"METRICS_PORT": "70000"}, dotenv_path=None)
