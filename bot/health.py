"""Liveness that another process can read: the running bot writes a heartbeat to SQLite; `app.py health`
(a container HEALTHCHECK, a monitoring probe) reads it and makes no vendor call.

Healthy means: a heartbeat newer than three of its intervals, a Socket Mode connection, and no scheduled job
overdue by more than two of its intervals (a job due at `last start + interval` that has not started by then).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.scheduler import JobStatus
from bot.store import Store

HEARTBEAT_JOB = "core.heartbeat"
HEARTBEAT_STATE = "core.heartbeat"
RECONNECTS_STATE = "core.socket.reconnects"
DAY = 86400.0


@dataclass(frozen=True)
class JobBeat:
    name: str
    interval: float | None
    running: bool
    last_started_at: float | None

    @classmethod
    def of(cls, job: JobStatus) -> JobBeat:
        return cls(job.name, job.interval, job.running, job.last_started_at)


@dataclass(frozen=True)
class Heartbeat:
    at: float
    pid: int
    started_at: float
    connected: bool
    interval: float
    jobs: list[JobBeat] = field(default_factory=list)


def write_heartbeat(store: Store, beat: Heartbeat) -> None:
    store.set_state(HEARTBEAT_STATE, json.dumps(asdict(beat)))


def read_heartbeat(store: Store) -> Heartbeat | None:
    raw = store.get_state(HEARTBEAT_STATE)
    return None if raw is None else _heartbeat(raw)


def _heartbeat(raw: str) -> Heartbeat:
    data: dict[str, Any] = json.loads(raw)
    jobs = [JobBeat(**job) for job in data.pop("jobs", [])]
    return Heartbeat(**data, jobs=jobs)


def read_heartbeat_file(path: Path) -> Heartbeat | None:
    """The heartbeat, read without writing anything (a probe must not create or migrate a database)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM state WHERE key = ?", [HEARTBEAT_STATE]).fetchone()
    except sqlite3.OperationalError:  # a database that never ran a bot has no state table yet
        return None
    finally:
        conn.close()
    return _heartbeat(row[0]) if row else None


def check(store: Store, now: float | None = None) -> tuple[bool, str]:
    """(healthy, one line saying why) from the running bot's store."""
    return judge(read_heartbeat(store), now)


def check_file(path: Path, now: float | None = None) -> tuple[bool, str]:
    """The same, from another process: the database read-only."""
    if not path.is_file():
        return False, f"no database at {path}: is the bot running with this DATABASE_PATH?"
    return judge(read_heartbeat_file(path), now)


def judge(beat: Heartbeat | None, now: float | None = None) -> tuple[bool, str]:
    now = time.time() if now is None else now
    if beat is None:
        return False, "no heartbeat in the database: is the bot running with this DATABASE_PATH?"
    silent = now - beat.at
    if silent > 3 * beat.interval:
        return False, f"no heartbeat for {silent:.0f}s (pid {beat.pid}): the bot is stopped or stuck"
    if not beat.connected:
        return False, "not connected to Slack (Socket Mode is reconnecting)"
    overdue = [
        (job.name, lateness)
        for job in beat.jobs
        if job.interval and not job.running
        # judged when the heartbeat was written: its job snapshot is as old as the heartbeat
        for lateness in [beat.at - ((job.last_started_at or beat.started_at) + job.interval)]
        if lateness > 2 * job.interval
    ]
    if overdue:
        name, lateness = max(overdue, key=lambda item: item[1])
        return False, f"job {name} is overdue by {lateness:.0f}s"
    return True, f"ok: connected, {len(beat.jobs)} jobs on time, heartbeat {silent:.0f}s ago"


def record_reconnect(store: Store, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with store.write() as db:
        row = db.conn.execute("SELECT value FROM state WHERE key = ?", [RECONNECTS_STATE]).fetchone()
        recent = [t for t in json.loads(row[0]) if t > now - DAY] if row else []
        db.conn.execute(
            "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            [RECONNECTS_STATE, json.dumps([*recent, now]), now],
        )


def reconnects_last_day(store: Store, now: float | None = None) -> int:
    now = time.time() if now is None else now
    raw = store.get_state(RECONNECTS_STATE)
    return sum(1 for t in json.loads(raw) if t > now - DAY) if raw else 0
