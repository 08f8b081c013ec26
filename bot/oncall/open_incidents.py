"""Open PagerDuty incidents on the services an on-call person answers for, read in as few calls as possible.

- Services of a link source: `GET /escalation_policies` (all of them, 100 per page) gives each policy's rules and
  services at once, so every source of every hand-off of a cycle costs the same one paginated read. A schedule
  answers for the services of every policy that targets it (at any level, as PagerDuty's `escalation_policies` of a
  schedule), a `policy:<ID>` source for the services of that policy.
- Open incidents: `GET /incidents` with `service_ids[]` (100 per request, to keep URLs short), `statuses[]`
  triggered and acknowledged, and `date_range=all` (without it PagerDuty looks at the last month only, and an
  incident left open longer would be missed)
  (https://developer.pagerduty.com/api-reference/9d0b4b12e36f9-list-incidents).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.oncall.sources import policy_of

SERVICES_PER_REQUEST = 100
OPEN_STATUSES = ["triggered", "acknowledged"]


@dataclass(frozen=True)
class OpenIncident:
    number: int
    title: str
    status: str  # triggered or acknowledged
    service_id: str
    service_name: str
    url: str  # the incident's page in PagerDuty


def _schedule_targets(policy: dict[str, Any]) -> set[str]:
    return {
        str(target.get("id"))
        for rule in policy.get("escalation_rules") or []
        for target in rule.get("targets") or []
        if str(target.get("type") or "").startswith("schedule")
    }


def _incident(row: dict[str, Any]) -> OpenIncident:
    service = row.get("service") or {}
    return OpenIncident(
        number=int(row.get("incident_number") or 0),
        title=str(row.get("title") or row.get("summary") or row.get("id") or ""),
        status=str(row.get("status") or ""),
        service_id=str(service.get("id") or ""),
        service_name=str(service.get("summary") or service.get("name") or service.get("id") or ""),
        url=str(row.get("html_url") or ""),
    )


class IncidentReader:
    def __init__(self, client: Any):
        self.client = client

    def services_of(self, sources: Iterable[str]) -> dict[str, list[str]]:
        """Per link source (schedule ID or `policy:<ID>`): the IDs of the services it answers for, in PagerDuty's
        order, each once."""
        wanted = list(dict.fromkeys(sources))
        result: dict[str, list[str]] = {source: [] for source in wanted}
        by_policy = {policy_of(source): source for source in wanted if policy_of(source)}
        schedules = {source for source in wanted if not policy_of(source)}
        for policy in self.client.iter_all("/escalation_policies"):
            services = [str(s["id"]) for s in policy.get("services") or [] if s.get("id")]
            if not services:
                continue
            answering = schedules & _schedule_targets(policy)
            if policy.get("id") in by_policy:
                answering.add(by_policy[policy["id"]])
            for source in answering:
                result[source] += [s for s in services if s not in result[source]]
        return result

    def open_incidents(self, service_ids: Iterable[str]) -> list[OpenIncident]:
        """Triggered and acknowledged incidents on these services, oldest first."""
        ids = list(dict.fromkeys(service_ids))
        found: dict[str, OpenIncident] = {}
        for chunk_start in range(0, len(ids), SERVICES_PER_REQUEST):
            params = {
                "service_ids[]": ids[chunk_start : chunk_start + SERVICES_PER_REQUEST],
                "statuses[]": OPEN_STATUSES,
                "date_range": "all",
            }
            for row in self.client.iter_all("/incidents", params=params):
                found.setdefault(str(row.get("id")), _incident(row))
        return sorted(found.values(), key=lambda incident: incident.number)
