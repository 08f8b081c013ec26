"""The one PagerDuty poller that feeds both the status page and the Jira sync.

Every INCIDENT_POLL_SECONDS, for every account (concurrently, so a slow account delays nobody): all open incidents
and, when a consumer needs them, the log entries since the account's persisted cursor (minus an overlap). Each
account's window is then handled in ONE write transaction: its open-incident snapshot is replaced, every consumer
records its decisions (outbox effects, link rows), the entries are marked handled and the cursor advances. A
failure anywhere rolls all of that back, so the window is read again next time; other accounts are unaffected.
Both capabilities share one instance per runtime (`shared_poller`), created by whichever starts first, and both
list its job (`job`, `incidents.poll`) and its outbox handlers (`effects()`, `incidents.slack_post`): the same
objects, which the wiring registers once.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import sqlite_utils

from bot.capability import Foundation, Job
from bot.clients.slack import WebClient
from bot.incidents import config
from bot.incidents.config import PollerConfig
from bot.incidents.history import digest_lines, record_window
from bot.incidents.model import PdIncident, Window
from bot.incidents.notify import SLACK_POST, slack_poster
from bot.incidents.pagerduty_api import PagerDutyAccount
from bot.incidents.writes import prune_writes
from bot.outbox import OUTBOX_JOB, Handler, Outbox
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.store import Store
from bot.text import quoted

log = logging.getLogger(__name__)

JOB = "incidents.poll"
OVERLAP_SECONDS = 120.0  # log entries can become visible a little after their created_at
KEEP_SEEN_SECONDS = 2 * 86400.0


class IncidentConsumer(Protocol):
    """What the status page and the Jira sync implement to be fed by the poller."""

    needs_log_entries: bool

    def fetch_extra(self, account: PagerDutyAccount, window: Window) -> None:
        """Extra vendor reads for this window, before the transaction (may raise: the window is retried)."""

    def handle_window(self, db: sqlite_utils.Database, window: Window) -> None:
        """Decide and record (rows, outbox effects) inside the poll transaction; no vendor calls here."""

    def after_poll(self) -> None:
        """Once per poll, after every account: e.g. reconcile against the union of all accounts."""


class IncidentPoller:
    def __init__(self, settings: Settings, store: Store, scheduler: Scheduler, outbox: Outbox, slack: WebClient):
        self.config: PollerConfig = config.load(settings)
        self.store = store
        self.scheduler = scheduler
        self.outbox = outbox
        self.accounts = {a.name: PagerDutyAccount(a, settings) for a in self.config.accounts}
        self.consumers: list[IncidentConsumer] = []
        self.last_poll_at: float | None = None
        self._incident_reporter: object | None = None  # see claim_incident_digest
        self._job = Job(JOB, self.config.poll_seconds, self.poll)
        self._effects: dict[str, Handler] = {SLACK_POST: slack_poster(slack)}

    def add_consumer(self, consumer: IncidentConsumer) -> None:
        if consumer not in self.consumers:
            self.consumers.append(consumer)

    @property
    def job(self) -> Job:
        """Both consumers list this same job; the wiring registers it once."""
        return self._job

    def effects(self) -> Mapping[str, Handler]:
        """The poller's outbox kinds (the Slack announcements): both consumers list these same handlers."""
        return dict(self._effects)

    def account(self, name: str) -> PagerDutyAccount:
        return self.accounts[name]

    # --- the poll --------------------------------------------------------------------------------
    def poll(self) -> None:
        self._forget_removed_accounts()
        names = list(self.accounts)
        wants_log = any(c.needs_log_entries for c in self.consumers)
        cursors = {name: self._cursor(name) for name in names} if wants_log else {}
        failures: list[str] = []
        # Only the PagerDuty reads run on the pool; SQLite stays on this job's thread (a connection per thread).
        with ThreadPoolExecutor(max_workers=min(len(names), 4), thread_name_prefix="pd-poll") as pool:
            reads = {name: pool.submit(self._read, self.accounts[name], cursors.get(name)) for name in names}
            for name in names:
                try:
                    window = reads[name].result()
                    self._drop_handled(window)
                    for consumer in self.consumers:
                        consumer.fetch_extra(self.accounts[name], window)
                    self._handle(window)
                except Exception as error:  # one account failing degrades only itself
                    failures.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
                    self._record_failure(name, error)
        self.last_poll_at = time.time()
        for consumer in self.consumers:
            try:
                consumer.after_poll()
            except Exception as error:
                log.exception("incident sync step after the poll failed")
                failures.append(f"{type(consumer).__name__}: {type(error).__name__}: {str(error)[:200]}")
        self.kick_outbox()
        if failures:
            raise RuntimeError("; ".join(failures))  # recorded in job_runs, shown on the Home tab

    def kick_outbox(self) -> None:
        """Perform just-queued effects now rather than at the outbox's next tick; only when there are some (an idle
        poll must not start jobs, least of all while the bot is shutting down)."""
        due = self.store.scalar(
            "SELECT 1 FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? LIMIT 1", [time.time()]
        )
        if due:
            self.scheduler.run_now(OUTBOX_JOB)

    @staticmethod
    def _read(account: PagerDutyAccount, cursor: float | None) -> Window:
        """PagerDuty reads only (runs on the pool): the open list, then the log since the cursor if wanted."""
        open_incidents = account.open_incidents()
        window = Window(account.name, open_incidents, [], {i.id: i for i in open_incidents})
        if cursor is not None:
            entries, embedded = account.log_entries(cursor - OVERLAP_SECONDS)
            window.incidents.update(embedded)  # read after the open list: fresher
            window.entries = entries
            window.fetched_entries = len(entries)
            window.cursor_after = max([cursor, *(e.created_at for e in entries)])
        return window

    def _drop_handled(self, window: Window) -> None:
        """Overlapping windows: an entry handled by an earlier poll is not handled again."""
        seen = self._seen(window.account, [e.id for e in window.entries])
        window.entries = [e for e in window.entries if e.id not in seen]

    def _handle(self, window: Window) -> None:
        now = time.time()
        with self.store.write() as db:
            conn = db.conn
            conn.execute("DELETE FROM pd_open_incidents WHERE account = ?", [window.account])
            rows = [i.row() for i in window.open_incidents]
            if rows:
                columns = list(rows[0])
                conn.executemany(
                    f"INSERT OR REPLACE INTO pd_open_incidents ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [[r[c] for c in columns] for r in rows],
                )
            record_window(db, window, now)
            for consumer in self.consumers:
                consumer.handle_window(db, window)
            conn.executemany(
                "INSERT OR IGNORE INTO pd_log_entries (account, entry_id, seen_at) VALUES (?, ?, ?)",
                [(window.account, e.id, now) for e in window.entries],
            )
            conn.execute("DELETE FROM pd_log_entries WHERE seen_at < ?", [now - KEEP_SEEN_SECONDS])
            prune_writes(db)
            conn.execute(
                "INSERT INTO pd_accounts (name, log_cursor, last_poll_at, last_ok_at, open_incidents) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "log_cursor = COALESCE(excluded.log_cursor, pd_accounts.log_cursor), "
                "last_poll_at = excluded.last_poll_at, last_ok_at = excluded.last_ok_at, "
                "open_incidents = excluded.open_incidents, last_error = NULL",
                [window.account, window.cursor_after, now, now, len(window.open_incidents)],
            )

    def _record_failure(self, name: str, error: BaseException) -> None:
        log.warning("PagerDuty account %s could not be polled: %s: %s", name, type(error).__name__, quoted(error))
        now = time.time()
        self.store.execute(
            "INSERT INTO pd_accounts (name, last_poll_at, last_error, last_error_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET last_poll_at = excluded.last_poll_at, "
            "last_error = excluded.last_error, last_error_at = excluded.last_error_at",
            [name, now, f"{type(error).__name__}: {str(error)[:300]}", now],
        )

    def _cursor(self, name: str) -> float:
        cursor = self.store.scalar("SELECT log_cursor FROM pd_accounts WHERE name = ?", [name])
        return float(cursor) if cursor is not None else time.time() - self.config.lookback_hours * 3600

    def _seen(self, account: str, ids: list[str]) -> set[str]:
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.store.query(
                f"SELECT entry_id FROM pd_log_entries WHERE account = ? AND entry_id IN ({marks})", [account, *chunk]
            )
            seen.update(r["entry_id"] for r in rows)
        return seen

    def _forget_removed_accounts(self) -> None:
        names = list(self.accounts)
        marks = ", ".join("?" for _ in names)
        self.store.execute(f"DELETE FROM pd_open_incidents WHERE account NOT IN ({marks})", names)

    # --- what consumers and commands read --------------------------------------------------------
    def open_incidents(self) -> list[PdIncident]:
        """Every account's last complete list of open incidents (a failing account keeps its last one)."""
        rows = self.store.query("SELECT * FROM pd_open_incidents ORDER BY account, number")
        return [PdIncident.from_row(r) for r in rows]

    def claim_incident_digest(self, owner: object) -> None:
        """Offer to put "incidents opened and resolved" in the digest. The first to offer (the status page when it
        runs, as it is built first, else the Jira sync) gets it, so the figure appears once whoever else reads
        the poller."""
        if self._incident_reporter is None:
            self._incident_reporter = owner

    def reports_incidents(self, owner: object) -> bool:
        return self._incident_reporter is owner

    def incident_digest(self, since: float, until: float) -> list[str]:
        """PagerDuty incidents opened and resolved in [since, until), over every account."""
        return digest_lines(self.store, since, until)

    def health(self) -> list[dict[str, Any]]:
        rows = {r["name"]: r for r in self.store.query("SELECT * FROM pd_accounts")}
        return [{"name": name, **rows.get(name, {"name": name})} for name in self.accounts]

    def failing_accounts(self) -> set[str]:
        """Accounts whose last poll failed, or that never completed one: their state is not trusted for closing."""
        failing = set()
        for row in self.health():
            if row.get("last_ok_at") is None or (row.get("last_error_at") or 0) > (row.get("last_ok_at") or 0):
                failing.add(row["name"])
        return failing

    def health_counts(self) -> dict[str, int]:
        failing = self.failing_accounts()
        return {
            "PagerDuty accounts polled": len(self.accounts) - len(failing),
            "PagerDuty accounts failing": len(failing),
        }


_POLLERS: dict[int, tuple[weakref.ref[Any], IncidentPoller]] = {}
_POLLERS_LOCK = threading.Lock()


def shared_poller(runtime: Foundation) -> IncidentPoller:
    """The runtime's one poller, created on first use. Kept beside (not inside) the runtime; it goes with it."""
    key = id(runtime)
    with _POLLERS_LOCK:
        entry = _POLLERS.get(key)
        if entry is not None and entry[0]() is runtime:
            return entry[1]

        def forget(ref: weakref.ref[Any], key: int = key) -> None:
            with _POLLERS_LOCK:
                if key in _POLLERS and _POLLERS[key][0] is ref:
                    del _POLLERS[key]

        poller = IncidentPoller(runtime.settings, runtime.store, runtime.scheduler, runtime.outbox, runtime.slack)
        _POLLERS[key] = (weakref.ref(runtime, forget), poller)
        return poller
