"""Incidents and what hangs off them (log entries, alerts, notes) as PagerDuty's JSON."""

from __future__ import annotations

from sandbox.fakes.pagerduty.model import Alert, Incident, LogEntry, fmt
from sandbox.fakes.pagerduty.render import PLAIN, AccountRenderer, View


class Renderer(AccountRenderer):
    """Every object of the account; callers hold the fake's lock."""

    def incident_ref(self, inc: Incident) -> dict:
        return self.ref("incident", "incidents", inc.id, f"[#{inc.number}] {inc.title}")

    def incident_json(self, inc: Incident, view: View = PLAIN) -> dict:
        path = f"/incidents/{inc.id}"
        trigger = self.account.log[inc.trigger_log_id]
        if "first_trigger_log_entries" in view.include:
            first = self.log_entry_json(trigger, View(view.tz))
        else:
            first = self.ref("trigger_log_entry", "log_entries", trigger.id, trigger.summary)
            first["html_url"] = self.html(f"{path}/log_entries/{trigger.id}")
        service = self.account.services[inc.service_id]
        triggered = sum(a.status == "triggered" for a in inc.alerts)
        result = {
            "id": inc.id,
            "type": "incident",
            "summary": f"[#{inc.number}] {inc.title}",
            "self": self.api(path),
            "html_url": self.html(path),
            "incident_number": inc.number,
            "title": inc.title,
            "description": inc.title,
            "created_at": fmt(inc.created_at, view.tz),
            "updated_at": fmt(inc.updated_at, view.tz),
            "status": inc.status,
            "incident_key": inc.incident_key,
            "service": self.service_json(service, view) if "services" in view.include else self.service_ref(service.id),
            "assignments": []
            if inc.status == "resolved"
            else [{"at": fmt(at, view.tz), "assignee": self.user_ref(u)} for u, at in inc.assignments],
            "assigned_via": "escalation_policy",
            "acknowledgements": [{"at": fmt(at, view.tz), "acknowledger": who} for who, at in inc.acknowledgements],
            "last_status_change_at": fmt(inc.last_change_at, view.tz),
            "last_status_change_by": inc.last_change_by,
            "first_trigger_log_entry": first,
            "alert_counts": {"all": len(inc.alerts), "triggered": triggered, "resolved": len(inc.alerts) - triggered},
            "is_mergeable": True,
            "escalation_policy": self.policy_ref(service.escalation_policy_id)
            if service.escalation_policy_id in self.account.policies
            else None,
            "teams": [],
            "pending_actions": [],
            "alert_grouping": None,
            "priority": self.priority_json(inc.priority),
            "urgency": inc.urgency,
            "resolved_at": fmt(inc.resolved_at, view.tz),
            "resolve_reason": None,
        }
        if inc.details is not None:
            result["body"] = {"type": "incident_body", "details": inc.details}
        return result

    def log_entry_json(self, entry: LogEntry, view: View = PLAIN) -> dict:
        inc = self.account.incidents[entry.incident_id]
        is_trigger = entry.type == "trigger_log_entry"
        result = {
            "id": entry.id,
            "type": entry.type,
            "summary": entry.summary,
            "self": self.api(f"/log_entries/{entry.id}"),
            "html_url": self.html(f"/incidents/{inc.id}/log_entries/{entry.id}") if is_trigger else None,
            "created_at": fmt(entry.created_at, view.tz),
            "agent": entry.agent,
            "channel": entry.channel,
            "service": self.service_json(self.account.services[inc.service_id], view)
            if "services" in view.include
            else self.service_ref(inc.service_id),
            "incident": self.incident_json(inc, View(view.tz))
            if "incidents" in view.include
            else self.incident_ref(inc),
            "teams": [],
            "contexts": [],
            **entry.extra,
        }
        if is_trigger:
            result["event_details"] = {"description": inc.title}
        return result

    def alert_json(self, inc: Incident, alert: Alert, view: View) -> dict:
        path = f"/incidents/{inc.id}/alerts/{alert.id}"
        return {
            "id": alert.id,
            "type": "alert",
            "summary": alert.summary,
            "self": self.api(path),
            "html_url": self.html(f"/alerts/{alert.id}"),
            "created_at": fmt(alert.created_at, view.tz),
            "status": alert.status,
            "alert_key": alert.alert_key,
            "severity": alert.severity,
            "suppressed": False,
            "service": self.service_ref(inc.service_id),
            "incident": self.incident_ref(inc),
            "body": {"type": "alert_body", "contexts": [], "details": alert.details},
        }

    @staticmethod
    def note_json(note: dict, view: View = PLAIN) -> dict:
        return {**note, "created_at": fmt(note["created_at"], view.tz)}
