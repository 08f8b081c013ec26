"""The echo guard: every write Switchboard makes to PagerDuty or Jira is recorded with its value and time.

A poller that sees a change asks whether the bot made it (the latest recorded write to that field has that value,
recently) before propagating it, so PagerDuty → Jira → PagerDuty loops cannot start. The rows double as an audit
trail and tell the Jira poller which issues to pass in `reconcileIssues` (search is eventually consistent).
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils

from bot.store import Store

ECHO_SECONDS = 3600.0  # a bot write older than this is no longer a reason to ignore a change
KEEP_SECONDS = 14 * 86400.0
SEEN_SUFFIX = ":seen"  # rows of changes made by others (system "jira:seen", "pagerduty:seen"), not bot writes


def record_write(db: sqlite_utils.Database, system: str, ref: str, field: str, value: str | None) -> None:
    db.conn.execute(
        "INSERT INTO incident_sync_writes (system, ref, field, value, at) VALUES (?, ?, ?, ?, ?)",
        [system, ref, field, value, time.time()],
    )


def record_seen(db: sqlite_utils.Database, system: str, ref: str, field: str, value: str | None) -> None:
    """Someone else changed this field: the bot's earlier writes to it are no longer a reason to ignore a change
    (a human setting it back to a value the bot once wrote is a real change)."""
    record_write(db, f"{system}{SEEN_SUFFIX}", ref, field, value)


def is_own_write(source: Store | sqlite_utils.Database, system: str, ref: str, field: str, value: str | None) -> bool:
    """True when the bot's latest write to this field was exactly this value, within ECHO_SECONDS, and nobody else
    was seen changing the field after it."""
    row = _query_one(
        source,
        "SELECT system, value, at FROM incident_sync_writes WHERE system IN (?, ?) AND ref = ? AND field = ? "
        "ORDER BY id DESC LIMIT 1",
        [system, f"{system}{SEEN_SUFFIX}", ref, field],
    )
    return row is not None and row[0] == system and row[1] == value and time.time() - row[2] < ECHO_SECONDS


def recently_written(store: Store, system: str, within: float, limit: int = 50) -> list[str]:
    rows = store.query(
        "SELECT ref FROM incident_sync_writes WHERE system = ? AND at > ? GROUP BY ref ORDER BY MAX(id) DESC LIMIT ?",
        [system, time.time() - within, limit],
    )
    return [r["ref"] for r in rows]


def prune_writes(db: sqlite_utils.Database) -> None:
    db.conn.execute("DELETE FROM incident_sync_writes WHERE at < ?", [time.time() - KEEP_SECONDS])


def _query_one(source: Store | sqlite_utils.Database, sql: str, params: list[Any]) -> Any:
    conn = source.db.conn if isinstance(source, Store) else source.conn
    return conn.execute(sql, params).fetchone()
