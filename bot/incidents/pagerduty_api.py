"""The PagerDuty calls of the incident sync, one account at a time, through `bot.clients.pagerduty`.

Reads page through everything (`iter_all`, 100 per page). Writes raise `RetryLater`/`GiveUp` so the outbox knows
whether to wait (429 with PagerDuty's reset hint, 5xx, network) or stop (a request PagerDuty refuses for good).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from bot.clients.pagerduty import PagerDutyError, PagerDutyHttpError, build_rest_client
from bot.incidents.config import AccountConfig
from bot.incidents.model import OPEN_STATUSES, LogEntry, PdIncident, format_time
from bot.outbox import GiveUp, RetryLater, vendor_retry_after
from bot.settings import Settings

log = logging.getLogger(__name__)

PERMANENT_STATUSES = (400, 402, 403, 404, 422)


class PagerDutyAccount:
    """One PagerDuty account: its settings and a lazily built client (built once, used from one poll at a time)."""

    def __init__(self, config: AccountConfig, settings: Settings):
        self.config = config
        self.name = config.name
        self._settings = settings
        self._client: Any = None
        self._priorities: dict[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                overrides = {"PAGERDUTY_API_URL": self.config.url}
                if self.config.from_email:
                    overrides["PAGERDUTY_FROM_EMAIL"] = self.config.from_email
                self._client = build_rest_client(self._settings.with_overrides(**overrides), self.config.token)
            return self._client

    # --- reads -----------------------------------------------------------------------------------
    def open_incidents(self) -> list[PdIncident]:
        params = {
            "statuses[]": list(OPEN_STATUSES),
            "include[]": ["first_trigger_log_entries"],
            "date_range": "all",  # otherwise only incidents created in the last month are listed
            "time_zone": "UTC",
        }
        return [PdIncident.from_api(self.name, item) for item in self.client.iter_all("/incidents", params=params)]

    def log_entries(self, since: float) -> tuple[list[LogEntry], dict[str, PdIncident]]:
        """Entries since `since` (oldest first) and the current state of each incident they mention."""
        params = {"since": format_time(since), "include[]": ["incidents"], "time_zone": "UTC"}
        entries: list[LogEntry] = []
        incidents: dict[str, PdIncident] = {}
        for item in self.client.iter_all("/log_entries", params=params):
            entry = LogEntry.from_api(item)
            entries.append(entry)
            embedded = item.get("incident") or {}
            if embedded.get("type") == "incident" and embedded.get("id"):
                incidents[str(embedded["id"])] = PdIncident.from_api(self.name, embedded)
        entries.sort(key=lambda e: (e.created_at, e.id))
        return entries, incidents

    def notes(self, incident_id: str) -> list[dict[str, Any]]:
        return list(self.client.rget(f"/incidents/{incident_id}/notes") or [])

    def find_services(self, text: str) -> list[dict[str, Any]]:
        """Services by ID, else by name (exact matches first, then any containing the text)."""
        if re.fullmatch(r"P[A-Z0-9]{6}", text):
            try:
                return [self.client.rget(f"/services/{text}")]
            except PagerDutyHttpError as error:
                if _status(error) != 404:
                    raise
        found = list(self.client.iter_all("/services", params={"query": text}))
        exact = [s for s in found if str(s.get("name", "")).lower() == text.lower()]
        return exact or found

    def priority_id(self, name: str) -> str | None:
        with self._lock:
            cached = self._priorities
        if cached is None or name not in cached:
            cached = {str(p.get("name") or p.get("summary")): str(p["id"]) for p in self.client.iter_all("/priorities")}
            with self._lock:
                self._priorities = cached
        return cached.get(name)

    # --- writes (outbox handlers call these) -----------------------------------------------------
    def resolve(self, incident_id: str) -> bool:
        """Resolve; False when it already was (PagerDuty refuses a second resolve: that is not an error here)."""
        body = {"incident": {"type": "incident_reference", "status": "resolved"}}
        try:
            self.client.rput(f"/incidents/{incident_id}", json=body)
        except PagerDutyHttpError as error:
            if _status(error) == 400 and "resolved" in _text(error).lower():
                return False
            raise as_outbox_error(error) from error
        except PagerDutyError as error:
            raise as_outbox_error(error) from error
        return True

    def set_priority(self, incident_id: str, priority_name: str) -> None:
        try:
            priority_id = self.priority_id(priority_name)
            if priority_id is None:
                raise GiveUp(f"PagerDuty account {self.name} has no priority named {priority_name!r}")
            body = {
                "incident": {
                    "type": "incident_reference",
                    "priority": {"id": priority_id, "type": "priority_reference"},
                }
            }
            self.client.rput(f"/incidents/{incident_id}", json=body)
        except PagerDutyError as error:
            raise as_outbox_error(error) from error

    def add_note(self, incident_id: str, content: str) -> str:
        try:
            note = self.client.rpost(f"/incidents/{incident_id}/notes", json={"note": {"content": content}})
        except PagerDutyError as error:
            raise as_outbox_error(error) from error
        return str((note or {}).get("id") or "")


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _text(error: BaseException) -> str:
    response = getattr(error, "response", None)
    try:
        return str(response.text) if response is not None else str(error)
    except Exception:  # a streamed/closed body: the message is enough
        return str(error)


def as_outbox_error(error: BaseException) -> Exception:
    """A PagerDuty failure as the outbox understands it: wait (429/5xx/network) or give up (refused for good)."""
    status = _status(error)
    if status in PERMANENT_STATUSES:
        return GiveUp(f"PagerDuty refused ({status}): {_text(error)[:200]}")
    return RetryLater(f"PagerDuty: {status or type(error).__name__}: {str(error)[:200]}", vendor_retry_after(error))
