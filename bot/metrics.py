"""Prometheus metrics: what an operations team graphs and alerts on (docs/metrics.md explains each one).

Two kinds:
- Vendor request counters, incremented by the vendor clients in `bot/clients/` as each HTTP answer arrives. They
  are process-wide: clients are built by capabilities (and by `app.py check`) from settings alone, with no handle
  on the running bot, and one process runs one bot. Every bot's registry exposes the same two counters.
- The state of one running bot, kept in that bot's own `CollectorRegistry` (never prometheus_client's global
  one, so several bots in one process, as in the tests, do not clash): the ack histogram, observed by the
  Socket Mode handler, and gauges read at scrape time (outbox rows from SQLite, each job's last success from the
  scheduler, the socket from the runner), so they can never drift from the truth.

`MetricsServer` serves `GET /metrics` from one thread, one request at a time, each bounded by a socket timeout:
a scrape is a few SQLite reads, and a slow or stalled client cannot make it start threads or hold it for long.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from bot.scheduler import JobStatus

log = logging.getLogger(__name__)

VENDORS = ("slack", "pagerduty", "zendesk", "jira", "github", "statuspage")
RATE_LIMITED_STATUSES = frozenset({420, 429})  # 420 is Statuspage's "enhance your calm"
# Slack shows the user an error when a slash command or button is not acked within 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
REQUEST_TIMEOUT_SECONDS = 5.0  # the longest one scrape connection may hold the server's single thread
METRICS_PATH = "/metrics"

_vendor_requests = Counter(
    "switchboard_vendor_requests",
    "HTTP requests to a vendor API that got an answer, by vendor and HTTP status (retries count each time)",
    ("vendor", "status"),
    registry=None,
)
_vendor_rate_limited = Counter(
    "switchboard_vendor_rate_limited",
    "Vendor calls refused for rate limiting: answers 429 or 420, and Slack calls refused locally during a pause",
    ("vendor",),
    registry=None,
)
for _vendor in VENDORS:  # every vendor's series exists from the start, so rate() and alerts see a 0, not nothing
    _vendor_rate_limited.labels(vendor=_vendor)


def count_vendor_response(vendor: str, status: int) -> None:
    """One HTTP answer from a vendor (called by the clients' response hooks)."""
    _vendor_requests.labels(vendor=vendor, status=str(status)).inc()
    if status in RATE_LIMITED_STATUSES:
        _vendor_rate_limited.labels(vendor=vendor).inc()


def count_refused_locally(vendor: str) -> None:
    """A call not sent because the vendor asked us to wait (a paused Slack method): rate limited, not a request."""
    _vendor_rate_limited.labels(vendor=vendor).inc()


class _BotState:
    """Gauges read when scraped. A source that fails (the database closing at shutdown) leaves its metrics out of
    that scrape instead of failing the whole answer."""

    def __init__(
        self,
        outbox_counts: Callable[[], Mapping[str, int]],
        jobs: Callable[[], Iterable[JobStatus]],
        socket_connected: Callable[[], bool],
    ):
        self.outbox_counts = outbox_counts
        self.jobs = jobs
        self.socket_connected = socket_connected

    def describe(self) -> Iterator[Metric]:
        """The names, without reading anything (the registry checks them for clashes at registration)."""
        yield from self._outbox({})
        yield from self._jobs([])
        yield from self._socket(False)

    def collect(self) -> Iterator[Metric]:
        for read, build in (
            (self.outbox_counts, self._outbox),
            (self.jobs, self._jobs),
            (self.socket_connected, self._socket),
        ):
            try:
                value = read()
            except Exception as error:
                log.warning("metrics: could not read %s: %s", getattr(read, "__qualname__", read), error)
                continue
            yield from build(value)

    @staticmethod
    def _outbox(counts: Mapping[str, int]) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "switchboard_outbox_pending",
            "Outbox effects waiting to be performed (new, or retrying after a failure or a rate limit)",
            value=counts.get("pending", 0),
        )
        yield GaugeMetricFamily(
            "switchboard_outbox_failed",
            "Outbox effects that failed for good and are kept until retried from the alert or pruned",
            value=counts.get("failed", 0),
        )

    @staticmethod
    def _jobs(jobs: Iterable[JobStatus]) -> Iterator[Metric]:
        last_success = GaugeMetricFamily(
            "switchboard_job_last_success_timestamp_seconds",
            "When each background job last finished without an error (Unix time); absent until it first succeeds",
            labels=("job",),
        )
        interval = GaugeMetricFamily(
            "switchboard_job_interval_seconds",
            "How often each scheduled job runs (for alert rules relative to the interval)",
            labels=("job",),
        )
        for job in jobs:
            if job.last_success_at is not None:
                last_success.add_metric((job.name,), job.last_success_at)
            if job.interval is not None:
                interval.add_metric((job.name,), job.interval)
        yield last_success
        yield interval

    @staticmethod
    def _socket(connected: bool) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "switchboard_socket_connected",
            "1 while the Socket Mode connection to Slack is open, 0 while it is reconnecting",
            value=1 if connected else 0,
        )


class Metrics:
    """One running bot's metrics and the registry that exposes them with the vendor counters."""

    def __init__(
        self,
        *,
        outbox_counts: Callable[[], Mapping[str, int]],
        jobs: Callable[[], Iterable[JobStatus]],
        socket_connected: Callable[[], bool],
    ):
        self.registry = CollectorRegistry()
        self.registry.register(_vendor_requests)
        self.registry.register(_vendor_rate_limited)
        self.ack_seconds = Histogram(
            "switchboard_ack_seconds",
            "Time from handling a Socket Mode envelope until its ack is sent to Slack",
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_BotState(outbox_counts, jobs, socket_connected))

    def observe_ack(self, seconds: float) -> None:
        self.ack_seconds.observe(seconds)


class _QuietRequestHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_SECONDS  # applied to each connection: a stalled client is dropped after this

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics: " + format, *args)


class _SingleThreadServer(WSGIServer):
    """Serves one request at a time in its one thread."""

    def server_bind(self) -> None:
        # HTTPServer's own looks the host up in DNS (socket.getfqdn) only to name itself, which can stall startup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that times out or hangs up is not worth a traceback on stderr.
        log.debug("metrics: request from %s failed: %s", client_address, sys.exc_info()[1])


class _SingleThreadServer6(_SingleThreadServer):
    address_family = socket.AF_INET6


class MetricsServer:
    """`GET /metrics` on host:port, started and stopped with the bot."""

    def __init__(self, metrics: Metrics, host: str, port: int):
        self.metrics = metrics
        self.host = host
        self.port = port
        self._server: _SingleThreadServer | None = None
        self._thread: threading.Thread | None = None

    def _app(self) -> Callable[..., Iterable[bytes]]:
        exposition = make_wsgi_app(self.metrics.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") != METRICS_PATH:
                start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
                return [f"Not found: the metrics are at {METRICS_PATH}\n".encode()]
            return exposition(environ, start_response)

        return app

    def start(self) -> None:
        """Bind (an OSError when the port is taken or the address is not this machine's), then serve."""
        server_class = _SingleThreadServer6 if ":" in self.host else _SingleThreadServer
        self._server = make_server(
            self.host, self.port, self._app(), server_class=server_class, handler_class=_QuietRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="metrics", daemon=True
        )
        self._thread.start()
        log.info("serving Prometheus metrics on http://%s:%d%s", self.host, self.port, METRICS_PATH)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()  # waits for the serving loop, so a scrape in progress finishes first
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(REQUEST_TIMEOUT_SECONDS)
        self._server = None
