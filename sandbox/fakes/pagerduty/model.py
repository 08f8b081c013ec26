"""The PagerDuty account's records, and the time arithmetic shared by schedules, windows and rendering."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any

Shift = tuple[str, float, float]  # (user_id, start_epoch, end_epoch)
Span = tuple[float, float, str]  # (start_epoch, end_epoch, user_id): one stretch of a final schedule
DAY = 86400.0
STATUSES = ("triggered", "acknowledged", "resolved")
SEVERITIES = ("critical", "error", "warning", "info")
DEFAULT_PRIORITIES = (("P1", "da0000"), ("P2", "eb6500"), ("P3", "f9b406"), ("P4", "a1a1a1"), ("P5", "7f7f7f"))


@dataclass
class User:
    id: str
    name: str
    email: str
    deleted: bool = False
    time_zone: str = "UTC"
    deleted_at: float | None = None


@dataclass
class Override:
    id: str
    user_id: str
    start: float
    end: float


@dataclass
class Schedule:
    id: str
    name: str
    time_zone: str
    shifts: list[Shift] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)


@dataclass
class Policy:
    id: str
    name: str
    levels: list[list[str]]  # levels[0] are the level-1 targets (schedule or user ids)
    rule_ids: list[str]


@dataclass
class Service:
    id: str
    name: str
    escalation_policy_id: str | None
    routing_key: str | None
    created_at: float


@dataclass
class Alert:
    id: str
    alert_key: str
    summary: str
    severity: str
    details: Any
    created_at: float
    status: str = "triggered"


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    created_at: float
    incident_key: str | None
    details: Any = None
    urgency: str = "high"
    status: str = "triggered"
    priority: str | None = None
    updated_at: float = 0.0
    resolved_at: float | None = None
    last_change_at: float = 0.0
    last_change_by: dict | None = None
    trigger_log_id: str = ""
    assignments: list[tuple[str, float]] = field(default_factory=list)
    acknowledgements: list[tuple[dict, float]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


@dataclass
class LogEntry:
    id: str
    seq: int
    type: str
    summary: str
    created_at: float
    incident_id: str
    agent: dict | None
    channel: dict
    extra: dict = field(default_factory=dict)


def parse_time(value: str, tz: tzinfo | None) -> float:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # "+0000" (what the client's strftime writes)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or timezone.utc)
    return moment.timestamp()


def fmt(ts: float | None, tz: tzinfo | None = None) -> str | None:
    if ts is None:
        return None
    if tz is None:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return datetime.fromtimestamp(int(ts), tz).isoformat()


def overlaps(start: float, end: float, since: float, until: float) -> bool:
    if since == until:  # an instant: who is on call at that moment
        return start <= since < end
    return start < until and end > since
