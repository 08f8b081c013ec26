"""Acting as an integration or a human responder: trigger, acknowledge, resolve, set a priority, add a note.

Without a user id the change comes from the service "through the API"; with one, from that user on the website.
Each returns the incident (or note) as the REST API would show it.
"""

from __future__ import annotations

import uuid

from sandbox.fakes.pagerduty.model import Alert, Incident
from sandbox.fakes.pagerduty.parts import PagerDutyParts


class Responders(PagerDutyParts):
    def _actor(self, inc: Incident, user_id: str | None) -> tuple[dict, str, str | None]:
        """(agent, how, name) for a helper action: a user on the website, or the service through the API."""
        if user_id is None:
            return self.render.service_ref(inc.service_id), "through the API", None
        user = self.account.users[user_id]
        return self.render.user_ref(user_id), f"by {user.name}", user.name

    def trigger_incident(
        self,
        service_id: str,
        title: str,
        *,
        priority: str | None = None,
        tags: str | list[str] | None = None,
        channel_type: str = "api",
        body: str | None = None,
        details: dict | None = None,
        incident_key: str | None = None,
        urgency: str = "high",
    ) -> dict:
        """An integration opens an incident. `tags` lands in `channel.details.tags` (a string like Datadog's or a
        list like Pingdom's); `channel_type="email"` puts `body` in `channel.body` instead."""
        with self.lock:
            key = incident_key or uuid.uuid4().hex
            if channel_type == "email":
                channel = {"type": "email", "summary": title, "subject": title, "body": body or "", "details": details}
            else:
                channel_details = dict(details or {})
                if tags is not None:
                    channel_details["tags"] = tags
                channel = {"type": channel_type, "summary": title, "incident_key": key, "details": channel_details}
            alert = Alert(self.account.new_id(), key, title, "critical", channel.get("details"), self.now())
            inc = self.lifecycle.open(
                service_id,
                title,
                agent=self.render.service_ref(service_id),
                channel=channel,
                summary="Triggered through the API" if channel_type == "api" else f"Triggered through {channel_type}",
                incident_key=key,
                details=details,
                priority=priority,
                urgency=urgency,
                alert=alert,
            )
            result = self.render.incident_json(inc)
        self.notify()
        return result

    def _change_status(self, incident_id: str, status: str, agent_user_id: str | None) -> dict:
        with self.lock:
            inc = self.account.incidents[incident_id]
            agent, how, _ = self._actor(inc, agent_user_id)
            self.lifecycle.set_status(inc, status, agent, {"type": "website" if agent_user_id else "api"}, how)
            result = self.render.incident_json(inc)
        self.notify()
        return result

    def acknowledge(self, incident_id: str, agent_user_id: str | None = None) -> dict:
        return self._change_status(incident_id, "acknowledged", agent_user_id)

    def resolve(self, incident_id: str, agent_user_id: str | None = None) -> dict:
        return self._change_status(incident_id, "resolved", agent_user_id)

    def set_priority(self, incident_id: str, priority: str, agent_user_id: str | None = None) -> dict:
        with self.lock:
            inc = self.account.incidents[incident_id]
            agent, _, who = self._actor(inc, agent_user_id)
            self.lifecycle.set_priority(inc, priority, agent, "website" if agent_user_id else "api", who)
            result = self.render.incident_json(inc)
        self.notify()
        return result

    def add_note(self, incident_id: str, content: str, user_id: str | None = None) -> dict:
        """A responder adds a note (defaults to the first user of the account)."""
        with self.lock:
            author = user_id or next(iter(self.account.users))
            note = self.lifecycle.add_note(self.account.incidents[incident_id], author, content)
            result = self.render.note_json(note)
        self.notify()
        return result
