"""Events API v2: `POST /v2/enqueue` (trigger, acknowledge, resolve by dedup key) and `POST /v2/change/enqueue`.

No token: a 32-character routing key the account knows. An event on a service's routing key acts on the
service's incidents; every accepted event is kept in `PagerDutyFake.events` for assertions.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.model import SEVERITIES, Alert, Service

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.fake import PagerDutyFake

ROUTING_KEY_LENGTH = 32
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


def invalid_event(*errors: str) -> FakeError:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}
    return FakeError(400, body=body)


def event_errors(event: dict) -> list[str]:
    action, dedup_key, payload = event.get("event_action"), event.get("dedup_key"), event.get("payload")
    if action not in ("trigger", "acknowledge", "resolve"):
        return ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"]
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > MAX_DEDUP_KEY):
        return ["'dedup_key' is invalid (must be a string of at most 255 characters)"]
    if action != "trigger":
        return [] if dedup_key else ["'dedup_key' is missing or blank"]
    if not isinstance(payload, dict):
        return ["'payload' is missing or blank"]
    errors = [f"'payload.{key}' is missing or blank" for key in ("summary", "source") if not payload.get(key)]
    if len(str(payload.get("summary") or "")) > MAX_SUMMARY:
        errors.append("'payload.summary' is too long (max 1024 characters)")
    if payload.get("severity") not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
        )
    return errors


class EventsApi:
    def __init__(self, pd: PagerDutyFake) -> None:
        self.pd = pd

    def _check_routing_key(self, key: Any) -> None:
        if not isinstance(key, str) or len(key) != ROUTING_KEY_LENGTH:
            raise invalid_event("Length of 'routing_key' is incorrect (should be 32 characters)")
        if key not in self.pd.routing_keys:
            raise invalid_event("Invalid routing key")

    def enqueue(self, request: FakeRequest) -> Any:
        event = request.json
        if not isinstance(event, dict):
            raise invalid_event("Event object must be a JSON object")
        self._check_routing_key(event.get("routing_key"))
        errors = event_errors(event)
        if errors:
            raise invalid_event(*errors)
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        self.pd.events.append({**event, "dedup_key": dedup_key})
        services = self.pd.account.services.values()
        service = next((s for s in services if s.routing_key == event["routing_key"]), None)
        if service is not None:
            self._apply(service, event["event_action"], dedup_key, event.get("payload") or {})
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

    def _apply(self, service: Service, action: str, dedup_key: str, payload: dict) -> None:
        """Same dedup key + open incident: trigger is absorbed, acknowledge/resolve act on it."""
        account, lifecycle = self.pd.account, self.pd.lifecycle
        agent, open_incident = self.pd.render.service_ref(service.id), account.open_by_key(service.id, dedup_key)
        if action != "trigger":
            if open_incident is not None:
                status = "acknowledged" if action == "acknowledge" else "resolved"
                lifecycle.set_status(open_incident, status, agent, {"type": "api"}, "through the API")
            return
        if open_incident is not None:
            return
        details = payload.get("custom_details")
        summary, severity = str(payload["summary"]), payload["severity"]
        alert = Alert(account.new_id(), dedup_key, summary, severity, details, self.pd.now())
        channel = {
            "type": "api",
            "summary": summary,
            "description": summary,
            "incident_key": dedup_key,
            "details": details if details is not None else {},
            "cef_details": {"source_location": payload.get("source"), "severity": severity, "message": summary},
        }
        lifecycle.open(
            service.id,
            summary,
            agent=agent,
            channel=channel,
            summary="Triggered through the API",
            incident_key=dedup_key,
            details=details,
            alert=alert,
        )

    def enqueue_change(self, request: FakeRequest) -> Any:
        event = request.json if isinstance(request.json, dict) else {}
        self._check_routing_key(event.get("routing_key"))
        if not (event.get("payload") or {}).get("summary"):
            raise invalid_event("'payload.summary' is missing or blank")
        self.pd.events.append({**event, "event_action": "change"})
        return 202, {"status": "success", "message": "Change event processed"}
