"""A thin Statuspage manage-API client on requests (there is no maintained official one).

Statuspage allows about one request per second per key and answers 420 or 429 with Retry-After when
pushed: calls are paced, and a throttled call (which the server did not process) is retried after the hint.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests

from bot.clients.common import RetryProfile, count_responses, profile, requests_verify, retry_after_seconds, wait
from bot.settings import Settings
from bot.text import quoted

__all__ = ["THROTTLED", "StatuspageClient", "StatuspageError", "StatuspageNetworkError", "build_statuspage"]

log = logging.getLogger(__name__)

# A request that never got Statuspage's answer (connection, timeout); an answer with an error is StatuspageError.
StatuspageNetworkError = requests.RequestException

THROTTLED = (420, 429)
PAGE_SIZE = 100


class StatuspageError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"Statuspage answered {status}: {message}")
        self.status = status


class StatuspageClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        page_id: str,
        *,
        retry_profile: RetryProfile,
        verify: str | bool = True,
        min_interval: float = 1.2,
    ):
        self.base_url = base_url.rstrip("/")
        self.page_id = page_id
        self.retry_profile = retry_profile
        self.min_interval = min_interval
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"OAuth {api_key}", "Accept": "application/json"})
        self.session.verify = verify
        count_responses(self.session, "statuspage")
        self._pace_lock = threading.Lock()
        self._last_request = 0.0

    def _pace(self) -> None:
        with self._pace_lock:
            delay = self._last_request + self.min_interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last_request = time.monotonic()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/pages/{self.page_id}{path}"
        attempts = 0
        while True:
            self._pace()
            response = self.session.request(method, url, timeout=self.retry_profile.timeout, **kwargs)
            if response.status_code in THROTTLED and attempts < self.retry_profile.rate_limit_retries:
                attempts += 1
                seconds = retry_after_seconds(response.headers, default=self.min_interval * 2)
                log.warning(  # the path carries ids read from Statuspage: quoted
                    "Statuspage throttled %s %s (%d); waiting %.1fs",
                    method,
                    quoted(path),
                    response.status_code,
                    seconds,
                )
                wait(seconds, self.retry_profile)
                continue
            if response.status_code >= 400:
                raise StatuspageError(response.status_code, response.text[:200])
            return response.json() if response.content else None

    def page(self) -> dict[str, Any]:
        return self.request("GET", "")

    def _all_pages(self, path: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.request("GET", path, params={"page": page, "per_page": PAGE_SIZE})
            result.extend(batch)
            if len(batch) < PAGE_SIZE:
                return result
            page += 1

    def components(self) -> list[dict[str, Any]]:
        """All components, page by page (an unpaginated call is limited to one a minute)."""
        return self._all_pages("/components")

    def unresolved_incidents(self) -> list[dict[str, Any]]:
        return self._all_pages("/incidents/unresolved")

    def create_incident(self, incident: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/incidents", json={"incident": incident})

    def update_incident(self, incident_id: str, incident: dict[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", f"/incidents/{incident_id}", json={"incident": incident})


def build_statuspage(settings: Settings) -> StatuspageClient:
    retry_profile = profile(settings)
    return StatuspageClient(
        settings.statuspage_api_url,
        settings.statuspage_api_key,
        settings.statuspage_page_id,
        retry_profile=retry_profile,
        verify=requests_verify(settings),
        min_interval=1.2 * retry_profile.pacing,  # Statuspage allows about one request per second per key
    )
