"""Tables of the incident sync (versions 40-49): the shared PagerDuty poller, the status page and the Jira sync."""

from __future__ import annotations

import sqlite_utils

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


def _statuspage(db: sqlite_utils.Database) -> None:
    # state: opening (create pending) -> open -> resolving -> resolved; `pd_incidents` is a JSON list of
    # "account/incident_id" refs that kept the component down.
    db.execute(
        "CREATE TABLE statuspage_incidents (id INTEGER PRIMARY KEY, component_id TEXT NOT NULL, component_name TEXT, "
        "incident_id TEXT UNIQUE, name TEXT, shortlink TEXT, state TEXT NOT NULL, impact TEXT NOT NULL, "
        "pd_incidents TEXT NOT NULL DEFAULT '[]', created_at REAL NOT NULL, create_attempted_at REAL, "
        "opened_at REAL, resolved_at REAL, resolved_by TEXT)"
    )
    # Never two managed, unresolved incidents for one component.
    db.execute(
        "CREATE UNIQUE INDEX statuspage_one_open_per_component ON statuspage_incidents (component_id) "
        "WHERE resolved_at IS NULL"
    )
    # PagerDuty incidents whose status incident a human resolved early: never reopened for them.
    db.execute(
        "CREATE TABLE statuspage_suppressed (component_id TEXT NOT NULL, pd_incident TEXT NOT NULL, "
        "since REAL NOT NULL, PRIMARY KEY (component_id, pd_incident))"
    )
    db.execute(
        "CREATE TABLE statuspage_mappings (service_id TEXT PRIMARY KEY, service_name TEXT, account TEXT, "
        "component_id TEXT NOT NULL, component_name TEXT, mapped_by TEXT, mapped_at REAL NOT NULL)"
    )


def _jira(db: sqlite_utils.Database) -> None:
    # One Jira issue per PagerDuty incident. pd_* / jira_* hold the last values seen or written on each side,
    # so a change is propagated once and the bot's own writes are not bounced back.
    db.execute(
        "CREATE TABLE jira_links (id INTEGER PRIMARY KEY, account TEXT NOT NULL, pd_incident_id TEXT NOT NULL, "
        "incident_number INTEGER, title TEXT, html_url TEXT, service_name TEXT, issue_key TEXT UNIQUE, "
        "issue_id TEXT, state TEXT NOT NULL, pd_status TEXT, pd_priority TEXT, jira_priority TEXT, "
        "jira_status TEXT, jira_category TEXT, jira_updated TEXT, created_at REAL NOT NULL, "
        "create_attempted_at REAL, linked_at REAL, changes INTEGER NOT NULL DEFAULT 0, "
        "UNIQUE (account, pd_incident_id))"
    )
    db.execute(
        "CREATE TABLE jira_forwarded_notes (account TEXT NOT NULL, note_id TEXT NOT NULL, link_id INTEGER NOT NULL, "
        "at REAL NOT NULL, PRIMARY KEY (account, note_id))"
    )
    # Problems reported once (a transition missing from the workflow), never retried.
    db.execute(
        "CREATE TABLE jira_problems (kind TEXT NOT NULL, name TEXT NOT NULL, issue_key TEXT NOT NULL, "
        "first_seen_at REAL NOT NULL, PRIMARY KEY (kind, name, issue_key))"
    )


MIGRATIONS: list[Migration] = [
    Migration(40, "incidents: PagerDuty accounts, open incidents, log entries, sync writes", _poller),
    Migration(41, "statuspage: managed incidents, suppressions, service mappings", _statuspage),
    Migration(42, "jira_sync: links, forwarded notes, problems", _jira),
]
