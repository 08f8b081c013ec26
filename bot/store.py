"""One SQLite file through sqlite-utils, safe under Bolt's worker threads and the scheduler thread.

Why it looks like this: a sqlite3 connection must not be shared between threads that
run their own transactions, so each thread gets its own connection; WAL lets readers run beside the one
writer; write transactions start with BEGIN IMMEDIATE so the busy timeout applies instead of failing with
SQLITE_BUSY halfway through.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Migration:
    """A forward-only schema step. Versions are unique and applied in order, each in its own transaction."""

    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


def _private_file(path: Path) -> None:
    """The database holds cursors, ticket links and people's Slack IDs: readable by this user only. SQLite
    creates the -wal and -shm files with the database file's permissions; existing ones are tightened too."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            file.chmod(0o600)


class Store:
    def __init__(self, path: Path | str, migrations: Sequence[Migration] = ()):
        self.path = str(path)
        if self.path != ":memory:":
            _private_file(Path(self.path))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._migrations = sorted(migrations, key=lambda m: m.version)
        self._closed = False
        self.db.conn.execute("PRAGMA journal_mode=WAL")  # a property of the file, set outside any transaction
        self.migrate()

    # --- connections -----------------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise RuntimeError("store is closed")
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            db = sqlite_utils.Database(conn)
            self._local.db = db
            with self._connections_lock:
                self._connections.append(conn)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A short write transaction (BEGIN IMMEDIATE … COMMIT); nested calls join the outer one."""
        db = self.db
        if db.conn.in_transaction:
            yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.conn.rollback()
            raise
        else:
            db.conn.commit()

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.db.conn.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
        row = self.db.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.db.conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the number of rows changed."""
        with self.write() as db:
            return db.conn.execute(sql, params).rowcount

    def insert_ignore(self, table: str, row: dict[str, Any]) -> bool:
        """INSERT OR IGNORE; True when the row is new. The building block of every dedupe."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.write() as db:
            cursor = db.conn.execute(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
            return cursor.rowcount == 1

    # --- key/value state: cursors and small facts ------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM state WHERE key = ?", [key])
        return default if value is None else value

    def set_state(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [key, value, time.time()],
        )

    # --- schema ----------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") or 0)

    def migrate(self) -> list[int]:
        """Apply every migration newer than the file's version. Returns the versions applied."""
        self.db.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at REAL NOT NULL)"
        )
        applied = []
        for migration in self._migrations:
            with self.write() as db:
                # Checked inside the write lock, so two processes starting at once apply each step once.
                if db.conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", [migration.version]).fetchone():
                    continue
                migration.apply(db)
                db.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [migration.version, migration.name, time.time()],
                )
            applied.append(migration.version)
            log.info("database migrated to version %d (%s)", migration.version, migration.name)
        return applied

    def backup(self, target: Path) -> int:
        """A consistent copy of the database while others keep writing (SQLite's online backup API), private to
        this user like the original; returns its size in bytes."""
        target = Path(target)
        partial = target.with_name(target.name + ".partial")
        _private_file(partial)
        destination = sqlite3.connect(partial)
        try:
            self.db.conn.backup(destination, pages=1024)  # in steps: writers wait at most one step
        finally:
            destination.close()
        partial.replace(target)  # never a half-written file under the name asked for
        return target.stat().st_size

    def close(self) -> None:
        """Close every thread's connection; the last close checkpoints the WAL into the main file."""
        self._closed = True
        with self._connections_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:  # a connection mid-use elsewhere; closing the rest still matters
                    log.exception("closing a database connection failed")
            self._connections.clear()
        self._local = threading.local()
