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


def _incidents_and_responses(db: sqlite_utils.Database) -> None:
    # Who asked (the Slack user or bot of the first message; NULL for an emailed ticket), the ticket's Zendesk
    # requester, and when someone else first answered (the digest's first response; open work's unanswered).
    db.execute("ALTER TABLE support_threads ADD COLUMN asker_id TEXT")
    db.execute("ALTER TABLE support_threads ADD COLUMN requester_id INTEGER")
    db.execute("ALTER TABLE support_threads ADD COLUMN first_response_at REAL")
    # Threads from before this version: their asker is unknown, so their first reply or agent comment counts.
    first_reply = (
        "(SELECT MIN(CAST(f.slack_ts AS REAL)) FROM support_forwards f WHERE f.thread_id = support_threads.id "
        "AND (f.source LIKE 'reply:%' OR f.source LIKE 'solve:%'))"
    )
    first_comment = (
        "(SELECT MIN(p.created_at) FROM support_posts p WHERE p.thread_id = support_threads.id "
        "AND p.source LIKE 'zd-comment:%')"
    )
    db.execute(  # the earlier of the two (multi-argument MIN is NULL when either is: COALESCE both ways)
        f"UPDATE support_threads SET first_response_at = MIN(COALESCE({first_reply}, {first_comment}), "
        f"COALESCE({first_comment}, {first_reply}))"
    )
    db.execute("CREATE INDEX support_threads_by_opened_at ON support_threads (opened_at)")
    db.execute("CREATE INDEX support_threads_by_closed_at ON support_threads (closed_at)")
    # Support channels mapped to PagerDuty services by `/support map` (SUPPORT_SERVICE_MAP adds to these).
    db.execute(
        "CREATE TABLE support_service_map (channel_id TEXT NOT NULL, service_id TEXT NOT NULL, "
        "added_by TEXT, added_at REAL NOT NULL, PRIMARY KEY (channel_id, service_id))"
    )
    # A support thread opened while a PagerDuty incident was open on its channel's service: once per pair.
    # resolved_at is set when the incident leaves the poller's open snapshot.
    db.execute(
        "CREATE TABLE support_incident_links (thread_id INTEGER NOT NULL REFERENCES support_threads(id), "
        "account TEXT NOT NULL, incident_id TEXT NOT NULL, number INTEGER, title TEXT, status TEXT, "
        "service_id TEXT, service_name TEXT, html_url TEXT, linked_at REAL NOT NULL, resolved_at REAL, "
        "PRIMARY KEY (thread_id, account, incident_id))"
    )
    db.execute("CREATE INDEX support_incident_links_open ON support_incident_links (account, resolved_at)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(20, "support: threads, forwards, posts, seen ticket events", _support_desk),
    Migration(
        21,
        "support: identifiers support.<name>",
        rename_identifiers(jobs={"support-poll": "support.poll", "support-report": "support.report"}),
    ),
    Migration(22, "support: incident links, service map, askers and first responses", _incidents_and_responses),
)
