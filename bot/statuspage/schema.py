"""The status page's tables (versions 41 and 44; the poller it reads is in bot/incidents)."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(41, "statuspage: managed incidents, suppressions, service mappings", _statuspage),
    Migration(
        44,
        "statuspage: identifiers statuspage.<name>",
        rename_identifiers(
            jobs={"statuspage_reconcile": "statuspage.reconcile"},
            kinds={
                "statuspage_open": "statuspage.open",
                "statuspage_resolve": "statuspage.resolve",
                "statuspage_impact": "statuspage.impact",
                "statuspage_resolve_duplicate": "statuspage.resolve_duplicate",
            },
            state={
                "statuspage:last_audit_at": "statuspage.last_audit_at",
                "statuspage:last_reconcile_at": "statuspage.last_reconcile_at",
            },
        ),
    ),
)
