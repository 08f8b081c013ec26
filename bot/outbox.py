"""Durable side effects: every externally visible write goes through here.

A capability records *what must happen* (an outbox row with a unique idempotency key) in the same
transaction as the state change that caused it; the `outbox` job performs it afterwards and marks it done
only on success. So a redelivered event cannot enqueue the same effect twice (the key is unique), a vendor
429/5xx only delays it (Retry-After or exponential backoff, from durable state), and a crash or restart
resumes whatever was pending. A handler may run again after a crash mid-call, so handlers use the vendor's
own idempotency (dedup keys, Idempotency-Key, search-before-create) where the vendor has one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlite_utils

from bot.logs import bind
from bot.shadow import Shadow
from bot.store import Store

log = logging.getLogger(__name__)

OUTBOX_JOB = "core.outbox"  # the scheduler job that performs due effects

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]


class RetryLater(Exception):
    """Raised by a handler: not now (rate limited, vendor down); try again after `seconds` (None = backoff)."""

    def __init__(self, reason: str, seconds: float | None = None):
        super().__init__(reason)
        self.seconds = seconds


class GiveUp(Exception):
    """Raised by a handler: this can never succeed (bad input, permission refused); mark the row failed."""


@dataclass(frozen=True)
class Effect:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    failures: int
    last_error: str | None
    result: dict[str, Any] | None


def vendor_retry_after(error: BaseException) -> float | None:
    """Seconds a vendor asked us to wait (429/420/503 with Retry-After), if the error carries a response."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    status = getattr(response, "status_code", None) or getattr(error, "status", None)
    if status not in (420, 429, 503) and not headers.get("Retry-After"):
        return None
    for name in ("Retry-After", "retry-after", "ratelimit-reset"):
        value = headers.get(name) if hasattr(headers, "get") else None
        if value:
            try:
                return float(value)
            except ValueError:
                continue
    return 1.0 if status in (420, 429) else None


class Outbox:
    def __init__(self, store: Store, *, backoff_base: float = 2.0, backoff_max: float = 600.0, max_attempts: int = 50):
        self.store = store
        self.handlers: dict[str, Handler] = {}
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_attempts = max_attempts
        self.on_enqueue: Callable[[], None] = lambda: None  # the runtime wires this to "run the outbox job now"
        self.on_failed: Callable[[Effect, str], None] = lambda effect, error: None  # wired to the failure alerts
        self.shadow: Shadow | None = None  # shadow mode: effects of shadowed capabilities are recorded, not performed

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def enqueue(
        self, key: str, kind: str, payload: dict[str, Any], db: sqlite_utils.Database | None = None, delay: float = 0.0
    ) -> bool:
        """Record an effect once per key; True when new. Pass `db` to join the caller's write transaction."""
        now = time.time()
        sql = (
            "INSERT OR IGNORE INTO outbox (key, kind, payload, state, attempts, next_attempt_at, created_at) "
            "VALUES (?, ?, ?, 'pending', 0, ?, ?)"
        )
        params = [key, kind, json.dumps(payload), now + delay, now]
        if db is not None:
            new = db.conn.execute(sql, params).rowcount == 1
        else:
            with self.store.write() as own:
                new = own.conn.execute(sql, params).rowcount == 1
        if new and db is None:
            self.on_enqueue()
        return new

    def get(self, key: str) -> Effect | None:
        row = self.store.query_one("SELECT * FROM outbox WHERE key = ?", [key])
        return _effect(row) if row else None

    def wake(self) -> None:
        """Ask for a run soon: for effects enqueued inside a caller's transaction, once it has committed."""
        self.on_enqueue()

    def run_due(self, now: float | None = None, limit: int = 200, budget_seconds: float = 30.0) -> int:
        """Perform every due effect, oldest first, including follow-ups the handlers enqueue on the way.

        Called by the `outbox` job (never concurrently). A pass is bounded in time so shutdown is never held up.
        """
        fixed_now = now
        deadline = time.monotonic() + budget_seconds
        done = 0
        tried: set[int] = set()
        while time.monotonic() < deadline:
            rows = self.store.query(
                "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                [time.time() if fixed_now is None else fixed_now, limit],
            )
            fresh = [row for row in rows if row["id"] not in tried]  # one attempt per effect per pass
            if not fresh:
                return done
            for row in fresh:
                tried.add(row["id"])
                done += self._perform(_effect(row))
        return done

    def _perform(self, effect: Effect) -> int:
        if self.shadow is not None and self.shadow.covers(effect.kind):
            with self.store.write() as db:
                self.shadow.record(effect.kind, effect.payload, db=db)
                db.conn.execute(
                    "UPDATE outbox SET state = 'shadowed', attempts = attempts + 1, done_at = ? WHERE id = ?",
                    [time.time(), effect.id],
                )
            return 0
        handler = self.handlers.get(effect.kind)
        if handler is None:
            log.error("no handler for outbox effect %s (%s)", effect.key, effect.kind)
            return 0
        try:
            with bind(capability=effect.kind.split(".", 1)[0], request_id=effect.key):
                result = handler(effect.payload)
        except RetryLater as later:
            self._retry(effect, str(later), later.seconds, failed=False)
            return 0
        except GiveUp as error:
            log.error("outbox effect %s failed for good: %s", effect.key, error)
            self._finish(effect, "failed", str(error), None)
            return 0
        except Exception as error:  # a vendor hiccup: back off and keep the work
            log.warning("outbox effect %s failed (attempt %d): %s", effect.key, effect.attempts + 1, error)
            self._retry(effect, f"{type(error).__name__}: {error}", vendor_retry_after(error), failed=True)
            return 0
        self._finish(effect, "done", None, result)
        return 1

    def _retry(self, effect: Effect, error: str, seconds: float | None, *, failed: bool) -> None:
        """Try again later. Only failures count toward `max_attempts`: a handler's "not now" (RetryLater, e.g. a
        pacing budget or a vendor's Retry-After it read itself) may be said any number of times."""
        failures = effect.failures + (1 if failed else 0)
        if failed and failures >= self.max_attempts:
            self.store.execute("UPDATE outbox SET failures = ? WHERE id = ?", [failures, effect.id])
            self._finish(effect, "failed", error, None)
            return
        backoff = min(self.backoff_base * 2 ** max(failures - 1, 0), self.backoff_max)
        wait = seconds if seconds is not None else backoff
        self.store.execute(
            "UPDATE outbox SET attempts = attempts + 1, failures = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
            [failures, error[:500], time.time() + wait, effect.id],
        )

    def _finish(self, effect: Effect, state: str, error: str | None, result: dict[str, Any] | None) -> None:
        self.store.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, result = ?, done_at = ? "
            "WHERE id = ?",
            [state, error, json.dumps(result) if result is not None else None, time.time(), effect.id],
        )
        if state == "failed":
            try:
                self.on_failed(replace(effect, attempts=effect.attempts + 1), error or "")
            except Exception:  # telling people must never stop the outbox
                log.exception("could not queue the alert about failed effect %s", effect.key)

    def counts(self) -> dict[str, int]:
        rows = self.store.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        counts = {"pending": 0, "done": 0, "failed": 0}  # and "shadowed" in shadow mode
        counts.update({r["state"]: r["n"] for r in rows})
        return counts


def _effect(row: dict[str, Any]) -> Effect:
    return Effect(
        id=row["id"],
        key=row["key"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        failures=row["failures"],
        last_error=row["last_error"],
        result=json.loads(row["result"]) if row["result"] else None,
    )
