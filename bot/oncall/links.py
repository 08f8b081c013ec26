"""Links (ordered PagerDuty schedules → Slack channels and usergroups), stored in SQLite.

A link is identified by its ordered schedule list; linking the same schedules again extends its targets.
A channel or usergroup fed by several links shows/gets the on-call people of all their schedules.
A "schedule" of a link may also be an escalation policy (`policy:<ID>`, see sources.py).
A paused link keeps its targets but gets no writes: a channel or usergroup fed by a paused link is left as it is.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import sqlite_utils

from bot.store import Store


def paused_targets(kind: str) -> str:
    """SQL selecting the channels (`kind` 'channel') or usergroups fed by a paused link: the writer leaves them."""
    return (
        "SELECT t.target_id FROM oncall_targets t JOIN oncall_links l ON l.id = t.link_id "
        f"WHERE t.kind = '{kind}' AND l.paused_at IS NOT NULL"
    )


@dataclass(frozen=True)
class Link:
    schedules: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict, hash=False)  # display names by schedule id
    channels: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    id: int | None = None
    # Operational state, not configuration: links compare (and files round-trip) without it.
    paused_at: float | None = field(default=None, compare=False)
    paused_by: str | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return ",".join(self.schedules)


def _targets(db: sqlite_utils.Database, link_id: int, kind: str) -> tuple[str, ...]:
    rows = db.conn.execute(
        "SELECT target_id FROM oncall_targets WHERE link_id = ? AND kind = ? ORDER BY rowid", [link_id, kind]
    )
    return tuple(row[0] for row in rows)


def load_links(store: Store) -> list[Link]:
    """Every link with its targets, in two queries whatever their number (a large install has 1,000 links)."""
    db = store.db
    rows = db.conn.execute("SELECT id, schedules, names, paused_at, paused_by FROM oncall_links ORDER BY id").fetchall()
    targets: dict[tuple[int, str], list[str]] = {}
    for link_id, kind, target in db.conn.execute(
        "SELECT link_id, kind, target_id FROM oncall_targets ORDER BY rowid"
    ).fetchall():
        targets.setdefault((link_id, kind), []).append(target)
    return [
        Link(
            schedules=tuple(row["schedules"].split(",")),
            names=json.loads(row["names"]),
            channels=tuple(targets.get((row["id"], "channel"), ())),
            usergroups=tuple(targets.get((row["id"], "usergroup"), ())),
            id=row["id"],
            paused_at=row["paused_at"],
            paused_by=row["paused_by"],
        )
        for row in rows
    ]


def _link_id(db: sqlite_utils.Database, schedules: tuple[str, ...]) -> int | None:
    row = db.conn.execute("SELECT id FROM oncall_links WHERE schedules = ?", [",".join(schedules)]).fetchone()
    return int(row[0]) if row else None


def add_link(db: sqlite_utils.Database, link: Link, created_by: str | None, now: float | None = None) -> int:
    """Create the link or extend the existing one with the same schedules; returns its id. Joins `db`'s transaction."""
    now = time.time() if now is None else now
    link_id = _link_id(db, link.schedules)
    if link_id is None:
        cursor = db.conn.execute(
            "INSERT INTO oncall_links (schedules, names, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [link.key, json.dumps(link.names), created_by, now, now],
        )
        link_id = int(cursor.lastrowid or 0)
    elif link.names:
        row = db.conn.execute("SELECT names FROM oncall_links WHERE id = ?", [link_id]).fetchone()
        names = {**json.loads(row[0]), **link.names}
        db.conn.execute(
            "UPDATE oncall_links SET names = ?, updated_at = ? WHERE id = ?", [json.dumps(names), now, link_id]
        )
    for kind, targets in (("channel", link.channels), ("usergroup", link.usergroups)):
        for target in targets:
            db.conn.execute(
                "INSERT OR IGNORE INTO oncall_targets (link_id, kind, target_id) VALUES (?, ?, ?)",
                [link_id, kind, target],
            )
    return link_id


def remove_targets(
    db: sqlite_utils.Database, schedule_id: str, channels: tuple[str, ...], usergroups: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Stop showing one schedule in these targets. A link with other schedules keeps feeding the targets with
    those (it is split). Returns the (kind, target) pairs that were unlinked."""
    removed: list[tuple[str, str]] = []
    wanted = {("channel", c) for c in channels} | {("usergroup", u) for u in usergroups}
    rows = db.conn.execute("SELECT id, schedules, names, paused_at, paused_by FROM oncall_links ORDER BY id")
    for row in rows.fetchall():
        schedules = tuple(row["schedules"].split(","))
        if schedule_id not in schedules:
            continue
        names = json.loads(row["names"])
        for kind in ("channel", "usergroup"):
            for target in _targets(db, row["id"], kind):
                if (kind, target) not in wanted:
                    continue
                db.conn.execute(
                    "DELETE FROM oncall_targets WHERE link_id = ? AND kind = ? AND target_id = ?",
                    [row["id"], kind, target],
                )
                removed.append((kind, target))
                remaining = tuple(s for s in schedules if s != schedule_id)
                if remaining:
                    kept_names = {s: n for s, n in names.items() if s in remaining}
                    target_field = {"channels": (target,)} if kind == "channel" else {"usergroups": (target,)}
                    new_link = _link_id(db, remaining) is None
                    split = add_link(db, Link(remaining, kept_names, **target_field), created_by=None)
                    if new_link and row["paused_at"] is not None:  # the part that stays keeps the pause
                        set_paused(db, [split], row["paused_by"], row["paused_at"])
    db.conn.execute("DELETE FROM oncall_links WHERE id NOT IN (SELECT link_id FROM oncall_targets)")
    return removed


def settle_targets(db: sqlite_utils.Database, now: float | None = None) -> None:
    """Keep the per-channel/per-usergroup state rows in step with the links (inside the caller's transaction).

    A channel no longer linked gets its on-call part removed from the topic by the writer, then its row goes;
    a usergroup no longer linked keeps its members (Slack refuses an empty group) and its row goes at once.
    """
    now = time.time() if now is None else now
    linked_channels = "SELECT DISTINCT target_id FROM oncall_targets WHERE kind = 'channel'"
    linked_groups = "SELECT DISTINCT target_id FROM oncall_targets WHERE kind = 'usergroup'"
    db.conn.execute(f"INSERT OR IGNORE INTO oncall_channels (channel_id) {linked_channels}")
    db.conn.execute(f"UPDATE oncall_channels SET removing = 0 WHERE removing = 1 AND channel_id IN ({linked_channels})")
    db.conn.execute(
        "UPDATE oncall_channels SET removing = 1, desired_prefix = NULL, dirty = 1, "
        "dirty_since = COALESCE(dirty_since, ?), blocked = 0, attempts = 0, next_attempt_at = 0 "
        f"WHERE removing = 0 AND channel_id NOT IN ({linked_channels})",
        [now],
    )
    db.conn.execute(f"INSERT OR IGNORE INTO oncall_usergroups (usergroup_id) {linked_groups}")
    db.conn.execute(f"DELETE FROM oncall_usergroups WHERE usergroup_id NOT IN ({linked_groups})")


def replace_links(db: sqlite_utils.Database, wanted: list[Link], now: float | None = None) -> None:
    """Make the stored links exactly `wanted` (inside the caller's transaction, so the import is atomic)."""
    now = time.time() if now is None else now
    keep = [link.key for link in wanted]
    marks = ", ".join("?" for _ in keep) or "''"
    db.conn.execute(f"DELETE FROM oncall_links WHERE schedules NOT IN ({marks})", keep)
    for link in wanted:
        link_id = _link_id(db, link.schedules)
        if link_id is not None:
            db.conn.execute("DELETE FROM oncall_targets WHERE link_id = ?", [link_id])
            db.conn.execute(
                "UPDATE oncall_links SET names = ?, updated_at = ? WHERE id = ?", [json.dumps(link.names), now, link_id]
            )
        add_link(db, link, created_by="import", now=now)
    settle_targets(db, now)


def set_paused(db: sqlite_utils.Database, link_ids: list[int], by: str | None, at: float | None) -> None:
    """Pause (`at` = when) or resume (`at` None) links, inside the caller's transaction."""
    for link_id in link_ids:
        db.conn.execute(
            "UPDATE oncall_links SET paused_at = ?, paused_by = ? WHERE id = ?",
            [at, by if at is not None else None, link_id],
        )
