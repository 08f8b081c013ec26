"""Slack's SDKs in one place: the Web API client (slack_sdk), the Bolt app and its Socket Mode handler."""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from bot.clients.common import RetryProfile, profile, retry_after_seconds, ssl_context
from bot.logs import ContextPreservingExecutor, bind
from bot.metrics import count_refused_locally, count_vendor_response
from bot.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "App",
    "ReconnectBackoff",
    "SlackApiError",
    "SocketModeHandler",
    "WebClient",
    "build_bolt_app",
    "build_web_client",
    "install_reconnect_backoff",
    "slack_error",
]


class MethodPauses:
    """Slack rate-limits per method: after a 429, that method waits out Retry-After while the others go on.

    Shared by a client and its retry handler; thread-safe (Bolt's listeners, the jobs and the pool share a client).
    """

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def pause(self, method: str, seconds: float) -> None:
        with self._lock:
            self._until[method] = max(self._until.get(method, 0.0), time.monotonic() + seconds)

    def remaining(self, method: str) -> float:
        with self._lock:
            return max(self._until.get(method, 0.0) - time.monotonic(), 0.0)


class CountingRetryHandler(RetryHandler):
    """Counts every HTTP answer for the metrics and never asks for a retry. slack_sdk has no response hook, but it
    consults its retry handlers after each answer, a retried one included; this one goes first so it sees them all."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            count_vendor_response("slack", response.status_code)
        return False


class PausingRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """On a 429: a short Retry-After (up to the profile's `max_wait`) is waited out and the call retried; a longer
    one pauses the method and the 429 goes back to the caller at once (a job's outbox effect then retries later),
    so no thread sleeps for minutes inside a call."""

    def __init__(self, retry_profile: RetryProfile, pauses: MethodPauses):
        super().__init__(max_retry_count=retry_profile.rate_limit_retries)
        self._profile = retry_profile
        self._pauses = pauses

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        seconds = retry_after_seconds(_headers(response))
        self._pauses.pause(pause_key(_method(request.url), _request_channel(request)), seconds)
        return seconds <= self._profile.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        state.next_attempt_requested = True
        time.sleep(min(retry_after_seconds(_headers(response)), self._profile.max_wait))
        state.increment_current_attempt()


class PausingWebClient(WebClient):
    """A WebClient that refuses, without a request, a method Slack has paused: the caller gets the same
    `ratelimited` error (with the Retry-After left) that Slack would answer."""

    def __init__(self, *args: Any, pauses: MethodPauses, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pauses = pauses

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        arguments = {**(kwargs.get("params") or {}), **(kwargs.get("data") or {}), **(kwargs.get("json") or {})}
        remaining = self.pauses.remaining(pause_key(api_method, arguments.get("channel")))
        if remaining > 0:
            count_refused_locally("slack")
            response = SlackResponse(
                client=self,
                http_verb=kwargs.get("http_verb", "POST"),
                api_url=self.base_url + api_method,
                req_args={},
                data={"ok": False, "error": "ratelimited"},
                headers={"Retry-After": str(math.ceil(remaining))},
                status_code=429,
            )
            raise SlackApiError(f"{api_method} is paused for {remaining:.1f}s after a 429", response)
        return super().api_call(api_method, **kwargs)


# Posting is limited per channel, not per method: one busy channel must not hold back the others.
PER_CHANNEL_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete"})


def pause_key(method: str, channel: Any) -> str:
    return f"{method}:{channel}" if method in PER_CHANNEL_METHODS and channel else method


def _request_channel(request: HttpRequest) -> Any:
    if request.body_params and "channel" in request.body_params:
        return request.body_params["channel"]
    if request.data:
        try:
            body = json.loads(request.data)
        except ValueError:
            return None
        return body.get("channel") if isinstance(body, dict) else None
    return None


def _headers(response: HttpResponse) -> dict[str, Any]:
    return {k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()}


def _method(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def build_web_client(settings: Settings, token: str | None = None) -> WebClient:
    retry_profile = profile(settings)
    pauses = MethodPauses()
    handlers: list[RetryHandler] = [CountingRetryHandler(), PausingRateLimitRetryHandler(retry_profile, pauses)]
    return PausingWebClient(
        pauses=pauses,
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url + "/",
        timeout=int(retry_profile.timeout),
        ssl=ssl_context(settings),
        retry_handlers=handlers,
    )


def slack_error(error: Exception) -> str:
    """The short Slack error code (`not_in_channel`, …) of a failed call, or the exception text."""
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return f"{type(error).__name__}: {error}"


class _TokenNoticeFilter(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever it is in the environment; here that is by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage() and "will be ignored" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenNoticeFilter) for f in logger.filters):
        logger.addFilter(_TokenNoticeFilter())
    return logger


def build_bolt_app(slack: WebClient, bot_token: str, auth_test: Any) -> App:
    """The Bolt app over our Web API client. `authorize` hands Bolt the `auth.test` answer we already have,
    instead of a second call; its listeners run in the context (log fields) of the envelope they serve."""
    authorization = AuthorizeResult.from_auth_test_response(bot_token=bot_token, auth_test_response=auth_test)
    return App(
        client=slack,
        authorize=lambda **_: authorization,
        name="switchboard",
        logger=_bolt_logger(),
        listener_executor=ContextPreservingExecutor(max_workers=5, thread_name_prefix="bolt"),
    )


class _AckTimer:
    """The Socket Mode client as Bolt's adapter sees it while handling one envelope: sending the ack also reports
    the time since handling began. Everything else is the client's own."""

    def __init__(self, client: Any, started: float, on_ack: Callable[[float], None]):
        self._client, self._started, self._on_ack = client, started, on_ack

    def send_socket_mode_response(self, response: Any) -> None:
        self._client.send_socket_mode_response(response)
        self._on_ack(time.perf_counter() - self._started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class TracedSocketModeHandler(SocketModeHandler):
    """Every log line written while an envelope is handled names it (`envelope_id`); `on_ack` is told how long
    each envelope took from the moment a worker took it up until Bolt sent its ack (Bolt sends the ack from
    `send_socket_mode_response` once the listener has called `ack()`; an envelope no listener handles gets none)."""

    def __init__(self, app: App, *args: Any, on_ack: Callable[[float], None] = lambda seconds: None, **kwargs: Any):
        super().__init__(app, *args, **kwargs)
        self.on_ack = on_ack

    def handle(self, client: Any, req: Any) -> None:
        with bind(envelope_id=getattr(req, "envelope_id", None)):
            super().handle(_AckTimer(client, time.perf_counter(), self.on_ack), req)


class ReconnectBackoff:
    """When Slack refuses new connections, or drops each one soon after it opens, wait longer before each try:
    exponential from `base`, capped at `cap`, with jitter so many bots do not retry in step. A connection that
    stayed up for `stable` seconds resets the count."""

    def __init__(
        self,
        base: float,
        cap: float = 60.0,
        stable: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ):
        self.base, self.cap, self.stable = base, cap, stable
        self.clock, self.jitter = clock, jitter
        self.failures = 0
        self.next_attempt_at = 0.0
        self.connected_at: float | None = None
        self.delays: list[float] = []  # every wait decided, newest last (for logs and tests)

    def allowed(self) -> bool:
        return self.clock() >= self.next_attempt_at

    def dropped(self) -> None:
        """The connection we had is gone; a short-lived one counts as a failure."""
        if self.connected_at is not None:
            if self.clock() - self.connected_at < self.stable:
                self.failed()
            else:
                self.failures = 0
        self.connected_at = None

    def failed(self) -> None:
        self.failures += 1
        delay = min(self.cap, self.base * 2 ** (self.failures - 1)) * (0.5 + self.jitter() / 2)
        self.delays.append(delay)
        self.next_attempt_at = self.clock() + delay

    def connected(self) -> None:
        self.connected_at = self.clock()


def install_reconnect_backoff(
    handler: SocketModeHandler, backoff: ReconnectBackoff, on_reconnect: Callable[[], None]
) -> None:
    """slack_sdk's client reconnects at every monitor tick (the ping interval) however often Slack refuses; put the
    backoff in front of its reconnect. A skipped attempt is retried at a later tick."""
    client = handler.client
    reconnect = client.connect_to_new_endpoint

    def connect_to_new_endpoint(force: bool = False) -> None:
        if client.closed:
            return
        if backoff.connected_at is not None:
            backoff.dropped()
        if not backoff.allowed():
            return
        try:
            reconnect(force)
        except Exception:
            backoff.failed()
            log.warning("Socket Mode reconnect failed; next try in %.1fs", backoff.next_attempt_at - backoff.clock())
            raise
        if client.is_connected():
            backoff.connected()
            on_reconnect()

    client.connect_to_new_endpoint = connect_to_new_endpoint
