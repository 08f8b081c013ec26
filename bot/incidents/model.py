"""PagerDuty incidents and log entries as the sync needs them: small, typed, parsed once from the API's JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

OPEN_STATUSES = ("triggered", "acknowledged")
MAX_CHANNEL_BODY = 4000  # an email body is only searched for `Component: <id>`; the rest is not kept


def parse_time(value: str | None) -> float | None:
    """PagerDuty's ISO 8601 timestamps (`2026-01-02T03:04:05Z`, or with an offset) as epoch seconds."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _trigger_channel(data: dict[str, Any]) -> dict[str, Any]:
    """What the first alert said about itself: channel type, tags (string or list) and an email body."""
    first = data.get("first_trigger_log_entry") or {}
    channel = first.get("channel") or {}
    details = channel.get("details")
    if isinstance(details, str):  # some integrations send details as a JSON string
        try:
            details = json.loads(details)
        except ValueError:
            details = {}
    tags = details.get("tags") if isinstance(details, dict) else None
    body = channel.get("body")
    return {
        "type": channel.get("type"),
        "tags": tags if isinstance(tags, (str, list)) else None,
        "body": body[:MAX_CHANNEL_BODY] if isinstance(body, str) else None,
    }


@dataclass(frozen=True)
class PdIncident:
    account: str
    id: str
    number: int
    title: str
    status: str
    priority: str | None
    service_id: str
    service_name: str
    html_url: str
    trigger_channel: dict[str, Any] = field(default_factory=dict, compare=False)
    created_at: float | None = field(default=None, compare=False)  # PagerDuty's clock; not in the snapshot table

    @property
    def ref(self) -> str:
        """Unique across accounts."""
        return f"{self.account}/{self.id}"

    @classmethod
    def from_api(cls, account: str, data: dict[str, Any]) -> PdIncident:
        priority = data.get("priority") or {}
        service = data.get("service") or {}
        return cls(
            account=account,
            id=str(data["id"]),
            number=int(data.get("incident_number") or 0),
            title=str(data.get("title") or data.get("summary") or ""),
            status=str(data.get("status") or ""),
            priority=(priority.get("summary") or priority.get("name")) if isinstance(priority, dict) else None,
            service_id=str(service.get("id") or ""),
            service_name=str(service.get("summary") or service.get("name") or ""),
            html_url=str(data.get("html_url") or ""),
            trigger_channel=_trigger_channel(data),
            created_at=parse_time(data.get("created_at")),
        )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PdIncident:
        return cls(
            account=row["account"],
            id=row["incident_id"],
            number=int(row["number"] or 0),
            title=row["title"] or "",
            status=row["status"],
            priority=row["priority"],
            service_id=row["service_id"] or "",
            service_name=row["service_name"] or "",
            html_url=row["html_url"] or "",
            trigger_channel=json.loads(row["trigger_channel"] or "{}"),
        )

    def row(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "incident_id": self.id,
            "number": self.number,
            "title": self.title,
            "status": self.status,
            "priority": self.priority,
            "service_id": self.service_id,
            "service_name": self.service_name,
            "html_url": self.html_url,
            "trigger_channel": json.dumps(self.trigger_channel),
        }


@dataclass(frozen=True)
class LogEntry:
    id: str
    type: str
    created_at: float
    summary: str
    incident_id: str
    agent: str  # who did it, as PagerDuty names them ("" when unknown)
    new_priority: str | None  # priority_change_log_entry only

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> LogEntry:
        channel = data.get("channel") or {}
        new_priority = channel.get("new_priority") if isinstance(channel, dict) else None
        incident = data.get("incident") or {}
        return cls(
            id=str(data["id"]),
            type=str(data.get("type") or ""),
            created_at=parse_time(data.get("created_at")) or 0.0,
            summary=str(data.get("summary") or ""),
            incident_id=str(incident.get("id") or ""),
            agent=str((data.get("agent") or {}).get("summary") or ""),
            new_priority=(new_priority.get("summary") or new_priority.get("name"))
            if isinstance(new_priority, dict)
            else None,
        )


@dataclass
class Window:
    """One account's poll: every open incident (complete), the log entries not handled before (oldest first), and
    the latest state of every incident those entries mention. Consumers may stash extra reads in `extra`."""

    account: str
    open_incidents: list[PdIncident]
    entries: list[LogEntry]
    incidents: dict[str, PdIncident]  # id -> latest known state (open list, overridden by fresher log embeds)
    fetched_entries: int = 0  # including the ones already handled (overlap)
    cursor_after: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
