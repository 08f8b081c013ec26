"""Every schema step, in order. A capability adds its tables by appending a Migration with the next version."""

from __future__ import annotations

import sqlite_utils

from bot.store import Migration


def _core(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL)")
    db.execute(
        "CREATE TABLE job_runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL, started_at REAL NOT NULL, "
        "finished_at REAL, ok INTEGER, error TEXT)"
    )
    db.execute("CREATE INDEX job_runs_by_job ON job_runs (job, id)")
    # Slack redelivers events (retry_attempt 1-3); the first delivery of an event_id wins.
    db.execute("CREATE TABLE slack_events (event_id TEXT PRIMARY KEY, received_at REAL NOT NULL)")


MIGRATIONS: list[Migration] = [
    Migration(1, "core: state, job_runs, slack_events", _core),
]
