"""Support threads ⇄ PagerDuty incidents open on the services their channel watches.

A new request in a mapped channel is linked, in its own write transaction, to every incident then open (triggered
or acknowledged) on the channel's services, as the shared incident poller last saw them (its open snapshot, at
most one INCIDENT_POLL_SECONDS old); each link queues `support.incident_note` once per thread and incident. The
poller feeds this class every account's complete open list (`handle_window`, inside the poll's transaction): a
linked incident that left it was resolved, and each ticket linked to it gets `support.incident_resolved`, once per
ticket and incident. `incident_effects.py` performs both.
"""

from __future__ import annotations

import time

import sqlite_utils

from bot.incidents.model import PdIncident, Window
from bot.incidents.pagerduty_api import PagerDutyAccount
from bot.incidents.poller import IncidentPoller
from bot.outbox import Outbox
from bot.support.identifiers import INCIDENT_NOTE, INCIDENT_RESOLVED
from bot.support.rules import incidents_on, resolved
from bot.support.service_map import ServiceMap


def note_key(thread_id: int, account: str, incident_id: str) -> str:
    return f"support:incident-note:{thread_id}:{account}/{incident_id}"


def resolved_key(ticket_id: int, account: str, incident_id: str) -> str:
    return f"support:incident-resolved:{ticket_id}:{account}/{incident_id}"


class IncidentLinks:
    """Links new requests to open incidents, and is the poller's consumer that notices their resolution."""

    needs_log_entries = False  # the complete open list of each account is enough

    def __init__(self, outbox: Outbox, service_map: ServiceMap, poller: IncidentPoller | None):
        self.outbox = outbox
        self.service_map = service_map
        self.poller = poller  # None without PAGERDUTY_API_TOKEN: nothing is ever linked

    # --- a new request ---------------------------------------------------------------------------
    def open_on(self, channel: str) -> list[PdIncident]:
        """The incidents open now on the services this channel watches (read before the request's transaction)."""
        if self.poller is None:
            return []
        services = self.service_map.services_of(channel)
        return incidents_on(self.poller.open_incidents(), services) if services else []

    def link(self, db: sqlite_utils.Database, thread_id: int, incidents: list[PdIncident]) -> None:
        """Inside the request's transaction: one link row and one note effect per incident."""
        now = time.time()
        for incident in incidents:
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO support_incident_links (thread_id, account, incident_id, number, title, "
                "status, service_id, service_name, html_url, linked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    thread_id,
                    incident.account,
                    incident.id,
                    incident.number,
                    incident.title,
                    incident.status,
                    incident.service_id,
                    incident.service_name,
                    incident.html_url,
                    now,
                ],
            )
            if cursor.rowcount == 1:
                payload = {"thread_id": thread_id, "account": incident.account, "incident_id": incident.id}
                self.outbox.enqueue(note_key(thread_id, incident.account, incident.id), INCIDENT_NOTE, payload, db=db)

    # --- the poller's consumer -------------------------------------------------------------------
    def fetch_extra(self, account: PagerDutyAccount, window: Window) -> None:
        """Nothing beyond the open list."""

    def handle_window(self, db: sqlite_utils.Database, window: Window) -> None:
        """A linked incident missing from the account's complete open list is resolved: tell its tickets, once.
        A link whose ticket is still being created waits for a later poll (it stays missing from the list)."""
        rows = db.conn.execute(
            "SELECT l.thread_id, l.incident_id, t.ticket_id, t.state FROM support_incident_links l "
            "JOIN support_threads t ON t.id = l.thread_id WHERE l.account = ? AND l.resolved_at IS NULL",
            [window.account],
        ).fetchall()
        gone = set(resolved((row["incident_id"] for row in rows), {i.id for i in window.open_incidents}))
        now = time.time()
        for row in rows:
            if row["incident_id"] not in gone or (row["ticket_id"] is None and row["state"] == "creating"):
                continue
            db.conn.execute(
                "UPDATE support_incident_links SET resolved_at = ? WHERE thread_id = ? AND account = ? "
                "AND incident_id = ?",
                [now, row["thread_id"], window.account, row["incident_id"]],
            )
            if row["ticket_id"] is None or row["state"] not in ("open", "creating"):
                continue  # the ticket failed or the thread was forgotten: nobody to tell
            payload = {
                "thread_id": row["thread_id"],
                "ticket_id": row["ticket_id"],
                "account": window.account,
                "incident_id": row["incident_id"],
            }
            key = resolved_key(row["ticket_id"], window.account, row["incident_id"])
            self.outbox.enqueue(key, INCIDENT_RESOLVED, payload, db=db)

    def after_poll(self) -> None:
        """Nothing to reconcile across accounts."""
