"""Shadow mode: run beside the tools Switchboard replaces, read everything, decide everything, write nothing.

With SWITCHBOARD_SHADOW=true (every capability) or SHADOW_CAPABILITIES=oncall,support,… (some), an outbox effect
of a shadowed capability is not performed: it is recorded here, with what it would have done and its payload,
and its outbox row ends as `shadowed`, never to be performed later — the old tool handled that message, alarm or
incident change. Capabilities that write state directly (the on-call writer's topics and usergroups) record their
would-be writes too and re-read the vendor's state when shadow mode is turned off, so only differences that are
still current are written then. `python app.py shadow report` prints the records; the Home tab counts them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.store import Store

# (kind, payload) -> (capability title, what the effect would have done); built by the wiring from the specs.
Describe = Callable[[str, dict[str, Any]], tuple[str, str]]


@dataclass(frozen=True)
class ShadowRecord:
    at: float
    capability: str
    kind: str
    what: str
    payload: dict[str, Any]


class Shadow:
    def __init__(self, store: Store | None, everything: bool, capabilities: Iterable[str], known: Iterable[str]):
        self.store = store
        self.everything = everything
        self.capabilities = frozenset(capabilities)
        self.known = frozenset(known)  # every capability of this build
        self.describe: Describe = lambda kind, payload: (kind.split(".", 1)[0], f"a `{kind}` effect")

    @classmethod
    def off(cls) -> Shadow:
        return cls(None, False, (), ())

    @property
    def on(self) -> bool:
        return self.everything or bool(self.capabilities)

    def active(self, capability: str) -> bool:
        """Is this capability (or a shared part, such as the incident poller, when any capability is) in shadow?"""
        if self.everything or capability in self.capabilities:
            return True
        return capability not in self.known and capability != "core" and bool(self.capabilities)

    def covers(self, kind: str) -> bool:
        return self.active(kind.split(".", 1)[0])

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        what: str | None = None,
        db: sqlite_utils.Database | None = None,
    ) -> None:
        """Record one would-be write (`what`, else the capability's own description of the effect)."""
        _title, described = self.describe(kind, payload)
        row = [time.time(), kind.split(".", 1)[0], kind, what or described, json.dumps(payload)[:20000]]
        sql = "INSERT INTO shadow_effects (at, capability, kind, what, payload) VALUES (?, ?, ?, ?, ?)"
        if db is not None:
            db.conn.execute(sql, row)
        elif self.store is not None:
            self.store.execute(sql, row)

    def records(self, since: float = 0.0) -> list[ShadowRecord]:
        if self.store is None:
            return []
        rows = self.store.query("SELECT * FROM shadow_effects WHERE at >= ? ORDER BY capability, id", [since])
        return [ShadowRecord(r["at"], r["capability"], r["kind"], r["what"], json.loads(r["payload"])) for r in rows]

    def count(self, since: float = 0.0) -> int:
        if self.store is None:
            return 0
        return int(self.store.scalar("SELECT COUNT(*) FROM shadow_effects WHERE at >= ?", [since]) or 0)


def report(records: list[ShadowRecord], since_text: str) -> str:
    """The would-be effects grouped by capability, one line each, for `python app.py shadow report`."""
    if not records:
        return f"No would-be effect recorded in shadow mode {since_text}."
    lines = [f"{len(records)} would-be effect(s) recorded in shadow mode {since_text}:"]
    current = None
    for record in records:
        if record.capability != current:
            current = record.capability
            count = sum(1 for r in records if r.capability == current)
            lines.append(f"\n{current} ({count})")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.at))
        payload = json.dumps(record.payload, sort_keys=True)
        lines.append(f"  {stamp}Z {record.kind}: {record.what} {payload[:300]}")
    return "\n".join(lines)
