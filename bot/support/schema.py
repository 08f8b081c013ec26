"""This capability's tables (its slice of the migration versions: see bot/migrations.py)."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


def _support_desk(db: sqlite_utils.Database) -> None:
    # A support thread and its ticket. (channel_id, thread_ts) is unique, so a message delivered twice or by two
    # envelopes at once makes one row; thread_ts is NULL only while an email ticket's Slack post is on its way.
    db.execute(
        "CREATE TABLE support_threads (id INTEGER PRIMARY KEY, channel_id TEXT NOT NULL, thread_ts TEXT, "
        "origin TEXT NOT NULL, state TEXT NOT NULL, ticket_id INTEGER UNIQUE, ticket_status TEXT, subject TEXT, "
        "previous_ticket_ids TEXT, opened_at REAL NOT NULL, closed_at REAL, create_attempted_at REAL, error TEXT, "
        "UNIQUE (channel_id, thread_ts))"
    )
    db.execute("CREATE INDEX support_threads_by_state ON support_threads (state, closed_at)")
    # Slack -> Zendesk: each reply, edit or command once (source is unique), sent in Slack's order (slack_ts:
    # the message's ts, or the edit's) per thread.
    db.execute(
        "CREATE TABLE support_forwards (id INTEGER PRIMARY KEY, "
        "thread_id INTEGER NOT NULL REFERENCES support_threads(id), source TEXT NOT NULL UNIQUE, "
        "kind TEXT NOT NULL, slack_ts TEXT NOT NULL, payload TEXT NOT NULL, created_at REAL NOT NULL, "
        "done_at REAL, outcome TEXT)"
    )
    db.execute("CREATE INDEX support_forwards_pending ON support_forwards (thread_id, done_at, id)")
    # -> Slack: each post once (source is unique: a Zendesk comment id, a status event id, …), in order per thread.
    db.execute(
        "CREATE TABLE support_posts (id INTEGER PRIMARY KEY, thread_id INTEGER REFERENCES support_threads(id), "
        "channel_id TEXT NOT NULL, source TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, text TEXT, "
        "created_at REAL NOT NULL, posted_at REAL, slack_ts TEXT, error TEXT)"
    )
    db.execute("CREATE INDEX support_posts_pending ON support_posts (thread_id, posted_at, id)")
    # The ticket-event export is time based and may repeat events: each (id, timestamp) is handled once.
    db.execute(
        "CREATE TABLE support_seen_events (event_id INTEGER NOT NULL, timestamp INTEGER NOT NULL, "
        "PRIMARY KEY (event_id, timestamp))"
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(20, "support: threads, forwards, posts, seen ticket events", _support_desk),
    Migration(
        21,
        "support: identifiers support.<name>",
        rename_identifiers(jobs={"support-poll": "support.poll", "support-report": "support.report"}),
    ),
)
