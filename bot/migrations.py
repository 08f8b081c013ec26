"""The foundation's schema steps, and the helper capabilities use to rename their stored identifiers.

Capabilities declare their own migrations in their spec; `bot/wiring.py` collects them all. Version ranges:
core 1-9, oncall 10-19, support 20-29, dispatch 30-39, the incident poller and its consumers 40-49
(incidents 40, 43 and 47; statuspage 41 and 44; jira_sync 42, 45 and 46).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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


def _shadow_effects(db: sqlite_utils.Database) -> None:
    # What shadow mode would have written, with the payload: `python app.py shadow report` reads it.
    db.execute(
        "CREATE TABLE shadow_effects (id INTEGER PRIMARY KEY, at REAL NOT NULL, capability TEXT NOT NULL, "
        "kind TEXT NOT NULL, what TEXT NOT NULL, payload TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX shadow_effects_by_time ON shadow_effects (at)")


def rename_identifiers(
    *,
    jobs: Mapping[str, str] = {},
    kinds: Mapping[str, str] = {},
    state: Mapping[str, str] = {},
    state_prefixes: Mapping[str, str] = {},
) -> Callable[[sqlite_utils.Database], None]:
    """A migration step renaming stored job names (job history), outbox kinds (pending effects keep running under
    the new handler) and state keys (cursors keep their values). Idempotency keys are left as they are, so an
    effect recorded before the rename still dedupes one recorded after it."""

    def apply(db: sqlite_utils.Database) -> None:
        conn = db.conn
        conn.executemany("UPDATE job_runs SET job = ? WHERE job = ?", [(new, old) for old, new in jobs.items()])
        conn.executemany("UPDATE outbox SET kind = ? WHERE kind = ?", [(new, old) for old, new in kinds.items()])
        conn.executemany("UPDATE state SET key = ? WHERE key = ?", [(new, old) for old, new in state.items()])
        for old, new in state_prefixes.items():
            conn.execute(
                "UPDATE state SET key = ? || substr(key, ?) WHERE substr(key, 1, ?) = ?",
                [new, len(old) + 1, len(old), old],
            )

    return apply


MIGRATIONS: list[Migration] = [
    Migration(1, "core: state, job_runs, slack_events", _core),
    Migration(2, "core: outbox, slack_user_cache", _outbox_and_identity),
    Migration(3, "core: outbox failures counted apart from attempts", _outbox_failures),
    Migration(
        4,
        "core: job names core.<name>",
        rename_identifiers(jobs={"housekeeping": "core.housekeeping", "outbox": "core.outbox"}),
    ),
    Migration(5, "core: shadow_effects", _shadow_effects),
]
