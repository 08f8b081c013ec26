"""The Slack Web API client (slack_sdk) built from settings, with Retry-After honoured on 429."""

from __future__ import annotations

import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.clients.common import RetryProfile, profile, retry_after_seconds, ssl_context
from bot.settings import Settings

__all__ = ["SlackApiError", "WebClient", "build_web_client", "slack_error"]


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
