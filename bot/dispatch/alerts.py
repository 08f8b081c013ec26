"""Dispatch state in SQLite: one alert row per requestId, its recipients, its history, and the attempt journal.

`accept()` is the single door every intake (CLI, HTTP, Slack) goes through: it stores the alert and queues its
first step in the outbox in one transaction, so a message is either fully accepted or not at all, and the same
requestId sent twice is routed once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlite_utils

from bot.dispatch.message_spec import Message
from bot.dispatch.rules import AWAITING, CLOSED, CLOSING, ESCALATED, ESCALATING, FAILED, RECEIVED, SKIPPED, first_step
from bot.outbox import Outbox
from bot.store import Store


@dataclass(frozen=True)
class Accepted:
    alert_id: int
    request_id: str
    new: bool  # False: this requestId was already received; nothing was routed again


@dataclass(frozen=True)
class Attempt:
    started_at: float
    detail: str | None


def accept(
    store: Store,
    outbox: Outbox,
    message: Message,
    source: str,
    default_channel: str | None = None,
    now: float | None = None,
) -> Accepted:
    """Store the alert and queue its first step, atomically; a known requestId changes nothing."""
    now = time.time() if now is None else now
    with store.write() as db:
        cursor = db.conn.execute(
            "INSERT OR IGNORE INTO dispatch_alerts (request_id, type, requested_type, source, message, title, repo, "
            "pd_service, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                message.request_id,
                message.type,
                message.requested_type,
                source,
                message.to_json(),
                message.title,
                message.repo,
                message.pagerduty_service,
                RECEIVED,
                now,
                now,
            ],
        )
        if cursor.rowcount == 0:
            row = db.conn.execute(
                "SELECT id FROM dispatch_alerts WHERE request_id = ?", [message.request_id]
            ).fetchone()
            return Accepted(int(row[0]), message.request_id, new=False)
        alert_id = int(cursor.lastrowid or 0)
        for position, recipient in enumerate(message.recipients):
            db.conn.execute(
                "INSERT INTO dispatch_recipients (alert_id, position, slack_id, slack_handle, github, destination, "
                "state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                [
                    alert_id,
                    position,
                    recipient.slack_id,
                    recipient.slack,
                    recipient.github,
                    recipient.slack_id or default_channel or "",  # a defaulted user's alert goes to the channel
                ],
            )
        record(db, alert_id, f"received from {source}", now=now)
        for warning in message.warnings:
            record(db, alert_id, f"warning: {warning}", now=now)
        first, extra = first_step(message.type)
        outbox.enqueue(f"dispatch:{alert_id}:{first}", first, {"alert": alert_id, **extra}, db=db)
    return Accepted(alert_id, message.request_id, new=True)


def reject(store: Store, source: str, payload: str | bytes, errors: list[str], now: float | None = None) -> None:
    """Keep an unroutable message (dead letter) with every problem found."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    store.execute(
        "INSERT INTO dispatch_rejects (received_at, source, payload, errors) VALUES (?, ?, ?, ?)",
        [time.time() if now is None else now, source, text[:65536], json.dumps(errors)],
    )


def record(
    db: sqlite_utils.Database, alert_id: int, event: str, actor: str | None = None, now: float | None = None
) -> None:
    """One line of an alert's history (inside the caller's transaction)."""
    db.conn.execute(
        "INSERT INTO dispatch_history (alert_id, at, event, actor) VALUES (?, ?, ?, ?)",
        [alert_id, time.time() if now is None else now, event, actor],
    )


def set_alert(db: sqlite_utils.Database, alert_id: int, **fields: Any) -> None:
    fields["updated_at"] = time.time()
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.conn.execute(f"UPDATE dispatch_alerts SET {assignments} WHERE id = ?", [*fields.values(), alert_id])


