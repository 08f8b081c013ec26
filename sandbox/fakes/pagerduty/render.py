"""The account's objects as PagerDuty's JSON: references, users, schedules, on-calls, policies, services, priorities.

`self` links lead back to the fake so the client's `rget(obj)` works; `html_url`s use the account's subdomain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from sandbox.fakes.pagerduty.model import Override, Policy, Schedule, Service, Span, fmt, overlaps
from sandbox.fakes.pagerduty.oncall import OncallRow, timeline

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.fake import PagerDutyFake
    from sandbox.fakes.pagerduty.state import Account


@dataclass
class View:
    """How one request wants objects rendered."""

    tz: tzinfo | None = None
    include: frozenset[str] = frozenset()


PLAIN = View()  # UTC timestamps, nothing embedded


class AccountRenderer:
    """Callers hold the fake's lock."""

    def __init__(self, pd: PagerDutyFake) -> None:
        self.pd = pd

    @property
    def account(self) -> Account:
        return self.pd.account

    # --- links and references --------------------------------------------------------------------
    def api(self, path: str) -> str:
        try:
            return self.pd.origin + path  # `self` links must lead back to the fake so rget(obj) works
        except AssertionError:
            return "https://api.pagerduty.com" + path

    def html(self, path: str) -> str:
        return f"https://{self.pd.subdomain}.pagerduty.com{path}"

    def ref(self, kind: str, collection: str, obj_id: str, summary: str) -> dict:
        path = f"/{collection}/{obj_id}"
        return {
            "id": obj_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": self.api(path),
            "html_url": self.html(path),
        }

    def user_ref(self, user_id: str) -> dict:
        user = self.account.users[user_id]
        ref = self.ref("user", "users", user.id, user.name)
        if user.deleted:
            ref["deleted_at"] = fmt(user.deleted_at)
        return ref

    def service_ref(self, service_id: str) -> dict:
        return self.ref("service", "services", service_id, self.account.services[service_id].name)

    def schedule_ref(self, schedule_id: str) -> dict:
        return self.ref("schedule", "schedules", schedule_id, self.account.schedules[schedule_id].name)

    def policy_ref(self, policy_id: str) -> dict:
        return self.ref("escalation_policy", "escalation_policies", policy_id, self.account.policies[policy_id].name)

    def target_ref(self, target_id: str) -> dict:
        return self.schedule_ref(target_id) if target_id in self.account.schedules else self.user_ref(target_id)

    # --- users -----------------------------------------------------------------------------------
    def user_json(self, user_id: str) -> dict:
        user = self.account.users[user_id]
        if user.deleted:  # a deactivated user is only a bare reference: no name, no email
            return self.user_ref(user_id)
        path = f"/users/{user.id}"
        return {
            "id": user.id,
            "type": "user",
            "summary": user.name,
            "self": self.api(path),
            "html_url": self.html(path),
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": "purple",
            "role": "user",
            "avatar_url": f"https://secure.gravatar.com/avatar/{user.id}.png?d=mm&r=PG",
            "description": None,
            "invitation_sent": False,
            "job_title": None,
            "billed": True,
            "teams": [],
            "contact_methods": [],
            "notification_rules": [],
            "coordinated_incidents": [],
        }

    # --- schedules and on-calls ------------------------------------------------------------------
    def schedule_json(
        self, schedule: Schedule, view: View, window: tuple[float, float] | None = None, clip: bool = True
    ) -> dict:
        """With a `window`, includes the final schedule and the overrides rendered over it."""
        path = f"/schedules/{schedule.id}"
        user_ids = list(dict.fromkeys([u for u, _, _ in schedule.shifts] + [o.user_id for o in schedule.overrides]))
        result = {
            "id": schedule.id,
            "type": "schedule",
            "summary": schedule.name,
            "self": self.api(path),
            "html_url": self.html(path),
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "description": None,
            "escalation_policies": [self.policy_ref(p.id) for p in self.account.policies_targeting(schedule.id)],
            "users": [self.user_ref(u) for u in user_ids if u in self.account.users],
            "teams": [],
            "schedule_layers": [],
        }
        if window is not None:
            final = self._rendered("Final Schedule", timeline(schedule), window, view, clip)
            overrides = [(o.start, o.end, o.user_id) for o in schedule.overrides]
            result["final_schedule"] = final
            result["overrides_subschedule"] = self._rendered("Overrides", overrides, window, view, clip)
        return result

    def _rendered(self, name: str, spans: list[Span], window: tuple[float, float], view: View, clip: bool) -> dict:
        since, until = window
        clip = clip and since < until  # entries are truncated at the requested bounds unless overflow=true
        entries, covered = [], 0.0
        for start, end, user_id in spans:
            if not overlaps(start, end, since, until):
                continue
            shown = (max(start, since), min(end, until)) if clip else (start, end)
            covered += shown[1] - shown[0]
            entries.append(
                {"start": fmt(shown[0], view.tz), "end": fmt(shown[1], view.tz), "user": self.user_ref(user_id)}
            )
        coverage = round(100.0 * covered / (until - since), 2) if clip else (100.0 if entries else 0.0)
        return {"name": name, "rendered_schedule_entries": entries, "rendered_coverage_percentage": coverage}

    def override_json(self, override: Override, view: View = PLAIN) -> dict:
        return {
            "id": override.id,
            "start": fmt(override.start, view.tz),
            "end": fmt(override.end, view.tz),
            "user": self.user_ref(override.user_id),
        }

    def oncall_json(self, row: OncallRow, view: View) -> dict:
        policy, level, schedule_id, user_id, start, end = row
        schedule = None
        if schedule_id is not None:
            schedule = (
                self.schedule_json(self.account.schedules[schedule_id], view)
                if "schedules" in view.include
                else self.schedule_ref(schedule_id)
            )
        return {
            "escalation_policy": self.policy_json(policy)
            if "escalation_policies" in view.include
            else self.policy_ref(policy.id),
            "escalation_level": level,
            "schedule": schedule,
            "user": self.user_json(user_id) if "users" in view.include else self.user_ref(user_id),
            "start": fmt(start, view.tz),
            "end": fmt(end, view.tz),
        }

    # --- escalation policies, services, priorities -----------------------------------------------
    def policy_json(self, policy: Policy) -> dict:
        path = f"/escalation_policies/{policy.id}"
        return {
            "id": policy.id,
            "type": "escalation_policy",
            "summary": policy.name,
            "self": self.api(path),
            "html_url": self.html(path),
            "name": policy.name,
            "description": "",
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
            "escalation_rules": [
                {"id": rule_id, "escalation_delay_in_minutes": 30, "targets": [self.target_ref(t) for t in targets]}
                for rule_id, targets in zip(policy.rule_ids, policy.levels, strict=True)
            ],
            "services": [
                self.service_ref(s.id) for s in self.account.services.values() if s.escalation_policy_id == policy.id
            ],
            "teams": [],
        }

    def service_json(self, service: Service, view: View = PLAIN) -> dict:
        path = f"/services/{service.id}"
        incidents = self.account.incidents.values()
        last = max((i.created_at for i in incidents if i.service_id == service.id), default=None)
        integrations = []
        if service.routing_key:
            integrations.append(
                self.ref("events_api_v2_inbound_integration", "integrations", service.routing_key[:7], "Events API")
            )
        return {
            "id": service.id,
            "type": "service",
            "summary": service.name,
            "self": self.api(path),
            "html_url": self.html(path),
            "name": service.name,
            "description": None,
            "status": "active",
            "created_at": fmt(service.created_at, view.tz),
            "last_incident_timestamp": fmt(last, view.tz),
            "auto_resolve_timeout": None,
            "acknowledgement_timeout": None,
            "alert_creation": "create_alerts_and_incidents",
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
            "escalation_policy": self.policy_ref(service.escalation_policy_id)
            if service.escalation_policy_id in self.account.policies
            else None,
            "integrations": integrations,
            "teams": [],
        }

    def priority_json(self, name: str | None) -> dict | None:
        if name is None:
            return None
        priority = dict(self.account.priorities[name])
        priority["self"] = self.api(f"/priorities/{priority['id']}")
        return priority
