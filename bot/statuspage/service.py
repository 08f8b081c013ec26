"""The status page capability: PagerDuty incidents tagged with a component drive Statuspage incidents.

Built from the foundation: the Statuspage client, the shared incident poller (whose poll ends with a reconcile,
reconcile.py), the outbox handlers of the Statuspage writes (effects.py) and what `/statuspage` reads (commands.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.capability import CapabilityService, Finding, Foundation, Job
from bot.clients.statuspage import build_statuspage
from bot.incidents.poller import shared_poller
from bot.outbox import Handler
from bot.statuspage import config, outage_minutes, unknown_components
from bot.statuspage.components import ComponentNames
from bot.statuspage.effects import IMPACT, OPEN, RESOLVE, StatuspageEffects
from bot.statuspage.reconcile import Reconciler
from bot.text import escape, link

RECONCILE_JOB = "statuspage.reconcile"


log = logging.getLogger(__name__)


class StatuspageService(CapabilityService):
    def __init__(self, foundation: Foundation):
        self.config = config.load(foundation.settings)
        self.store = foundation.store
        self.outbox = foundation.outbox
        self.scheduler = foundation.scheduler
        self.is_admin: Callable[[str], bool] = foundation.is_admin
        self.shadow = foundation.shadow
        self.client = build_statuspage(foundation.settings)
        if self.config.request_interval is not None:
            self.client.min_interval = self.config.request_interval
        self.components = ComponentNames(self.client)
        self.poller = shared_poller(foundation)
        self.reconciler = Reconciler(self.store, self.outbox, self.client, self.components, self.poller, self.config)
        self.poller.add_consumer(self.reconciler)
        self.poller.claim_incident_digest(self)
        self.writes = StatuspageEffects(self.store, self.outbox, self.client, self.components, self.config)

    # --- CapabilityService -----------------------------------------------------------------------
    def start(self) -> None:
        if not self.shadow.active("statuspage"):
            self.leave_shadow()

    def leave_shadow(self) -> None:
        """After a shadow run, status incidents are state: forget the opens and resolves that were only recorded,
        so the next reconcile decides again from what is open now and writes only what is still needed."""
        shadowed = "SELECT json_extract(payload, '$.row_id') FROM outbox WHERE state = 'shadowed' AND kind = ?"
        with self.store.write() as db:
            opened = db.conn.execute(
                f"DELETE FROM statuspage_incidents WHERE state = 'opening' AND id IN ({shadowed})", [OPEN]
            ).rowcount
            resolved = db.conn.execute(
                f"UPDATE statuspage_incidents SET state = 'open' WHERE state = 'resolving' AND id IN ({shadowed})",
                [RESOLVE],
            ).rowcount
            # a later resolve of the same row reuses its key: the record must not stand in its way
            db.conn.execute("DELETE FROM outbox WHERE state = 'shadowed' AND kind IN (?, ?)", [OPEN, RESOLVE])
        if opened or resolved:
            log.info("left shadow mode: %d recorded open(s) and %d resolve(s) will be decided again", opened, resolved)

    def jobs(self) -> tuple[Job, ...]:
        return (self.poller.job, Job(RECONCILE_JOB, None, self.reconciler.reconcile))

    def effects(self) -> Mapping[str, Handler]:
        return {**self.poller.effects(), **self.writes.by_kind()}

    def digest(self, since: float, until: float) -> list[str]:
        """Incidents opened and resolved (the poller's figure: reported here when the status page runs, so it
        appears once in the digest), then the status-page minutes per component."""
        lines = self.poller.incident_digest(since, until) if self.poller.reports_incidents(self) else []
        return lines + outage_minutes.digest_lines(self.store, since, until)

    def doctor(self) -> list[Finding]:
        """Components that open PagerDuty incidents tag, or services are mapped to, but the page does not have."""
        known = self.components.get(refresh=True)
        mappings = self.store.query("SELECT * FROM statuspage_mappings ORDER BY service_name, service_id")
        unknown = unknown_components.unknown_components(self.poller.open_incidents(), mappings, known)
        return unknown_components.findings(unknown, known)

    def related_links(self, pd_incidents: Sequence[str]) -> list[str]:
        """The open managed Statuspage incident(s) kept open by any of these PagerDuty incidents."""
        wanted = set(pd_incidents)
        links = []
        for row in self.open_rows():
            if row["shortlink"] and wanted & set(json.loads(row["pd_incidents"] or "[]")):
                name = row["component_name"] or row["component_id"]
                links.append(f"Status page: {link(row['shortlink'], f'{name} incident')}")
        return links

    def prune(self, before: float) -> int:
        """Resolved status incidents and the suppressions of PagerDuty incidents long over."""
        with self.store.write() as db:
            suppressed = db.conn.execute("DELETE FROM statuspage_suppressed WHERE since < ?", [before]).rowcount
            resolved = db.conn.execute(
                "DELETE FROM statuspage_incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?", [before]
            ).rowcount
        return suppressed + resolved

    def describe_effect(self, kind: str, payload: dict[str, Any]) -> str:
        row = self.store.query_one(
            "SELECT component_id, component_name FROM statuspage_incidents WHERE id = ?", [payload.get("row_id")]
        )
        component = (row["component_name"] or row["component_id"]) if row else payload.get("component_id", "?")
        action = {OPEN: "opening", RESOLVE: "resolving", IMPACT: "changing the impact of"}.get(kind, "closing")
        return f"{action} the Statuspage incident for component {escape(str(component))}"

    def counts(self) -> dict[str, int]:
        open_rows = self.store.scalar("SELECT COUNT(*) FROM statuspage_incidents WHERE resolved_at IS NULL")
        return {
            "open status incidents": int(open_rows or 0),
            "resolved by Switchboard": int(
                self.store.scalar("SELECT COUNT(*) FROM statuspage_incidents WHERE resolved_by = 'switchboard'") or 0
            ),
            "resolved by hand": int(
                self.store.scalar("SELECT COUNT(*) FROM statuspage_incidents WHERE resolved_by = 'human'") or 0
            ),
            "mapped services": int(self.store.scalar("SELECT COUNT(*) FROM statuspage_mappings") or 0),
            **self.poller.health_counts(),
        }

    # --- what `/statuspage` reads ----------------------------------------------------------------
    def open_rows(self) -> list[dict[str, Any]]:
        return self.reconciler.open_rows()


def create(foundation: Foundation) -> StatuspageService:
    return StatuspageService(foundation)
