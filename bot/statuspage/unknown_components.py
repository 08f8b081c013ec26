"""The status page's part of the doctor: components that PagerDuty names but Statuspage does not have.

A component named by an open incident's first alert (`component:<id>` tags, an email's `Component: <id>`) or by a
service mapping (`/statuspage map`) that the page lacks can never be marked down: reconcile skips it (and logs it
once). Each such component is one finding, with the incidents and services that name it and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.capability import Finding
from bot.incidents.model import PdIncident
from bot.statuspage.rules import components_of, pagerduty_incident
from bot.text import escape

CAPABILITY = "Status page"
SHOWN = 3  # incidents or services named per finding; the rest are counted


@dataclass
class UnknownComponent:
    component_id: str
    incidents: list[PdIncident] = field(default_factory=list)  # open incidents tagged with it
    services: list[dict[str, Any]] = field(default_factory=list)  # mappings that point at it


def unknown_components(
    incidents: Iterable[PdIncident], mappings: Iterable[dict[str, Any]], known: Mapping[str, str]
) -> list[UnknownComponent]:
    """Pure: every component id tagged on an open incident or mapped from a service that `known` lacks."""
    found: dict[str, UnknownComponent] = {}
    for incident in incidents:
        for component in components_of(incident.trigger_channel):
            if component not in known:
                found.setdefault(component, UnknownComponent(component)).incidents.append(incident)
    for mapping in mappings:
        component = str(mapping["component_id"])
        if component not in known:
            found.setdefault(component, UnknownComponent(component)).services.append(mapping)
    return [found[c] for c in sorted(found)]


def findings(unknown: list[UnknownComponent], known: Mapping[str, str]) -> list[Finding]:
    existing = ", ".join(f"`{escape(i)}` ({escape(n)})" for i, n in sorted(known.items())[:10]) or "none yet"
    result = []
    for item in unknown:
        component = f"`{escape(item.component_id)}`"
        named_by = []
        if item.incidents:
            shown = ", ".join(pagerduty_incident(i.html_url, i.number, i.title) for i in item.incidents[:SHOWN])
            more = f" and {len(item.incidents) - SHOWN} more" if len(item.incidents) > SHOWN else ""
            named_by.append(f"open PagerDuty incident(s) {shown}{more} tag it")
        if item.services:
            names = ", ".join(f"*{escape(m['service_name'] or m['service_id'])}*" for m in item.services[:SHOWN])
            named_by.append(f"service(s) {names} are mapped to it")
        problem = f"component {component} is unknown to Statuspage: {'; '.join(named_by)}"
        fixes = [f"create component {component} on Statuspage"]
        if item.incidents:  # a tag wins over a service mapping: only the monitor's tag or the page can change
            fixes.append("correct the monitor's `component:` tag to an existing component")
        if item.services:
            service = escape(item.services[0]["service_name"] or item.services[0]["service_id"])
            fixes.append(f'map the service to an existing component with `/statuspage map "{service}" <component>`')
        result.append(Finding(CAPABILITY, problem, f"{'; or '.join(fixes)} (components: {existing})"))
    return result
