"""Running the bot: connect Socket Mode, start the jobs, wait for SIGINT/SIGTERM, shut down cleanly."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from typing import Any

from bot.clients.slack import ReconnectBackoff, TracedSocketModeHandler, install_reconnect_backoff
from bot.health import HEARTBEAT_JOB, Heartbeat, JobBeat, record_reconnect, write_heartbeat
from bot.metrics import Metrics, MetricsServer
from bot.runtime import Runtime, StartupError

log = logging.getLogger(__name__)


class Bot:
    """A runtime connected to Slack. `start()` returns once connected; `stop()` is idempotent."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        # The ping interval is also how soon a dead socket is noticed and replaced; tests don't wait 10 s for it.
        ping_interval = runtime.settings.retry_profile.socket_ping_interval
        self.metrics = Metrics(
            outbox_counts=runtime.outbox.counts, jobs=runtime.scheduler.status, socket_connected=self.is_connected
        )
        self.handler = TracedSocketModeHandler(
            runtime.app,
            app_token=runtime.settings.slack_app_token,
            concurrency=10,
            ping_interval=ping_interval,
            on_ack=self.metrics.observe_ack,
        )
        self.handler.client.message_listeners.append(self._warn_on_second_connection)
        self.backoff = ReconnectBackoff(base=runtime.settings.retry_profile.reconnect_base)
        install_reconnect_backoff(self.handler, self.backoff, self._record_reconnect)
        port = runtime.settings.metrics_port
        self.metrics_server = MetricsServer(self.metrics, runtime.settings.metrics_host, port) if port else None
        self.started_at = time.time()
        self._stopped = False

    @staticmethod
    def _warn_on_second_connection(client: Any, message: dict, raw: str | None) -> None:
        # Slack hands each envelope to any one open connection: a second copy silently steals traffic.
        if message.get("type") == "hello" and int(message.get("num_connections") or 1) > 1:
            log.warning(
                "Slack reports %s open connections for this app: is another Switchboard running with this token?",
                message["num_connections"],
            )

    def is_connected(self) -> bool:
        return bool(self.handler.client.is_connected())

    def start(self) -> None:
        self._serve_metrics()  # first: a port already taken stops the bot before it touches Slack
        try:
            self.handler.connect()
        except BaseException:
            self._stop_metrics()
            raise
        self.backoff.connected()
        self.runtime.scheduler.every(HEARTBEAT_JOB, self.runtime.settings.retry_profile.heartbeat_seconds, self.beat)
        self.runtime.start()
        self.beat()
        log.info("connected to Slack through Socket Mode")

    def beat(self) -> None:
        """What `app.py health` reads, from another process: alive, connected, and how the jobs are doing."""
        write_heartbeat(
            self.runtime.store,
            Heartbeat(
                at=time.time(),
                pid=os.getpid(),
                started_at=self.started_at,
                connected=self.is_connected(),
                interval=self.runtime.settings.retry_profile.heartbeat_seconds,
                jobs=[JobBeat.of(job) for job in self.runtime.scheduler.status()],
            ),
        )

    def _serve_metrics(self) -> None:
        server = self.metrics_server
        if server is None:
            return
        try:
            server.start()
        except OSError as error:
            raise StartupError(
                f"cannot serve metrics on {server.host}:{server.port} (METRICS_HOST, METRICS_PORT): "
                f"{error.strerror or error}"
            ) from error

    def _stop_metrics(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.stop()

    def _record_reconnect(self) -> None:
        log.info("Socket Mode reconnected")
        record_reconnect(self.runtime.store)

    def _close_socket(self) -> None:
        # slack_sdk's builtin close() waits out a 3 s socket read and a 1 s queue poll before its threads notice.
        # Stop the session runner's loop, wake its read by shutting the socket, and keep the session marked
        # terminated until the runner has gone (a pass that was just starting resets the mark). slack_sdk 3.48.
        client = self.handler.client
        client.closed = True
        client.auto_reconnect_enabled = False
        runner = client.current_session_runner
        runner.event.set()
        sock = getattr(client.current_session, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        while runner.is_alive() and time.monotonic() < deadline:
            client.current_session_state.terminated = True
            runner.thread.join(0.05)
        client.message_queue.put("")
        self.handler.close()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        log.info("shutting down: closing the socket, finishing running jobs")
        self._close_socket()  # first, so no new work arrives while the rest drains
        self._stop_metrics()  # before the database closes: a scrape reads it
        self.runtime.close()
        log.info("stopped")


def stop_on_signals(stop: threading.Event) -> None:
    """SIGINT/SIGTERM set `stop`. Installed before connecting, so a signal during startup still stops cleanly."""

    def on_signal(signum: int, frame: Any) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def wait_until_stopped(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass
