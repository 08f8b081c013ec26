"""Slack's SDKs in one place: the Web API client (slack_sdk), the Bolt app and its Socket Mode handler."""

from __future__ import annotations

import logging
import math
import threading
import time
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
from bot.settings import Settings

__all__ = [
    "App",
    "SlackApiError",
    "SocketModeHandler",
    "WebClient",
    "build_bolt_app",
    "build_web_client",
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
        self._pauses.pause(_method(request.url), seconds)
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
        remaining = self.pauses.remaining(api_method)
        if remaining > 0:
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


def _headers(response: HttpResponse) -> dict[str, Any]:
    return {k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()}


def _method(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


def build_web_client(settings: Settings, token: str | None = None) -> WebClient:
    retry_profile = profile(settings)
    pauses = MethodPauses()
    handlers: list[RetryHandler] = [PausingRateLimitRetryHandler(retry_profile, pauses)]
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
    instead of a second call."""
    authorization = AuthorizeResult.from_auth_test_response(bot_token=bot_token, auth_test_response=auth_test)
    return App(client=slack, authorize=lambda **_: authorization, name="switchboard", logger=_bolt_logger())
