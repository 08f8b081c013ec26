"""What the status page should look like, and the changes that get it there (pure: no I/O, unit-tested).

P (desired) is computed over the union of every PagerDuty account's open incidents; S (managed) is Switchboard's
own unresolved Statuspage incidents. Components in P − S are opened, S − P resolved, and those in both get their
impact and their list of PagerDuty incidents brought up to date. Nothing is resolved while it may be held up by an
account whose state is not trusted right now (its poll is failing).

The audit compares S with what the page shows: managed incidents resolved there by hand, marked incidents nobody
manages (adopted), and a second marked incident for one component (resolved).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.incidents.model import PdIncident
from bot.statuspage.rules import ImpactTable, components_of, is_managed, managed_component, worst


@dataclass(frozen=True)
class Desired:
    component_id: str
    impact: str  # component status: partial_outage, major_outage, ...
    pd_refs: frozenset[str]  # "account/incident_id"


@dataclass(frozen=True)
class Managed:
    row_id: int
    component_id: str
    state: str  # opening | open | resolving
    impact: str
    pd_refs: frozenset[str]


@dataclass
class Plan:
    open: list[Desired] = field(default_factory=list)
    resolve: list[Managed] = field(default_factory=list)
    impact: list[tuple[Managed, str]] = field(default_factory=list)
    refs: list[tuple[Managed, frozenset[str]]] = field(default_factory=list)  # bookkeeping only (no API call)
    held: list[Managed] = field(default_factory=list)  # would resolve, but a failing account may still need it

    @property
    def touches_statuspage(self) -> bool:
        return bool(self.open or self.resolve or self.impact)


def incident_components(incident: PdIncident, mappings: dict[str, str]) -> list[str]:
    """Tags on the first alert win; a service mapping covers services whose alerts carry none."""
    tagged = components_of(incident.trigger_channel)
    if tagged:
        return tagged
    mapped = mappings.get(incident.service_id)
    return [mapped] if mapped else []


def desired_components(
    incidents: Iterable[PdIncident],
    open_on: tuple[str, ...],
    mappings: dict[str, str],
    impact: ImpactTable,
    suppressed: set[tuple[str, str]],
) -> dict[str, Desired]:
    """Component → what keeps it down. `suppressed` holds (component, pd ref) pairs a human already closed."""
    impacts: dict[str, list[str]] = {}
    refs: dict[str, set[str]] = {}
    for incident in incidents:
        if incident.status not in open_on:
            continue
        for component in incident_components(incident, mappings):
            if (component, incident.ref) in suppressed:
                continue
            impacts.setdefault(component, []).append(impact.status_for(incident.priority))
            refs.setdefault(component, set()).add(incident.ref)
    return {c: Desired(c, worst(impacts[c]), frozenset(refs[c])) for c in sorted(impacts)}


def plan_changes(desired: dict[str, Desired], managed: list[Managed], failing_accounts: set[str]) -> Plan:
    plan = Plan()
    by_component = {m.component_id: m for m in managed}
    for component, wanted in desired.items():
        current = by_component.get(component)
        if current is None:
            plan.open.append(wanted)
            continue
        if current.state == "resolving":  # being closed right now; the next poll opens a fresh one if needed
            continue
        if current.impact != wanted.impact:
            plan.impact.append((current, wanted.impact))
        if current.pd_refs != wanted.pd_refs:
            plan.refs.append((current, wanted.pd_refs))
    for current in managed:
        if current.component_id in desired or current.state == "resolving":
            continue
        accounts = {ref.split("/", 1)[0] for ref in current.pd_refs}
        if failing_accounts and (not accounts or accounts & failing_accounts):
            plan.held.append(current)
        else:
            plan.resolve.append(current)
    return plan


@dataclass
class Audit:
    resolved_elsewhere: list[dict[str, Any]] = field(default_factory=list)  # managed rows gone from the page
    adopt: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (marked incident, its component)
    duplicates: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)  # (incident, component, kept id)


def audit_changes(rows: list[dict[str, Any]], unresolved: list[dict[str, Any]], marker: str, started: float) -> Audit:
    """`rows`: our unresolved statuspage_incidents rows; `unresolved`: the page's unresolved incidents, read from
    `started` on. A row opened after that moment may simply not be in the list yet."""
    audit = Audit()
    live_ids = {str(i["id"]) for i in unresolved}
    known_ids = {r["incident_id"] for r in rows if r["incident_id"]}
    owners: dict[str, str] = {}  # component -> its live managed incident
    for row in rows:
        if not row["incident_id"]:
            owners[row["component_id"]] = ""  # an open of ours in flight finds its incident by metadata
        elif row["incident_id"] in live_ids:
            owners[row["component_id"]] = row["incident_id"]
        elif (row["opened_at"] or 0) < started:
            audit.resolved_elsewhere.append(row)
        else:
            owners[row["component_id"]] = row["incident_id"]  # opened during this audit
    for incident in unresolved:
        if str(incident["id"]) in known_ids or not is_managed(incident, marker):
            continue
        component = managed_component(incident)
        if component is None or owners.get(component) == "":
            continue
        if component not in owners:
            audit.adopt.append((incident, component))
            owners[component] = str(incident["id"])
        else:
            audit.duplicates.append((incident, component, owners[component]))
    return audit
