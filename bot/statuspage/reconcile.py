"""Reconcile: after every PagerDuty poll, bring Statuspage in line with the union of all accounts.

Reconcile decides from SQLite (the poller's snapshot, our managed incidents, mappings, suppressions) and touches
Statuspage only when something must change, or every STATUSPAGE_AUDIT_SECONDS to notice what humans did: a managed
incident resolved by hand is recorded (and never reopened for the same PagerDuty incidents), an unknown incident
carrying the marker is adopted, a second marked incident for one component is resolved. Writes go through the
outbox (effects.py); incidents without the marker that Switchboard did not open are never touched.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import sqlite_utils

from bot.clients.statuspage import StatuspageClient
from bot.incidents.model import Window
from bot.incidents.notify import announce
from bot.incidents.pagerduty_api import PagerDutyAccount
from bot.incidents.poller import IncidentPoller
from bot.outbox import Outbox
from bot.statuspage import rules
from bot.statuspage.components import ComponentNames
from bot.statuspage.config import StatuspageConfig
from bot.statuspage.effects import IMPACT, OPEN, RESOLVE, RESOLVE_DUPLICATE
from bot.statuspage.plan import Desired, Managed, Plan, audit_changes, desired_components, plan_changes
from bot.store import Store
from bot.text import escape, quoted

log = logging.getLogger(__name__)

LAST_RECONCILE = "statuspage.last_reconcile_at"
LAST_AUDIT = "statuspage.last_audit_at"


class Reconciler:
    """The status page's consumer of the incident poller: it needs only the open-incident snapshot, and reconciles
    once per poll against every account's (the `statuspage.reconcile` job runs the same on demand)."""

    needs_log_entries = False

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        client: StatuspageClient,
        components: ComponentNames,
        poller: IncidentPoller,
        config: StatuspageConfig,
    ):
        self.store = store
        self.outbox = outbox
        self.client = client
        self.components = components
        self.poller = poller
        self.config = config
        self._lock = threading.Lock()
        self._unknown_reported: set[str] = set()

    # --- IncidentConsumer ------------------------------------------------------------------------
    def fetch_extra(self, account: PagerDutyAccount, window: Window) -> None:
        pass

    def handle_window(self, db: sqlite_utils.Database, window: Window) -> None:
        pass  # the poller stores the snapshot; reconcile reads the union of all accounts after the poll

    def after_poll(self) -> None:
        self.reconcile()

    # --- reconcile -------------------------------------------------------------------------------
    def reconcile(self) -> Plan:
        with self._lock:
            plan = self._plan()
            if plan.touches_statuspage or self._audit_due():
                started = time.time()
                unresolved = self.client.unresolved_incidents()
                self._apply_audit(unresolved, started)
                self.store.set_state(LAST_AUDIT, str(started))
                plan = self._plan()
            self._apply(plan)
            for held in plan.held:
                log.info(
                    "keeping the status incident of %s open: an account it depends on is failing",
                    quoted(held.component_id),
                )
            self.store.set_state(LAST_RECONCILE, str(time.time()))
        if plan.touches_statuspage:
            self.poller.kick_outbox()
        return plan

    def open_rows(self) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM statuspage_incidents WHERE resolved_at IS NULL ORDER BY component_id")

    def _audit_due(self) -> bool:
        last = self.store.get_state(LAST_AUDIT)
        if last is None:  # first start: begin the clock, no call while nothing changes
            self.store.set_state(LAST_AUDIT, str(time.time()))
            return False
        return time.time() - float(last) >= self.config.audit_seconds

    def _plan(self) -> Plan:
        mappings = {r["service_id"]: r["component_id"] for r in self.store.query("SELECT * FROM statuspage_mappings")}
        suppressed = {
            (r["component_id"], r["pd_incident"]) for r in self.store.query("SELECT * FROM statuspage_suppressed")
        }
        desired = desired_components(
            self.poller.open_incidents(), self.config.open_on, mappings, self.config.impact, suppressed
        )
        managed = [_managed(row) for row in self.open_rows()]
        plan = plan_changes(desired, managed, self.poller.failing_accounts())
        if plan.open:
            plan.open = self._known_components(plan.open)
        return plan

    def _known_components(self, wanted: list[Desired]) -> list[Desired]:
        """A tag naming a component the page does not have is reported once, not tried every poll."""
        names = self.components.get()  # cached; refreshed every few minutes
        known = [d for d in wanted if d.component_id in names]
        for unknown in {d.component_id for d in wanted} - set(names) - self._unknown_reported:
            self._unknown_reported.add(unknown)
            log.warning(
                "PagerDuty incidents name Statuspage component %s, which the page does not have", quoted(unknown)
            )
        return known

    def _apply(self, plan: Plan) -> None:
        now = time.time()
        with self.store.write() as db:
            conn = db.conn
            for wanted in plan.open:
                cursor = conn.execute(
                    "INSERT INTO statuspage_incidents (component_id, state, impact, pd_incidents, created_at) "
                    "VALUES (?, 'opening', ?, ?, ?)",
                    [wanted.component_id, wanted.impact, json.dumps(sorted(wanted.pd_refs)), now],
                )
                row_id = int(cursor.lastrowid or 0)
                self.outbox.enqueue(f"statuspage:open:{row_id}", OPEN, {"row_id": row_id}, db=db)
            for current in plan.resolve:
                conn.execute("UPDATE statuspage_incidents SET state = 'resolving' WHERE id = ?", [current.row_id])
                self.outbox.enqueue(f"statuspage:resolve:{current.row_id}", RESOLVE, {"row_id": current.row_id}, db=db)
            for current, impact in plan.impact:
                conn.execute("UPDATE statuspage_incidents SET impact = ? WHERE id = ?", [impact, current.row_id])
                key = f"{current.row_id}:{time.time_ns()}"  # every change is its own effect; the row says which wins
                payload = {"row_id": current.row_id, "impact": impact, "key": key}
                self.outbox.enqueue(f"statuspage:impact:{key}", IMPACT, payload, db=db)
            for current, refs in plan.refs:
                conn.execute(
                    "UPDATE statuspage_incidents SET pd_incidents = ? WHERE id = ?",
                    [json.dumps(sorted(refs)), current.row_id],
                )

    def _apply_audit(self, unresolved: list[dict[str, Any]], started: float) -> None:
        """Bring SQLite in line with what the page shows: human resolutions, adoptions, duplicates."""
        audit = audit_changes(self.open_rows(), unresolved, self.config.marker, started)
        with self.store.write() as db:
            for row in audit.resolved_elsewhere:
                self._resolved_elsewhere(db, row)
            for incident, component in audit.adopt:
                self._adopt(db, incident, component)
            for incident, component, kept in audit.duplicates:
                log.warning(
                    "two marked Statuspage incidents for component %s (%s and %s): resolving the second",
                    quoted(component),
                    quoted(kept),
                    quoted(incident["id"]),
                )
                payload = {"incident_id": incident["id"], "component_id": component}
                self.outbox.enqueue(f"statuspage:duplicate:{incident['id']}", RESOLVE_DUPLICATE, payload, db=db)

    def _resolved_elsewhere(self, db: sqlite_utils.Database, row: dict[str, Any]) -> None:
        now = time.time()
        changed = db.conn.execute(
            "UPDATE statuspage_incidents SET state = 'resolved', resolved_at = ?, resolved_by = 'human' "
            "WHERE id = ? AND resolved_at IS NULL",
            [now, row["id"]],
        ).rowcount
        if not changed or row["state"] == "resolving":
            return  # our own resolve got there first, or we were closing it anyway
        refs = json.loads(row["pd_incidents"] or "[]")
        db.conn.executemany(
            "INSERT OR IGNORE INTO statuspage_suppressed (component_id, pd_incident, since) VALUES (?, ?, ?)",
            [(row["component_id"], ref, now) for ref in refs],
        )
        log.info(
            "Statuspage incident %s (%s) was resolved by hand; not reopening it",
            quoted(row["incident_id"]),
            quoted(", ".join(refs)),
        )
        name = escape(row["component_name"] or row["component_id"])
        text = (
            f":information_source: The Statuspage incident for *{name}* was resolved on Statuspage by hand; "
            "Switchboard won't reopen it for the same PagerDuty incidents."
        )
        announce(self.outbox, db, f"statuspage:human:{row['id']}", self.config.notify_channel, text)

    def _adopt(self, db: sqlite_utils.Database, incident: dict[str, Any], component: str) -> None:
        impact, name = rules.adopted_state(incident, component)
        log.info("adopting marked Statuspage incident %s for component %s", quoted(incident["id"]), quoted(component))
        db.conn.execute(
            "INSERT INTO statuspage_incidents (component_id, component_name, incident_id, name, shortlink, state, "
            "impact, created_at, opened_at) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
            [
                component,
                name,
                incident["id"],
                incident.get("name"),
                incident.get("shortlink"),
                impact,
                time.time(),
                time.time(),
            ],
        )


def _managed(row: dict[str, Any]) -> Managed:
    return Managed(
        row_id=row["id"],
        component_id=row["component_id"],
        state=row["state"],
        impact=row["impact"],
        pd_refs=frozenset(json.loads(row["pd_incidents"] or "[]")),
    )
