"""The account's state: users, schedules, escalation policies, services, priorities, incidents and log entries.

Plain tables of `model` records plus the id allocator. Callers hold the fake's lock. Who is on call is computed
in `oncall.py`; what happens to an incident is `lifecycle.py`'s job.
"""

from __future__ import annotations

import random
import string
import time

from sandbox.fakes.pagerduty.model import (
    DEFAULT_PRIORITIES,
    Incident,
    LogEntry,
    Policy,
    Schedule,
    Service,
    User,
    fmt,
)


class Account:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.schedules: dict[str, Schedule] = {}
        self.policies: dict[str, Policy] = {}
        self.services: dict[str, Service] = {}
        self.incidents: dict[str, Incident] = {}
        self.log: dict[str, LogEntry] = {}
        self.priorities: dict[str, dict] = {}  # by name, as PagerDuty's JSON (without `self`)
        self._ids: set[str] = set()
        self.log_seq = 0
        for order, (name, color) in enumerate(DEFAULT_PRIORITIES):
            self._add_priority(name, color, order)

    def reset(self) -> None:
        """Forget everything but the priorities."""
        for table in (self.users, self.schedules, self.policies, self.services, self.incidents, self.log):
            table.clear()
        self.log_seq = 0
        self._ids = {p["id"] for p in self.priorities.values()}

    # --- ids -------------------------------------------------------------------------------------
    def new_id(self, prefix: str = "P", length: int = 6) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = prefix + "".join(random.choices(alphabet, k=length))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def claim_id(self, obj_id: str) -> str:
        """Reserve an id chosen by a test so no generated id collides with it."""
        self._ids.add(obj_id)
        return obj_id

    # --- lookups ---------------------------------------------------------------------------------
    def policies_targeting(self, target_id: str) -> list[Policy]:
        return [p for p in self.policies.values() if any(target_id in level for level in p.levels)]

    def open_by_key(self, service_id: str, key: str) -> Incident | None:
        """The service's unresolved incident with this incident key (dedup key), if any."""
        return next(
            (
                i
                for i in self.incidents.values()
                if i.service_id == service_id and i.incident_key == key and i.status != "resolved"
            ),
            None,
        )

    def priority_name(self, priority_id: str | None) -> str | None:
        return next((name for name, p in self.priorities.items() if p["id"] == priority_id), None)

    # --- priorities ------------------------------------------------------------------------------
    def _add_priority(self, name: str, color: str, order: int) -> dict:
        priority_id = self.new_id()
        stamp = fmt(time.time())
        self.priorities[name] = {
            "id": priority_id,
            "type": "priority",
            "summary": name,
            "html_url": None,
            "name": name,
            "description": f"Priority {name}",
            "color": color,
            "order": (len(DEFAULT_PRIORITIES) - order) * 32,
            "schema_version": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return self.priorities[name]
