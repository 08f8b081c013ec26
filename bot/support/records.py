"""The support desk's rows: threads, forwards (Slack → Zendesk) and posts (→ Slack), each queued exactly once.

Every queue_* call joins the caller's write transaction: the row and its outbox effect commit together, and the
unique `source` makes a second delivery of the same fact a no-op.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlite_utils

from bot.outbox import Outbox
from bot.store import Store
from bot.support.identifiers import FORWARD, POST
from bot.support.message_parts import continuation_source, post_parts

OPEN_STATES = ("creating", "open")


def thread_by_slack(store: Store, channel: str, ts: str) -> dict[str, Any] | None:
    return store.query_one(
        "SELECT * FROM support_threads WHERE channel_id = ? AND thread_ts = ? AND state != 'forgotten'", [channel, ts]
    )


def thread_by_id(store: Store, thread_id: int) -> dict[str, Any] | None:
    return store.query_one("SELECT * FROM support_threads WHERE id = ?", [thread_id])


def threads_by_ticket(store: Store, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ticket_ids:
        return {}
    marks = ",".join("?" for _ in ticket_ids)
    rows = store.query(
        f"SELECT * FROM support_threads WHERE ticket_id IN ({marks}) AND state != 'forgotten'", list(ticket_ids)
    )
    return {row["ticket_id"]: row for row in rows}


def queue_post(
    db: sqlite_utils.Database,
    outbox: Outbox,
    *,
    source: str,
    channel: str,
    kind: str,
    text: str | None,
    thread_id: int | None = None,
) -> bool:
    """A message (or reaction) for Slack, once per source; True when new.

    Text longer than one message holds is queued as several posts (`message_parts.post_parts`), each with its own
    effect, in order: the first under `source`, the rest under `source#2`, `source#3`, … . A top-level post's later
    parts go to its thread (an emailed ticket's post) or, for the report, to the channel. They are queued only
    with a new first part, so a fact seen again adds no part even if its text has grown since."""
    parts = [text] if text is None or kind == "reaction" else post_parts(text)
    if not _insert_post(db, outbox, source=source, channel=channel, kind=kind, text=parts[0], thread_id=thread_id):
        return False
    later_kind = "report" if kind == "report" else "text"
    for number, part in enumerate(parts[1:], start=2):
        later = continuation_source(source, number)
        _insert_post(db, outbox, source=later, channel=channel, kind=later_kind, text=part, thread_id=thread_id)
    return True


def _insert_post(
    db: sqlite_utils.Database,
    outbox: Outbox,
    *,
    source: str,
    channel: str,
    kind: str,
    text: str | None,
    thread_id: int | None,
) -> bool:
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO support_posts (thread_id, channel_id, source, kind, text, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [thread_id, channel, source, kind, text, time.time()],
    )
    if cursor.rowcount != 1:
        return False
    outbox.enqueue(f"support:post:{cursor.lastrowid}", POST, {"post_id": cursor.lastrowid}, db=db)
    return True


def queue_forward(
    db: sqlite_utils.Database,
    outbox: Outbox,
    *,
    source: str,
    thread_id: int,
    kind: str,
    slack_ts: str,
    payload: dict[str, Any],
) -> bool:
    """A comment or status change for Zendesk, once per source; True when new."""
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO support_forwards (thread_id, source, kind, slack_ts, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [thread_id, source, kind, slack_ts, json.dumps(payload), time.time()],
    )
    if cursor.rowcount != 1:
        return False
    outbox.enqueue(f"support:forward:{cursor.lastrowid}", FORWARD, {"thread_id": thread_id}, db=db)
    return True


def record_first_response(db: sqlite_utils.Database, thread_id: int, at: float) -> None:
    """Someone other than the asker answered at `at` (a Slack reply's ts, a Zendesk comment's time): the
    earliest answer is kept, whatever order they are seen in."""
    db.conn.execute(
        "UPDATE support_threads SET first_response_at = ? WHERE id = ? "
        "AND (first_response_at IS NULL OR first_response_at > ?)",
        [at, thread_id, at],
    )


def pending_forwards(store: Store, thread_id: int) -> list[dict[str, Any]]:
    return store.query(
        "SELECT * FROM support_forwards WHERE thread_id = ? AND done_at IS NULL ORDER BY slack_ts, id", [thread_id]
    )


def pending_posts(store: Store, post: dict[str, Any]) -> list[dict[str, Any]]:
    """Unsent posts of the same thread (or, at top level, the same channel) up to this one, oldest first."""
    if post["thread_id"] is not None:
        return store.query(
            "SELECT * FROM support_posts WHERE thread_id = ? AND posted_at IS NULL AND id <= ? ORDER BY id",
            [post["thread_id"], post["id"]],
        )
    return store.query(
        "SELECT * FROM support_posts WHERE thread_id IS NULL AND channel_id = ? AND posted_at IS NULL AND id <= ? "
        "ORDER BY id",
        [post["channel_id"], post["id"]],
    )


def counts(store: Store) -> dict[str, int]:
    def scalar(sql: str) -> int:
        return int(store.scalar(sql) or 0)

    return {
        "open tickets": scalar(
            "SELECT COUNT(*) FROM support_threads WHERE state = 'open' AND closed_at IS NULL AND ticket_id IS NOT NULL"
        ),
        "tickets": scalar("SELECT COUNT(*) FROM support_threads WHERE ticket_id IS NOT NULL"),
        "waiting for Zendesk": scalar("SELECT COUNT(*) FROM support_threads WHERE state = 'creating'"),
        "replies sent to Zendesk": scalar("SELECT COUNT(*) FROM support_forwards WHERE done_at IS NOT NULL"),
        "Zendesk updates posted": scalar(
            # a long comment's later parts (`zd-comment:<id>#2`, …) are the same update
            "SELECT COUNT(*) FROM support_posts WHERE source LIKE 'zd-%' AND source NOT LIKE '%#%' "
            "AND slack_ts IS NOT NULL"
        ),
        "queued for Slack": scalar("SELECT COUNT(*) FROM support_posts WHERE posted_at IS NULL"),
        "queued for Zendesk": scalar("SELECT COUNT(*) FROM support_forwards WHERE done_at IS NULL"),
    }
