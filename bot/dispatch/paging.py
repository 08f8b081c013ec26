"""PagerDuty incidents for Dispatch: `POST /incidents` with an incident_key, so that a retry can never page twice.

PagerDuty rejects a second create with the same key on the same service (400, "matching dedup key already
exists") while the first is open: that means "already escalated" and counts as success (the original crashed here,
mapbox/dispatch#119).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.clients.common import retry_after_seconds
from bot.clients.pagerduty import RestClient, build_rest_client
from bot.outbox import RetryLater
from bot.settings import Settings
from bot.text import quoted

log = logging.getLogger(__name__)


class PagingRejected(Exception):
    """PagerDuty refused the incident for good (unknown service, bad From address, invalid key)."""


class PagingUnavailable(Exception):
    """PagerDuty answered 5xx: try again later."""


@dataclass(frozen=True)
class Incident:
    id: str | None
    url: str | None
    already: bool = False  # an open incident with this key existed: nothing new was created


def _error_text(response: Any) -> str:
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return response.text[:200]
    details = "; ".join(str(e) for e in error.get("errors") or [])
    return f"{error.get('message', response.status_code)}{': ' + details if details else ''}"


class Pager:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: RestClient | None = None
        self.calls = 0

    @property
    def client(self) -> RestClient:
        if self._client is None:
            self._client = build_rest_client(self.settings)
        return self._client

    def open_incident(self, service_id: str, title: str, incident_key: str, details: str | None) -> Incident:
        incident: dict[str, Any] = {
            "type": "incident",
            "title": title,
            "service": {"id": service_id, "type": "service_reference"},
            "incident_key": incident_key,
        }
        if details:
            incident["body"] = {"type": "incident_body", "details": details}
        self.calls += 1
        response = self.client.post("/incidents", json={"incident": incident})
        if response.status_code in (200, 201):
            created = response.json()["incident"]
            return Incident(created.get("id"), created.get("html_url"))
        text = _error_text(response)
        if response.status_code == 400 and "dedup key" in text.lower():
            log.info("PagerDuty already has an open incident with key %s on %s", quoted(incident_key), service_id)
            return self._existing(service_id, incident_key)
        if response.status_code == 429:
            raise RetryLater(f"PagerDuty rate limit: {text}", retry_after_seconds(response.headers, 2.0))
        if response.status_code >= 500:
            raise PagingUnavailable(f"PagerDuty answered {response.status_code}: {text}")
        raise PagingRejected(f"PagerDuty answered {response.status_code}: {text}")

    def _existing(self, service_id: str, incident_key: str) -> Incident:
        """The open incident holding this key, for its link (best effort: the page itself already happened)."""
        params = {
            "incident_key": incident_key,
            "service_ids[]": [service_id],
            "statuses[]": ["triggered", "acknowledged"],
        }
        try:
            self.calls += 1
            response = self.client.get("/incidents", params=params)
            found = (response.json().get("incidents") or []) if response.status_code == 200 else []
        except Exception as error:  # the link is a nicety; the escalation stands without it
            log.warning("could not look up the existing PagerDuty incident %s: %s", quoted(incident_key), quoted(error))
            found = []
        first = found[0] if found else {}
        return Incident(first.get("id"), first.get("html_url"), already=True)
