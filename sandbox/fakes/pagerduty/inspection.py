"""What tests read back: incidents, log entries, priorities and who is on call, as the REST API shows them."""

from __future__ import annotations

from sandbox.fakes.pagerduty.oncall import spans_in
from sandbox.fakes.pagerduty.parts import PagerDutyParts


class Inspection(PagerDutyParts):
    def incident(self, incident_id: str) -> dict:
        with self.lock:
            return self.render.incident_json(self.account.incidents[incident_id])

    def incidents_by_status(self, status: str) -> list[dict]:
        with self.lock:
            return [self.render.incident_json(i) for i in self.account.incidents.values() if i.status == status]

    def log_entries(self, incident_id: str | None = None) -> list[dict]:
        """Log entries oldest first, optionally of one incident."""
        with self.lock:
            entries = sorted(self.account.log.values(), key=lambda e: e.seq)
            return [self.render.log_entry_json(e) for e in entries if incident_id in (None, e.incident_id)]

    def priority(self, name: str) -> dict:
        with self.lock:
            return self.render.priority_json(name) or {}

    def oncall_users(self, schedule_id: str, at: float | None = None) -> list[str]:
        """Ids of the users on call in a schedule at `at` (default: the fake's now)."""
        with self.lock:
            moment = self.now() if at is None else at
            return [u for _, _, u in spans_in(self.account.schedules[schedule_id], moment, moment)]