def set_recipient(db: sqlite_utils.Database, recipient_id: int, **fields: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    db.conn.execute(f"UPDATE dispatch_recipients SET {assignments} WHERE id = ?", [*fields.values(), recipient_id])


@lru_cache(maxsize=8)  # a few alerts are routed at once; a message can be large
def _parsed(text: str) -> Message:
    """A stored message, parsed once: each of a broadcast's deliveries reads the same (immutable) message, which
    lists every recipient, so parsing it per delivery would cost time growing with the square of their number."""
    return Message.from_json(text)


class AlertStore:
    """Reads of dispatch state, and the attempt journal."""

    def __init__(self, store: Store):
        self.store = store

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        return self.store.query_one("SELECT * FROM dispatch_alerts WHERE id = ?", [alert_id])

    def by_request_id(self, request_id: str) -> dict[str, Any] | None:
        return self.store.query_one("SELECT * FROM dispatch_alerts WHERE request_id = ?", [request_id])

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM dispatch_alerts ORDER BY id DESC LIMIT ?", [limit])

    def recent_involving(self, user_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The latest alerts this Slack user sent from Slack or was sent."""
        return self.store.query(
            "SELECT * FROM dispatch_alerts WHERE source = ? OR id IN "
            "(SELECT alert_id FROM dispatch_recipients WHERE slack_id = ?) ORDER BY id DESC LIMIT ?",
            [f"slack:{user_id}", user_id, limit],
        )

    def message(self, alert: dict[str, Any]) -> Message:
        return _parsed(alert["message"])

    def recipients(self, alert_id: int) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM dispatch_recipients WHERE alert_id = ? ORDER BY position", [alert_id])

    def recipient(self, recipient_id: int) -> dict[str, Any] | None:
        return self.store.query_one("SELECT * FROM dispatch_recipients WHERE id = ?", [recipient_id])

    def prompted_recipient(self, alert_id: int) -> dict[str, Any] | None:
        """The self-service user, once their conversation is known (where errors about their answer go)."""
        rows = self.recipients(alert_id)
        return rows[0] if rows and rows[0]["channel"] else None

    def history(self, alert_id: int) -> list[dict[str, Any]]:
        return self.store.query("SELECT * FROM dispatch_history WHERE alert_id = ? ORDER BY id", [alert_id])

    # --- attempt journal for non-idempotent writes ----------------------------------------------------
    def begin_attempt(self, key: str, detail: str | None = None) -> Attempt | None:
        """Record that a write is about to be tried; returns the earlier attempt if one did not finish."""
        with self.store.write() as db:
            row = db.conn.execute("SELECT started_at, detail FROM dispatch_attempts WHERE key = ?", [key]).fetchone()
            if row is not None:
                return Attempt(float(row[0]), row[1])
            db.conn.execute(
                "INSERT INTO dispatch_attempts (key, started_at, detail) VALUES (?, ?, ?)", [key, time.time(), detail]
            )
        return None

    def earlier_attempt(self, key: str) -> Attempt | None:
        row = self.store.query_one("SELECT started_at, detail FROM dispatch_attempts WHERE key = ?", [key])
        return Attempt(float(row["started_at"]), row["detail"]) if row else None

    def clear_attempt(self, key: str, db: sqlite_utils.Database | None = None) -> None:
        if db is not None:
            db.conn.execute("DELETE FROM dispatch_attempts WHERE key = ?", [key])
        else:
            self.store.execute("DELETE FROM dispatch_attempts WHERE key = ?", [key])

    def counts(self) -> dict[str, int]:
        states = {
            r["state"]: r["n"]
            for r in self.store.query("SELECT state, COUNT(*) AS n FROM dispatch_alerts GROUP BY state")
        }
        return {
            "alerts": sum(states.values()),
            "awaiting answer": states.get(AWAITING, 0),
            "escalated": states.get(ESCALATED, 0) + states.get(ESCALATING, 0),
            "closed": states.get(CLOSED, 0) + states.get(CLOSING, 0),
            "skipped (issue exists)": states.get(SKIPPED, 0),
            "failed": states.get(FAILED, 0),
            "rejected messages": int(self.store.scalar("SELECT COUNT(*) FROM dispatch_rejects") or 0),
        }
