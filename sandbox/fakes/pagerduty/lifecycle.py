"""What happens to an incident, whoever does it (REST API, Events API or a test acting as a responder).

Opening (with the assignment to the first responder), acknowledging, resolving, priority changes and notes;
each writes the log entry PagerDuty writes. Times come from the fake's clock. Callers hold the fake's lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.fakes.pagerduty.errors import pd_error
from sandbox.fakes.pagerduty.model import Alert, Incident, LogEntry
from sandbox.fakes.pagerduty.oncall import first_responder

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.fake import PagerDutyFake


class IncidentLifecycle:
    def __init__(self, pd: PagerDutyFake) -> None:
        self.pd = pd

    def log_entry(
        self, inc: Incident, entry_type: str, summary: str, agent: dict | None, channel: dict, **extra: Any
    ) -> LogEntry:
        account = self.pd.account
        account.log_seq += 1
        entry = LogEntry(
            account.new_id("R", 25), account.log_seq, entry_type, summary, self.pd.now(), inc.id, agent, channel, extra
        )
        account.log[entry.id] = entry
        return entry

    def open(
        self,
        service_id: str,
        title: str,
        *,
        agent: dict,
        channel: dict,
        summary: str,
        incident_key: str,
        details: Any = None,
        priority: str | None = None,
        urgency: str = "high",
        alert: Alert | None = None,
    ) -> Incident:
        account, render, now = self.pd.account, self.pd.render, self.pd.now()
        number = len(account.incidents) + 1
        inc = Incident(account.new_id(), number, title, service_id, now, incident_key, details, urgency)
        inc.priority, inc.updated_at, inc.last_change_at, inc.last_change_by = priority, now, now, agent
        inc.alerts.extend([alert] if alert else [])
        account.incidents[inc.id] = inc
        inc.trigger_log_id = self.log_entry(inc, "trigger_log_entry", summary, agent, channel).id
        assignee = first_responder(account, service_id, now)
        if assignee is not None:
            inc.assignments.append((assignee, now))
            self.log_entry(
                inc,
                "assign_log_entry",
                f"Assigned to {account.users[assignee].name}",
                render.service_ref(service_id),
                {"type": "auto"},
                assignees=[render.user_ref(assignee)],
            )
        return inc

    def set_status(self, inc: Incident, status: str, agent: dict, channel: dict, how: str) -> None:
        """`how` completes the log summary: "by Alice" or "through the API"."""
        if inc.status == "resolved":
            raise pd_error("Incident Already Resolved", message="Arguments Caused Error", code=2002)
        if status == inc.status:
            return
        now = self.pd.now()
        inc.status, inc.updated_at, inc.last_change_at, inc.last_change_by = status, now, now, agent
        if status == "acknowledged":
            inc.acknowledgements.append((agent, now))
            self.log_entry(inc, "acknowledge_log_entry", f"Acknowledged {how}", agent, channel)
            return
        inc.resolved_at = now
        for alert in inc.alerts:
            alert.status = "resolved"
        self.log_entry(inc, "resolve_log_entry", f"Resolved {how}", agent, channel)

    def set_priority(self, inc: Incident, name: str, agent: dict | None, channel_type: str, who: str | None) -> None:
        if name == inc.priority:
            return
        render = self.pd.render
        old, suffix = inc.priority, f" by {who}" if who else ""
        summary = f'Priority changed from "{old}" to "{name}"{suffix}' if old else f'Priority set to "{name}"{suffix}'
        channel = {
            "type": channel_type,
            "old_priority": render.priority_json(old),
            "new_priority": render.priority_json(name),
        }
        inc.priority, inc.updated_at = name, self.pd.now()
        self.log_entry(inc, "priority_change_log_entry", summary, agent, channel)

    def add_note(self, inc: Incident, user_id: str, content: str) -> dict:
        note = {
            "id": self.pd.account.new_id(),
            "user": self.pd.render.user_ref(user_id),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": self.pd.now(),
        }
        inc.notes.append(note)
        self.log_entry(inc, "annotate_log_entry", content, note["user"], {"type": "note", "summary": content})
        return note
