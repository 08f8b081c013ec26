"""GET /escalation_policies, /services (and one of each by id) and /priorities."""

from __future__ import annotations

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.pagerduty.rest.request import matches_query, page, view_of
from sandbox.fakes.pagerduty.rest.resource import Resource, Route


class ServicesResource(Resource):
    def routes(self) -> list[Route]:
        return [
            ("GET", r"/escalation_policies", self.list_policies),
            ("GET", r"/escalation_policies/(?P<policy_id>[^/]+)", self.get_policy),
            ("GET", r"/services", self.list_services),
            ("GET", r"/services/(?P<service_id>[^/]+)", self.get_service),
            ("GET", r"/priorities", self.list_priorities),
        ]

    def list_policies(self, request: FakeRequest) -> dict:
        found = [p for p in self.account.policies.values() if matches_query(request, p.name)]
        return page(request, "escalation_policies", found, self.render.policy_json)

    def get_policy(self, request: FakeRequest, policy_id: str) -> dict:
        if policy_id not in self.account.policies:
            raise FakeError(404)
        return {"escalation_policy": self.render.policy_json(self.account.policies[policy_id])}

    def list_services(self, request: FakeRequest) -> dict:
        view = view_of(request)
        found = [s for s in self.account.services.values() if matches_query(request, s.name)]
        return page(request, "services", found, lambda s: self.render.service_json(s, view))

    def get_service(self, request: FakeRequest, service_id: str) -> dict:
        if service_id not in self.account.services:
            raise FakeError(404)
        return {"service": self.render.service_json(self.account.services[service_id], view_of(request))}

    def list_priorities(self, request: FakeRequest) -> dict:
        return page(request, "priorities", list(self.account.priorities), self.render.priority_json)
