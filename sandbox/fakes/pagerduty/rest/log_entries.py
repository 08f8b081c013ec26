"""GET /log_entries, /log_entries/{id} and /incidents/{id}/log_entries (newest first, like the real API)."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.model import LogEntry
from sandbox.fakes.pagerduty.rest.request import history_window, page, view_of
from sandbox.fakes.pagerduty.rest.resource import Resource, Route

OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "resolve_log_entry",
    "priority_change_log_entry",
    "annotate_log_entry",
}


class LogEntriesResource(Resource):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/incidents/(?P<incident_id>[^/]+)/log_entries", self.incident_log_entries),
            ("GET", r"/log_entries", self.list_log_entries),
            ("GET", r"/log_entries/(?P<entry_id>[^/]+)", self.get_log_entry),
        ]

    def _log_page(self, request: FakeRequest, entries: Iterable[LogEntry]) -> dict:
        view = view_of(request)
        since, until = history_window(request, view, self.pd.now(), max_days=None)
        chosen = [e for e in entries if since <= e.created_at <= until]
        if (request.q("is_overview") or "").lower() == "true":
            chosen = [e for e in chosen if e.type in OVERVIEW_TYPES]
        chosen.sort(key=lambda e: (e.created_at, e.seq), reverse=True)  # newest first, as the real API
        return page(request, "log_entries", chosen, lambda e: self.render.log_entry_json(e, view))

    def list_log_entries(self, request: FakeRequest) -> dict:
        return self._log_page(request, self.account.log.values())

    def incident_log_entries(self, request: FakeRequest, incident_id: str) -> dict:
        if incident_id not in self.account.incidents:
            raise FakeError(404)
        return self._log_page(request, (e for e in self.account.log.values() if e.incident_id == incident_id))

    def get_log_entry(self, request: FakeRequest, entry_id: str) -> dict:
        if entry_id not in self.account.log:
            raise FakeError(404)
        return {"log_entry": self.render.log_entry_json(self.account.log[entry_id], view_of(request))}
