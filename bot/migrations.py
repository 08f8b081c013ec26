"""Every schema step, in order. A capability adds its tables by appending a Migration with the next version."""

from __future__ import annotations

import sqlite_utils

from bot.dispatch.schema import MIGRATIONS as DISPATCH
from bot.incidents.schema import MIGRATIONS as INCIDENTS
from bot.oncall.schema import MIGRATIONS as ONCALL
from bot.store import Migration
from bot.support.schema import MIGRATIONS as SUPPORT


def _core(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL)")
    db.execute(
        "CREATE TABLE job_runs (id INTEGER PRIMARY KEY, job TEXT NOT NULL, started_at REAL NOT NULL, "
        "finished_at REAL, ok INTEGER, error TEXT)"
    )
    db.execute("CREATE INDEX job_runs_by_job ON job_runs (job, id)")
    # Slack redelivers events (retry_attempt 1-3); the first delivery of an event_id wins.
    db.execute("CREATE TABLE slack_events (event_id TEXT PRIMARY KEY, received_at REAL NOT NULL)")


def _outbox_and_identity(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, "
        "payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at REAL NOT NULL, "
        "last_error TEXT, result TEXT, created_at REAL NOT NULL, done_at REAL)"
    )
    db.execute("CREATE INDEX outbox_due ON outbox (state, next_attempt_at)")
    db.execute("CREATE TABLE slack_user_cache (email TEXT PRIMARY KEY, user_id TEXT, expires_at REAL NOT NULL)")


def _outbox_failures(db: sqlite_utils.Database) -> None:
    # attempts counts every try; failures only errors, so a handler's "not now" never exhausts an effect.
    db.execute("ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")
    db.execute("UPDATE outbox SET failures = attempts")


CORE: list[Migration] = [
    Migration(1, "core: state, job_runs, slack_events", _core),
    Migration(2, "core: outbox, slack_user_cache", _outbox_and_identity),
    Migration(3, "core: outbox failures counted apart from attempts", _outbox_failures),
]

# Version ranges: core 1-9, oncall 10-19, support 20-29, dispatch 30-39, incidents (statuspage, jira) 40-49.
MIGRATIONS: list[Migration] = sorted(
    CORE + ONCALL + SUPPORT + DISPATCH + INCIDENTS, key=lambda migration: migration.version
)
