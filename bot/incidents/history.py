"""When each PagerDuty incident was opened and resolved, for the daily digest's "incidents opened and resolved".

The poller's other tables keep no history (`pd_open_incidents` is the latest snapshot, `pd_log_entries` only ids of
handled entries), so every poll also records, in its own transaction, one `pd_incident_history` row per incident:
`opened_at` is PagerDuty's `created_at` (else the log's trigger entry, else the moment it was first seen open) and
`resolved_at` the log's resolve entry (else the first poll that no longer lists it as open). Incidents opened and
resolved between two polls are seen only when a consumer reads log entries (the Jira sync does; the status page
alone does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from bot.incidents.model import Window
from bot.store import Store

KEEP_SECONDS = 35 * 86400.0  # a month of digests, and a few days to spare
TRIGGER_ENTRY = "trigger_log_entry"
RESOLVE_ENTRY = "resolve_log_entry"


def record_window(db: sqlite_utils.Database, window: Window, now: float) -> None:
    """Inside the poll's transaction: open incidents are (still) open, the ones gone from the complete open list
    are resolved, and trigger/resolve log entries give the exact moments."""
    conn = db.conn
    resolved_by_log = {e.incident_id: e.created_at for e in window.entries if e.type == RESOLVE_ENTRY}
    triggered_by_log = {e.incident_id: e.created_at for e in window.entries if e.type == TRIGGER_ENTRY}
    for incident in window.open_incidents:
        opened = incident.created_at or triggered_by_log.get(incident.id) or now
        conn.execute(
            "INSERT INTO pd_incident_history (account, incident_id, number, title, service_id, html_url, opened_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account, incident_id) DO UPDATE SET resolved_at = NULL",
            [
                window.account,
                incident.id,
                incident.number,
                incident.title,
                incident.service_id,
                incident.html_url,
                opened,
            ],
        )
    # Seen only in the log: opened (and perhaps resolved) between two polls.
    for incident_id, opened in triggered_by_log.items():
        known = window.incidents.get(incident_id)
        conn.execute(
            "INSERT OR IGNORE INTO pd_incident_history (account, incident_id, number, title, service_id, html_url, "
            "opened_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                window.account,
                incident_id,
                known.number if known else None,
                known.title if known else None,
                known.service_id if known else None,
                known.html_url if known else None,
                (known.created_at if known else None) or opened,
            ],
        )
    still_open = {i.id for i in window.open_incidents}
    rows = conn.execute(
        "SELECT incident_id FROM pd_incident_history WHERE account = ? AND resolved_at IS NULL", [window.account]
    ).fetchall()
    for (incident_id,) in rows:
        if incident_id not in still_open:
            conn.execute(
                "UPDATE pd_incident_history SET resolved_at = ? WHERE account = ? AND incident_id = ?",
                [resolved_by_log.get(incident_id, now), window.account, incident_id],
            )
    conn.execute("DELETE FROM pd_incident_history WHERE resolved_at < ?", [now - KEEP_SECONDS])


@dataclass(frozen=True)
class IncidentFigures:
    opened: int
    resolved: int
    open_now: int  # opened before the period's end and not resolved by then


def figures(store: Store, since: float, until: float) -> IncidentFigures:
    """Incidents opened and resolved in [since, until), over every account."""

    def count(sql: str, params: list[float]) -> int:
        return int(store.scalar(f"SELECT COUNT(*) FROM pd_incident_history WHERE {sql}", params) or 0)

    return IncidentFigures(
        opened=count("opened_at >= ? AND opened_at < ?", [since, until]),
        resolved=count("resolved_at >= ? AND resolved_at < ?", [since, until]),
        open_now=count("opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)", [until, until]),
    )


def digest_lines(store: Store, since: float, until: float) -> list[str]:
    """One line, or none on a day without incidents."""
    found = figures(store, since, until)
    if not (found.opened or found.resolved or found.open_now):
        return []
    return [f"PagerDuty incidents: {found.opened} opened, {found.resolved} resolved, {found.open_now} still open"]
