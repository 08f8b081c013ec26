"""PagerDuty through the maintained `pagerduty` package (successor of the deprecated pdpyras).

The package retries 429 forever with its own backoff and ignores the server's hints. Here it retries a
429 once, immediately, then this module waits for `ratelimit-reset`/`Retry-After` (capped) a bounded
number of times.
"""

from __future__ import annotations

import logging
from typing import Any

import pagerduty
from pagerduty import RestApiV2Client

from bot.clients.common import RetryProfile, profile, retry_after_seconds, ssl_context, wait
from bot.metrics import count_vendor_response
from bot.settings import Settings

log = logging.getLogger(__name__)

PagerDutyError = pagerduty.Error
PagerDutyHttpError = pagerduty.HttpError

__all__ = ["PagerDutyError", "PagerDutyHttpError", "build_rest_client"]


class RestClient(RestApiV2Client):
    """RestApiV2Client whose 429 handling honours the server's reset hint, boundedly."""

    retry_profile: RetryProfile

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        attempts = 0
        while True:
            response = super().request(method, url, **kwargs)
            if response.status_code != 429 or attempts >= self.retry_profile.rate_limit_retries:
                return response
            attempts += 1
            seconds = retry_after_seconds(response.headers, default=2.0**attempts)
            if seconds > self.retry_profile.max_wait:
                return response  # the caller (a job, an outbox effect) comes back after Retry-After
            log.warning("PagerDuty rate limit on %s %s; waiting %.1fs", method, url, seconds)
            wait(seconds, self.retry_profile)


def _count_response(response: Any) -> None:
    count_vendor_response("pagerduty", response.status_code)


def build_rest_client(settings: Settings, token: str | None = None) -> RestClient:
    retry_profile = profile(settings)
    client = RestClient(
        token or settings.pagerduty_api_token,
        default_from=settings.pagerduty_from_email,
        base_url=settings.pagerduty_api_url,
        verify=ssl_context(settings),
    )
    client.timeout = retry_profile.timeout
    client.retry_profile = retry_profile
    client.retry[429] = 1  # one immediate library retry, then ours with the server's hint
    client.sleep_timer = 0.0
    client.max_network_attempts = retry_profile.network_retries
    # The package sends through an httpx2 client, whose response hooks run for every answer, retries included.
    client.event_hooks["response"].append(_count_response)
    return client
