"""Links (ordered PagerDuty schedules → Slack channels and usergroups) in SQLite, and as a YAML file.

A link is identified by its ordered schedule list; linking the same schedules again extends its targets.
A channel or usergroup fed by several links shows/gets the on-call people of all their schedules.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
import yaml

from bot.store import Store

SCHEDULE_ID = re.compile(r"P[A-Z0-9]{6,13}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


class LinkFileError(ValueError):
    """A link file is malformed; the message says where and what is expected, in one line."""


@dataclass(frozen=True)
class Link:
    schedules: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict, hash=False)  # display names by schedule id
    channels: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    id: int | None = None

    @property
    def key(self) -> str:
        return ",".join(self.schedules)


def _targets(db: sqlite_utils.Database, link_id: int, kind: str) -> tuple[str, ...]:
    rows = db.conn.execute(
        "SELECT target_id FROM oncall_targets WHERE link_id = ? AND kind = ? ORDER BY rowid", [link_id, kind]
    )
    return tuple(row[0] for row in rows)


def load_links(store: Store) -> list[Link]:
    db = store.db
    rows = db.conn.execute("SELECT id, schedules, names FROM oncall_links ORDER BY id").fetchall()
    return [
        Link(
            schedules=tuple(row["schedules"].split(",")),
            names=json.loads(row["names"]),
            channels=_targets(db, row["id"], "channel"),
            usergroups=_targets(db, row["id"], "usergroup"),
            id=row["id"],
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
    rows = db.conn.execute("SELECT id, schedules, names FROM oncall_links ORDER BY id").fetchall()
    for row in rows:
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
                    add_link(db, Link(remaining, kept_names, **target_field), created_by=None)
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


# --- YAML ----------------------------------------------------------------------------------------
FILE_HEADER = (
    "# Switchboard on-call links. `python app.py oncall import FILE` makes the bot's links exactly these.\n"
    "# schedules: PagerDuty schedule IDs, in topic order; names: optional display names by schedule ID;\n"
    "# channels: Slack channel IDs whose topic shows who is on call; usergroups: Slack usergroup IDs (S…).\n"
)


def export_yaml(links: list[Link]) -> str:
    entries: list[dict[str, Any]] = []
    for link in links:
        entry: dict[str, Any] = {"schedules": list(link.schedules)}
        if link.names:
            entry["names"] = dict(link.names)
        if link.channels:
            entry["channels"] = list(link.channels)
        if link.usergroups:
            entry["usergroups"] = list(link.usergroups)
        entries.append(entry)
    return FILE_HEADER + yaml.safe_dump({"links": entries}, sort_keys=False, allow_unicode=True)


def _id_list(value: Any, pattern: re.Pattern[str], where: str, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise LinkFileError(f"{where}: expected a list of {what}")
    result: list[str] = []
    for item in items:
        text = str(item).strip()
        if not pattern.fullmatch(text):
            raise LinkFileError(f"{where}: {text!r} is not {what}")
        if text not in result:
            result.append(text)
    return tuple(result)


def parse_yaml(text: str) -> list[Link]:
    """The links a file describes. Raises LinkFileError with a one-line reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LinkFileError(f"not valid YAML{where}: {getattr(error, 'problem', None) or error}") from error
    if data is None:
        data = {"links": []}
    if not isinstance(data, dict) or set(data) - {"links"}:
        raise LinkFileError("expected a mapping with one key, `links:` (a list)")
    entries = data.get("links")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise LinkFileError("`links` must be a list")
    links: dict[str, Link] = {}
    for number, entry in enumerate(entries, 1):
        where = f"link {number}"
        if not isinstance(entry, dict):
            raise LinkFileError(f"{where}: expected a mapping with schedules, channels, usergroups, names")
        unknown = set(entry) - {"schedules", "names", "channels", "usergroups"}
        if unknown:
            raise LinkFileError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        schedules = _id_list(
            entry.get("schedules") or [], SCHEDULE_ID, where, "a PagerDuty schedule ID such as PABC123"
        )
        if not schedules:
            raise LinkFileError(f"{where}: `schedules` is required")
        channels = _id_list(entry.get("channels") or [], CHANNEL_ID, where, "a Slack channel ID such as C0123ABCD")
        usergroups = _id_list(
            entry.get("usergroups") or [], USERGROUP_ID, where, "a Slack usergroup ID such as S0123ABCD"
        )
        if not channels and not usergroups:
            raise LinkFileError(f"{where}: give at least one of `channels` or `usergroups`")
        names = entry.get("names") or {}
        if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
            raise LinkFileError(f"{where}: `names` must map schedule IDs to non-empty display names")
        stray = [str(k) for k in names if str(k) not in schedules]
        if stray:
            raise LinkFileError(f"{where}: `names` has {stray[0]!r}, which is not one of its schedules")
        link = Link(schedules, {str(k): v.strip() for k, v in names.items()}, channels, usergroups)
        if link.key in links:
            raise LinkFileError(f"{where}: the schedules {link.key} are listed twice; merge the two entries")
        links[link.key] = link
    return list(links.values())


def diff_links(current: list[Link], wanted: list[Link]) -> list[str]:
    """Readable changes from `current` to `wanted` (empty when they are the same)."""
    before = {link.key: link for link in current}
    after = {link.key: link for link in wanted}
    lines: list[str] = []

    def describe(link: Link) -> str:
        parts = [f"channels {', '.join(link.channels)}" if link.channels else "", ""]
        parts[1] = f"usergroups {', '.join(link.usergroups)}" if link.usergroups else ""
        named = f" (names: {', '.join(f'{k}={v}' for k, v in link.names.items())})" if link.names else ""
        return f"{link.key} → {'; '.join(p for p in parts if p)}{named}"

    for key, link in after.items():
        old = before.get(key)
        if old is None:
            lines.append(f"+ link {describe(link)}")
            continue
        changes = [f"+ channel {c}" for c in link.channels if c not in old.channels]
        changes += [f"- channel {c}" for c in old.channels if c not in link.channels]
        changes += [f"+ usergroup {u}" for u in link.usergroups if u not in old.usergroups]
        changes += [f"- usergroup {u}" for u in old.usergroups if u not in link.usergroups]
        if link.names != old.names:
            changes.append(f"names {old.names or '{}'} → {link.names or '{}'}")
        if changes:
            lines.append(f"~ link {key}: {', '.join(changes)}")
    lines += [f"- link {describe(link)}" for key, link in before.items() if key not in after]
    return lines


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
