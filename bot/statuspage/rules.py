"""Pure rules of the status page: which component a PagerDuty incident belongs to, how bad it is, what the
Statuspage incident says, and whether an incident on the page is one Switchboard manages.

No PagerDuty text reaches Statuspage: the name and body templates know only `{{component_name}}` (the page's own
component name) and `{{component_id}}` (a component the page has). PagerDuty titles appear only in Slack notices,
escaped, with links built by `link`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.text import escape, link

# The tag forms pagerstatus reads (kept for its users): Datadog `component:<id>`, Pingdom `component_<id>`,
# email `Component: <id>`.
COMPONENT_PATTERN = re.compile(r"[Cc]omponent[:_] ?(\w+)")
OUTAGE_ORDER = ("degraded_performance", "partial_outage", "major_outage")
DEFAULT_IMPACT = "P1=major_outage,*=partial_outage"
DEFAULT_NAME = "Investigating Errors in {{component_name}}"
DEFAULT_BODY = (
    "Automated monitoring has determined that {{component_name}} is experiencing errors, "
    "and the on-call engineer is beginning to investigate."
)
DEFAULT_RESOLVED_BODY = "This incident has been resolved."
IMPACT_WORDS = {"degraded_performance": "degraded performance", "partial_outage": "partial outage"}
IMPACT_WORDS["major_outage"] = "major outage"
_PLACEHOLDER = re.compile(r"\{\{\s*(component_name|component_id)\s*\}\}")


def components_of(trigger_channel: dict[str, Any]) -> list[str]:
    """Component ids named by the first alert: its tags (a string or a list) and, for email, its body."""
    parts: list[str] = []
    tags = trigger_channel.get("tags")
    if isinstance(tags, str):
        parts.append(tags)
    elif isinstance(tags, list):
        parts.append(",".join(str(tag) for tag in tags))
    if trigger_channel.get("body"):
        parts.append(str(trigger_channel["body"]))
    return list(dict.fromkeys(COMPONENT_PATTERN.findall("\n".join(parts))))


@dataclass(frozen=True)
class ImpactTable:
    """PagerDuty priority → Statuspage component status; `default` for every other priority (and none)."""

    by_priority: dict[str, str]
    default: str

    def status_for(self, priority: str | None) -> str:
        return self.by_priority.get(priority or "", self.default)


def parse_impact(text: str) -> ImpactTable:
    """`P1=major_outage,*=partial_outage`; raises ValueError with a reason."""
    table: dict[str, str] = {}
    default = "partial_outage"
    for item in (part.strip() for part in text.split(",") if part.strip()):
        priority, _, status = (piece.strip() for piece in item.partition("="))
        if not priority or status not in OUTAGE_ORDER:
            raise ValueError(
                f"expected PRIORITY=STATUS items with STATUS one of {', '.join(OUTAGE_ORDER)}, got {item!r}"
            )
        if priority == "*":
            default = status
        else:
            table[priority] = status
    return ImpactTable(table, default)


def worst(statuses: list[str]) -> str:
    return max(statuses, key=OUTAGE_ORDER.index) if statuses else "partial_outage"


def render(template: str, component_id: str, component_name: str) -> str:
    values = {"component_name": component_name, "component_id": component_id}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def incident_body(template: str, marker: str, component_id: str, component_name: str) -> str:
    """The first update's body, with the marker on its own line: that is how the incident is recognised later."""
    return f"{render(template, component_id, component_name)}\n{marker}"


def oldest_update(incident: dict[str, Any]) -> dict[str, Any]:
    updates = incident.get("incident_updates") or []
    return updates[-1] if updates else {}  # the API lists updates newest first


def is_managed(incident: dict[str, Any], marker: str) -> bool:
    return marker in str(oldest_update(incident).get("body") or "")


def managed_component(incident: dict[str, Any]) -> str | None:
    """The component a marked incident is about: our metadata, else the first update's component (the original
    read the last affected component of the oldest update), else the incident's first component."""
    metadata = (incident.get("metadata") or {}).get("switchboard") or {}
    if metadata.get("component_id"):
        return str(metadata["component_id"])
    affected = oldest_update(incident).get("affected_components") or []
    if affected:
        return str(affected[-1].get("code") or "") or None
    components = incident.get("components") or []
    return str(components[0].get("id")) if components else None


def adopted_state(incident: dict[str, Any], component: str) -> tuple[str, str | None]:
    """The impact and name a marked incident shows for `component`, to adopt it (partial_outage when the page shows
    no outage for it)."""
    shown = [c for c in incident.get("components") or [] if str(c.get("id")) == component]
    status = shown[0].get("status") if shown else None
    return (status if status in OUTAGE_ORDER else "partial_outage"), (shown[0].get("name") if shown else None)


def pagerduty_incident(html_url: str, number: int, title: str) -> str:
    """A PagerDuty incident in a Slack notice: `#<n>` linked to it (the label can never show another target), then
    its title as literal text (no links, mentions or broadcasts)."""
    label = f"#{number}"
    return f"{link(html_url, label) if html_url else label} {escape(title)}"
