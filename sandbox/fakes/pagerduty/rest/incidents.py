"""/incidents: list, get, create, update one or many, and each incident's notes and alerts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.errors import pd_error
from sandbox.fakes.pagerduty.model import STATUSES, Incident, User
from sandbox.fakes.pagerduty.rest.request import body_field, history_window, page, view_of
from sandbox.fakes.pagerduty.rest.resource import Resource, Route

INCIDENT = r"/incidents/(?P<incident_id>[^/]+)"
MAX_BULK_UPDATE = 250


class IncidentsResource(Resource):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/incidents", self.list_incidents),
            ("POST", r"/incidents", self.create_incident),
            ("PUT", r"/incidents", self.update_incidents),
            ("GET", INCIDENT, self.get_incident),
            ("PUT", INCIDENT, self.update_incident),
            ("GET", INCIDENT + "/notes", self.list_notes),
            ("POST", INCIDENT + "/notes", self.create_note),
            ("GET", INCIDENT + "/alerts", self.list_alerts),
        ]

    def _incident_or_404(self, incident_id: str | None) -> Incident:
        if incident_id not in self.account.incidents:
            raise FakeError(404)
        return self.account.incidents[incident_id]

    def _priority_by_id(self, priority_id: str | None) -> str:
        name = self.account.priority_name(priority_id)
        if name is None:
            raise pd_error("Priority not found")
        return name

    # --- reading ---------------------------------------------------------------------------------
    def list_incidents(self, request: FakeRequest) -> dict:
        view = view_of(request)
        found = list(self.account.incidents.values())
        if request.q("date_range") != "all":
            since, until = history_window(request, view, self.pd.now(), max_days=183)
            found = [i for i in found if since <= i.created_at <= until]
        statuses = request.q_list("statuses")
        if any(s not in STATUSES for s in statuses):
            raise pd_error("Statuses must be one of triggered, acknowledged or resolved")
        filters = {
            "status": set(statuses),
            "service_id": set(request.q_list("service_ids")),
            "urgency": set(request.q_list("urgencies")),
            "incident_key": {request.q("incident_key")} - {None, ""},
        }
        for attribute, wanted in filters.items():
            found = [i for i in found if not wanted or getattr(i, attribute) in wanted]
        ordered = self._sorted(request, found)
        return page(request, "incidents", ordered, lambda i: self.render.incident_json(i, view))

    @staticmethod
    def _sorted(request: FakeRequest, found: list[Incident]) -> list[Incident]:
        sort_by = (request.q_list("sort_by") or ["created_at:asc"])[0]
        name, _, direction = sort_by.partition(":")
        keys: dict[str, Callable[[Incident], Any]] = {
            "incident_number": lambda i: i.number,
            "created_at": lambda i: (i.created_at, i.number),
            "resolved_at": lambda i: (i.resolved_at or 0.0, i.number),
            "urgency": lambda i: (i.urgency == "high", i.number),
        }
        if name not in keys or direction not in ("", "asc", "desc"):
            raise pd_error(f"Invalid sort_by value: {sort_by}")
        return sorted(found, key=keys[name], reverse=direction == "desc")

    def get_incident(self, request: FakeRequest, incident_id: str) -> dict:
        return {"incident": self.render.incident_json(self._incident_or_404(incident_id), view_of(request))}

    # --- writing ---------------------------------------------------------------------------------
    def create_incident(self, request: FakeRequest) -> Any:
        writer = self.pd.auth.writer(request)
        spec = body_field(request, "incident")
        if not isinstance(spec, dict) or spec.get("type", "incident") != "incident":
            raise pd_error("Incident type must be incident")
        title = str(spec.get("title") or "").strip()
        service_id = (spec.get("service") or {}).get("id")
        if not title:
            raise pd_error("Title cannot be empty")
        if service_id not in self.account.services:
            raise pd_error("Service not found")
        key = spec.get("incident_key") or uuid.uuid4().hex
        if self.account.open_by_key(service_id, key) is not None:
            raise pd_error(
                "Open incident with matching dedup key already exists on this service",
                message="Arguments Caused Error",
                code=2002,
            )
        priority = self._priority_by_id((spec.get("priority") or {}).get("id")) if spec.get("priority") else None
        urgency = spec.get("urgency", "high")
        if urgency not in ("high", "low"):
            raise pd_error("Urgency must be high or low")
        details = (spec.get("body") or {}).get("details")
        agent = self.render.user_ref(writer.id)
        channel = {"type": "web_trigger", "summary": title, "details": details}
        inc = self.pd.lifecycle.open(
            service_id,
            title,
            agent=agent,
            channel=channel,
            summary="Triggered through the API",
            incident_key=key,
            details=details,
            priority=priority,
            urgency=urgency,
        )
        return 201, {"incident": self.render.incident_json(inc, view_of(request))}

    def _check_update(self, inc: Incident, spec: Any) -> None:
        status = spec.get("status")
        if status is not None and status not in ("acknowledged", "resolved"):
            raise pd_error("Status must be acknowledged or resolved")
        if status is not None and inc.status == "resolved":
            raise pd_error("Incident Already Resolved", message="Arguments Caused Error", code=2002)
        if spec.get("priority"):
            self._priority_by_id(spec["priority"].get("id"))
        if spec.get("urgency", "high") not in ("high", "low"):
            raise pd_error("Urgency must be high or low")

    def _apply_update(self, inc: Incident, spec: dict, writer: User) -> None:
        agent = self.render.user_ref(writer.id)
        lifecycle = self.pd.lifecycle
        if spec.get("title"):
            inc.title, inc.updated_at = str(spec["title"]), self.pd.now()
        if spec.get("urgency"):
            inc.urgency, inc.updated_at = spec["urgency"], self.pd.now()
        if spec.get("priority"):
            lifecycle.set_priority(inc, self._priority_by_id(spec["priority"]["id"]), agent, "api", writer.name)
        if spec.get("status"):
            lifecycle.set_status(inc, spec["status"], agent, {"type": "api"}, f"by {writer.name}")

    def update_incidents(self, request: FakeRequest) -> dict:
        writer = self.pd.auth.writer(request)
        specs = body_field(request, "incidents")
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise pd_error("incidents must be a list of incident references")
        if len(specs) > MAX_BULK_UPDATE:
            raise FakeError(413, f"At most {MAX_BULK_UPDATE} incidents can be updated at once")
        targets = [(self._incident_or_404(spec.get("id")), spec) for spec in specs]
        for inc, spec in targets:  # validate everything first so a bad entry changes nothing
            self._check_update(inc, spec)
        for inc, spec in targets:
            self._apply_update(inc, spec, writer)
        view = view_of(request)
        return {"incidents": [self.render.incident_json(inc, view) for inc, _ in targets]}

    def update_incident(self, request: FakeRequest, incident_id: str) -> dict:
        writer = self.pd.auth.writer(request)
        inc = self._incident_or_404(incident_id)
        spec = body_field(request, "incident")
        if not isinstance(spec, dict):
            raise pd_error("incident must be an object")
        self._check_update(inc, spec)
        self._apply_update(inc, spec, writer)
        return {"incident": self.render.incident_json(inc, view_of(request))}

    # --- notes and alerts ------------------------------------------------------------------------
    def list_notes(self, request: FakeRequest, incident_id: str) -> dict:
        view = view_of(request)
        return {"notes": [self.render.note_json(n, view) for n in self._incident_or_404(incident_id).notes]}

    def create_note(self, request: FakeRequest, incident_id: str) -> Any:
        writer = self.pd.auth.writer(request)
        inc = self._incident_or_404(incident_id)
        content = str((body_field(request, "note") or {}).get("content") or "").strip()
        if not content:
            raise pd_error("Note content cannot be empty")
        note = self.pd.lifecycle.add_note(inc, writer.id, content)
        return 201, {"note": self.render.note_json(note, view_of(request))}

    def list_alerts(self, request: FakeRequest, incident_id: str) -> dict:
        inc, view = self._incident_or_404(incident_id), view_of(request)
        statuses = set(request.q_list("statuses"))
        alerts = [a for a in inc.alerts if not statuses or a.status in statuses]
        return page(request, "alerts", alerts, lambda a: self.render.alert_json(inc, a, view))
