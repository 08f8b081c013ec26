"""Tables of the shared PagerDuty incident poller (versions 40, 43 and 47) that feeds the status page and Jira sync."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


def _poller(db: sqlite_utils.Database) -> None:
    # One row per PagerDuty account: its log-entry cursor (epoch seconds, PagerDuty's clock) and its health.
    db.execute(
        "CREATE TABLE pd_accounts (name TEXT PRIMARY KEY, log_cursor REAL, last_poll_at REAL, last_ok_at REAL, "
        "last_error TEXT, last_error_at REAL, open_incidents INTEGER NOT NULL DEFAULT 0)"
    )
    # The last complete list of open incidents per account: a failing account keeps its last known state.
    db.execute(
        "CREATE TABLE pd_open_incidents (account TEXT NOT NULL, incident_id TEXT NOT NULL, number INTEGER, "
        "title TEXT, status TEXT NOT NULL, priority TEXT, service_id TEXT, service_name TEXT, html_url TEXT, "
        "trigger_channel TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (account, incident_id))"
    )
    # Log entries already handled: overlapping windows are deduplicated here.
    db.execute(
        "CREATE TABLE pd_log_entries (account TEXT NOT NULL, entry_id TEXT NOT NULL, seen_at REAL NOT NULL, "
        "PRIMARY KEY (account, entry_id))"
    )
    db.execute("CREATE INDEX pd_log_entries_by_age ON pd_log_entries (seen_at)")
    # Every write Switchboard made to PagerDuty or Jira (the echo guard and an audit trail).
    db.execute(
        "CREATE TABLE incident_sync_writes (id INTEGER PRIMARY KEY, system TEXT NOT NULL, ref TEXT NOT NULL, "
        "field TEXT NOT NULL, value TEXT, at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX incident_sync_writes_by_ref ON incident_sync_writes (system, ref, field, id)")


def _history(db: sqlite_utils.Database) -> None:
    # When each incident was opened and resolved (the daily digest); the snapshot table keeps only what is open.
    db.execute(
        "CREATE TABLE pd_incident_history (account TEXT NOT NULL, incident_id TEXT NOT NULL, number INTEGER, "
        "title TEXT, service_id TEXT, html_url TEXT, opened_at REAL NOT NULL, resolved_at REAL, "
        "PRIMARY KEY (account, incident_id))"
    )
    db.execute("CREATE INDEX pd_incident_history_by_opened ON pd_incident_history (opened_at)")
    db.execute("CREATE INDEX pd_incident_history_by_resolved ON pd_incident_history (resolved_at)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(40, "incidents: PagerDuty accounts, open incidents, log entries, sync writes", _poller),
    Migration(
        43,
        "incidents: identifiers incidents.<name>",
        rename_identifiers(
            jobs={"incidents_poll": "incidents.poll"}, kinds={"incidents_slack_post": "incidents.slack_post"}
        ),
    ),
    Migration(47, "incidents: when each incident opened and resolved", _history),
)
