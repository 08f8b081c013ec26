"""The Statuspage writes, as outbox handlers: open, resolve, change impact, resolve a duplicate.

Statuspage has no idempotency key, so an open stores the new incident's id the moment it is known, and a retried
open first looks for an incident carrying this row's id in its metadata (the POST may have succeeded before a
crash). Throttling (420/429) and server errors wait; a refusal (unknown component, bad template) gives up.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from bot.clients.statuspage import THROTTLED, StatuspageClient, StatuspageError, StatuspageNetworkError
from bot.incidents.notify import announce
from bot.outbox import GiveUp, Handler, Outbox, RetryLater
from bot.statuspage import rules
from bot.statuspage.components import ComponentNames
from bot.statuspage.config import StatuspageConfig
from bot.store import Store
from bot.text import escape, link, quoted

log = logging.getLogger(__name__)

OPEN, RESOLVE, IMPACT, RESOLVE_DUPLICATE = (
    "statuspage.open",
    "statuspage.resolve",
    "statuspage.impact",
    "statuspage.resolve_duplicate",
)


def vendor_failure(error: Exception) -> Exception:
    """A Statuspage failure as the outbox understands it."""
    if isinstance(error, StatuspageError):
        if error.status in THROTTLED:  # the client already waited Retry-After (bounded); come back later
            return RetryLater(f"Statuspage throttled ({error.status})", 5.0)
        if 400 <= error.status < 500 and error.status != 408:
            return GiveUp(str(error))
    return RetryLater(f"Statuspage: {type(error).__name__}: {str(error)[:200]}")


class StatuspageEffects:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        client: StatuspageClient,
        components: ComponentNames,
        config: StatuspageConfig,
    ):
        self.store = store
        self.outbox = outbox
        self.client = client
        self.components = components
        self.config = config

    def by_kind(self) -> dict[str, Handler]:
        """Outbox kind -> handler, for the service's `effects()`."""
        return {
            OPEN: self.open,
            RESOLVE: self.resolve,
            IMPACT: self.change_impact,
            RESOLVE_DUPLICATE: self.resolve_duplicate,
        }

    def _row(self, row_id: int) -> dict[str, Any] | None:
        return self.store.query_one("SELECT * FROM statuspage_incidents WHERE id = ?", [row_id])

    # --- open ------------------------------------------------------------------------------------
    def open(self, payload: dict[str, Any]) -> dict[str, Any]:
        row = self._row(int(payload["row_id"]))
        if row is None or row["incident_id"] or row["resolved_at"]:
            return {"skipped": "already opened or closed"}
        if row["state"] == "resolving" and not row["create_attempted_at"]:
            return {"skipped": "no longer needed"}  # the queued resolve closes the row without an incident
        try:
            names = self.components.get()
            if row["component_id"] not in names:
                names = self.components.get(refresh=True)
            component = row["component_id"]
            if component not in names:
                self._give_up_row(row, f"Statuspage has no component {component!r}")
            name = names[component]
            found = self._find_own(row) if row["create_attempted_at"] else None
            if found is None:
                self.store.execute(
                    "UPDATE statuspage_incidents SET create_attempted_at = ? WHERE id = ?", [time.time(), row["id"]]
                )
                found = self.client.create_incident(self._new_incident(row, name))
        except (StatuspageError, StatuspageNetworkError) as error:
            failure = vendor_failure(error)
            if isinstance(error, StatuspageError):  # Statuspage answered: nothing was made, no need to look for it
                forget = "UPDATE statuspage_incidents SET create_attempted_at = NULL WHERE id = ?"
                self.store.execute(forget, [row["id"]])
            if isinstance(failure, GiveUp):
                self._give_up_row(row, str(error))
            raise failure from error
        self._store_opened(row, found, name)
        return {"incident_id": found["id"]}

    def _new_incident(self, row: dict[str, Any], name: str) -> dict[str, Any]:
        component = row["component_id"]
        return {
            "name": rules.render(self.config.name_template, component, name)[:255],
            "status": "investigating",
            "body": rules.incident_body(self.config.body_template, self.config.marker, component, name),
            "component_ids": [component],
            "components": {component: row["impact"]},
            "deliver_notifications": True,
            "metadata": {"switchboard": {"row": str(row["id"]), "component_id": component}},
        }

    def _find_own(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """After an attempt whose answer was lost, the incident may exist: find it by the row id in its metadata."""
        for incident in self.client.unresolved_incidents():
            metadata = (incident.get("metadata") or {}).get("switchboard") or {}
            if str(metadata.get("row")) == str(row["id"]) and metadata.get("component_id") == row["component_id"]:
                log.info(
                    "Statuspage incident %s was created by an earlier attempt; adopting it", quoted(incident["id"])
                )
                return incident
        settle = row["create_attempted_at"] + self.client.retry_profile.timeout + 2.0 - time.time()
        if settle > 0:  # a create that timed out may still be landing: look again before creating another
            raise RetryLater("the last create's outcome is unknown yet", settle)
        return None

    def _store_opened(self, row: dict[str, Any], incident: dict[str, Any], component_name: str) -> None:
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE statuspage_incidents SET incident_id = ?, shortlink = ?, name = ?, component_name = ?, "
                "opened_at = ?, state = CASE WHEN state = 'opening' THEN 'open' ELSE state END WHERE id = ?",
                [
                    incident["id"],
                    incident.get("shortlink"),
                    incident.get("name"),
                    component_name,
                    time.time(),
                    row["id"],
                ],
            )
            text = (
                f":large_orange_circle: Statuspage incident opened for *{escape(component_name)}* "
                f"({rules.IMPACT_WORDS.get(row['impact'], row['impact'])}): {link(incident.get('shortlink') or '')}"
                f"{self._caused_by(row)}"
            )
            announce(self.outbox, db, f"statuspage:opened:{row['id']}", self.config.notify_channel, text)

    def _caused_by(self, row: dict[str, Any]) -> str:
        refs = json.loads(row["pd_incidents"] or "[]")
        if not refs:
            return ""
        shown = []
        for ref in refs:
            account, _, incident_id = ref.partition("/")
            found = self.store.query_one(
                "SELECT number, title, html_url FROM pd_open_incidents WHERE account = ? AND incident_id = ?",
                [account, incident_id],
            )
            if found:
                shown.append(rules.pagerduty_incident(found["html_url"] or "", found["number"], found["title"] or ""))
        return f"\nPagerDuty: {', '.join(shown)}" if shown else ""

    def _give_up_row(self, row: dict[str, Any], reason: str) -> None:
        log.error("cannot open a Statuspage incident for component %s: %s", quoted(row["component_id"]), quoted(reason))
        self.store.execute(
            "UPDATE statuspage_incidents SET state = 'resolved', resolved_at = ?, resolved_by = 'error' WHERE id = ?",
            [time.time(), row["id"]],
        )
        raise GiveUp(reason)

    # --- resolve ---------------------------------------------------------------------------------
    def resolve(self, payload: dict[str, Any]) -> dict[str, Any]:
        row = self._row(int(payload["row_id"]))
        if row is None or row["resolved_at"]:
            return {"skipped": "already resolved"}
        if not row["incident_id"]:
            opening = self.outbox.get(f"statuspage:open:{row['id']}")
            if opening is not None and opening.state == "pending" and row["create_attempted_at"]:
                raise RetryLater("the incident is still being opened", 1.0)
            if opening is None or opening.state != "pending":
                self._mark_resolved(row, "switchboard", announce_it=False)
                return {"skipped": "never opened"}
            raise RetryLater("the open is queued before this", 0.5)
        component = row["component_id"]
        body = {
            "status": "resolved",
            "body": self.config.resolved_body,
            "component_ids": [component],
            "components": {component: "operational"},
        }
        try:
            self.client.update_incident(row["incident_id"], body)
        except StatuspageError as error:
            if error.status == 404:  # deleted on Statuspage: nothing left to resolve
                self._mark_resolved(row, "human", announce_it=False)
                return {"skipped": "deleted on Statuspage"}
            raise vendor_failure(error) from error
        except StatuspageNetworkError as error:
            raise vendor_failure(error) from error
        self._mark_resolved(row, "switchboard", announce_it=True)
        return {"resolved": row["incident_id"]}

    def _mark_resolved(self, row: dict[str, Any], by: str, announce_it: bool) -> None:
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE statuspage_incidents SET state = 'resolved', resolved_at = ?, resolved_by = ? "
                "WHERE id = ? AND resolved_at IS NULL",
                [time.time(), by, row["id"]],
            )
            if announce_it:
                name = escape(row["component_name"] or row["component_id"])
                text = (
                    f":large_green_circle: Statuspage incident for *{name}* resolved: no PagerDuty incident affects "
                    f"it any more. {link(row['shortlink'] or '')}"
                )
                announce(self.outbox, db, f"statuspage:resolved:{row['id']}", self.config.notify_channel, text)

    # --- impact ----------------------------------------------------------------------------------
    def change_impact(self, payload: dict[str, Any]) -> dict[str, Any]:
        row = self._row(int(payload["row_id"]))
        if row is None or row["resolved_at"] or row["state"] != "open":
            return {"skipped": "not open"}
        if not row["incident_id"]:
            return {"skipped": "the open uses the current impact"}
        impact = payload["impact"]
        if impact != row["impact"]:
            return {"skipped": "superseded by a later change"}
        component = row["component_id"]
        try:
            self.client.update_incident(
                row["incident_id"], {"component_ids": [component], "components": {component: impact}}
            )
        except (StatuspageError, StatuspageNetworkError) as error:
            raise vendor_failure(error) from error
        name = escape(row["component_name"] or component)
        text = f":red_circle: Statuspage: *{name}* is now at {rules.IMPACT_WORDS.get(impact, impact)}."
        with self.store.write() as db:
            announce(self.outbox, db, f"statuspage:impact:{payload['key']}", self.config.notify_channel, text)
        return {"impact": impact}

    def resolve_duplicate(self, payload: dict[str, Any]) -> dict[str, Any]:
        component = payload["component_id"]
        body = {"status": "resolved", "body": self.config.resolved_body, "component_ids": [component]}
        try:
            self.client.update_incident(payload["incident_id"], body)
        except StatuspageError as error:
            if error.status == 404:
                return {"skipped": "gone"}
            raise vendor_failure(error) from error
        except StatuspageNetworkError as error:
            raise vendor_failure(error) from error
        return {"resolved": payload["incident_id"]}
