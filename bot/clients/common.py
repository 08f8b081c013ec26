"""What every vendor client shares: TLS trust from settings, timeouts and retry budgets per profile."""

from __future__ import annotations

import ssl
import time
from typing import Any

import requests

from bot.metrics import count_vendor_response
from bot.settings import MAX_RETRY_AFTER_SECONDS, RetryProfile, Settings

__all__ = [
    "MAX_RETRY_AFTER_SECONDS",
    "RetryProfile",
    "count_responses",
    "profile",
    "requests_verify",
    "retry_after_seconds",
    "ssl_context",
]


def profile(settings: Settings) -> RetryProfile:
    return settings.retry_profile


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """System trust, or only the bundle named by SSL_CERT_FILE / REQUESTS_CA_BUNDLE."""
    return ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else ssl.create_default_context()


def requests_verify(settings: Settings) -> str | bool:
    return settings.ca_bundle or True


def retry_after_seconds(headers: dict[str, str] | object, default: float = 1.0) -> float:
    """Seconds to wait from Retry-After (or PagerDuty's ratelimit-reset); `default` when absent or unreadable."""
    get = getattr(headers, "get", None)
    if get is None:
        return default
    for name in ("Retry-After", "retry-after", "ratelimit-reset", "RateLimit-Reset"):
        value = get(name)
        if value:
            try:
                return max(float(value), 0.0)
            except ValueError:
                continue
    return default


def count_responses(session: requests.Session, vendor: str) -> None:
    """Count every answer this session gets for the metrics: requests runs a session's response hooks once per
    HTTP response, so a request retried by a library counts each time."""

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        count_vendor_response(vendor, response.status_code)

    session.hooks["response"].append(count)


def wait(seconds: float, settings_profile: RetryProfile) -> None:
    time.sleep(min(seconds, settings_profile.max_wait))
