"""GET /schedules, /schedules/{id}, its users and overrides, and /oncalls."""

from __future__ import annotations

from typing import Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.errors import pd_error
from sandbox.fakes.pagerduty.model import DAY, Schedule, overlaps
from sandbox.fakes.pagerduty.oncall import oncall_rows, spans_in
from sandbox.fakes.pagerduty.rest.request import matches_query, page, view_of, window
from sandbox.fakes.pagerduty.rest.resource import Resource, Route


class SchedulesResource(Resource):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/schedules", self.list_schedules),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)", self.get_schedule),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)/users", self.schedule_users),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)/overrides", self.schedule_overrides),
            ("GET", r"/oncalls", self.list_oncalls),
        ]

    def _schedule_or_404(self, schedule_id: str) -> Schedule:
        if schedule_id not in self.account.schedules:
            raise FakeError(404)
        return self.account.schedules[schedule_id]

    def list_schedules(self, request: FakeRequest) -> dict:
        view = view_of(request)
        found = [s for s in self.account.schedules.values() if matches_query(request, s.name)]
        return page(request, "schedules", found, lambda s: self.render.schedule_json(s, view))

    def get_schedule(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        view = view_of(request)
        overflow = (request.q("overflow") or "").lower() == "true"
        shown = window(request, view, self.pd.now())
        return {"schedule": self.render.schedule_json(schedule, view, shown, clip=not overflow)}

    def schedule_users(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        since, until = window(request, view_of(request), self.pd.now())
        user_ids = dict.fromkeys(u for _, _, u in spans_in(schedule, since, until))
        return {"users": [self.render.user_json(u) for u in user_ids if u in self.account.users]}

    def schedule_overrides(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        view = view_of(request)
        if not request.q("since") or not request.q("until"):
            raise pd_error("since and until are required", code=2003, message="Missing Arguments")
        since, until = window(request, view, self.pd.now())
        overrides = [o for o in schedule.overrides if overlaps(o.start, o.end, since, until)]
        return {"overrides": [self.render.override_json(o, view) for o in overrides]}

    def list_oncalls(self, request: FakeRequest) -> dict:
        view = view_of(request)
        since, until = window(request, view, self.pd.now())
        if until - since > 90 * DAY:
            raise pd_error("The date range cannot exceed 90 days", code=2005)
        rows = oncall_rows(self.account, since, until)
        policy_ids, user_ids = set(request.q_list("escalation_policy_ids")), set(request.q_list("user_ids"))
        schedule_ids = set(request.q_list("schedule_ids"))
        if policy_ids:
            rows = [r for r in rows if r[0].id in policy_ids]
        if user_ids:
            rows = [r for r in rows if r[3] in user_ids]
        if schedule_ids:  # "null" keeps the permanent (direct user) on-calls
            rows = [r for r in rows if (r[2] if r[2] is not None else "null") in schedule_ids]
        if (request.q("earliest") or "").lower() == "true":
            first: dict[tuple[str, int, str], Any] = {}
            for row in rows:
                first.setdefault((row[0].id, row[1], row[3]), row)
            rows = list(first.values())
        return page(request, "oncalls", rows, lambda row: self.render.oncall_json(row, view))
