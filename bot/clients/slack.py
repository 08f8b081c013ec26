"""Slack's SDKs in one place: the Web API client (slack_sdk), the Bolt app and its Socket Mode handler."""

from __future__ import annotations

import logging
import time
from typing import Any

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


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Like slack_sdk's handler, but the sleep is Retry-After exactly, capped by the profile (no jitter in tests)."""

    def __init__(self, retry_profile: RetryProfile):
        super().__init__(max_retry_count=retry_profile.rate_limit_retries)
        self._profile = retry_profile

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
        headers = {k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
        time.sleep(min(retry_after_seconds(headers), self._profile.max_wait))
        state.increment_current_attempt()


def build_web_client(settings: Settings, token: str | None = None) -> WebClient:
    retry_profile = profile(settings)
    handlers: list[RetryHandler] = [CappedRateLimitRetryHandler(retry_profile)]
    return WebClient(
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
