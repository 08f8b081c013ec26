"""What a sync cycle records in SQLite: who is on call now (`oncall_current`), the hand-off DMs it queues, and the
wanted state of every channel and usergroup (`desired_*`, `dirty`) that the paced writer then makes Slack show.

The functions taking `db` join the caller's transaction, so a cycle's records land together or not at all.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from bot.oncall import rules
from bot.oncall.effects import HANDOFF_DM, handoff_dm_payload
from bot.oncall.roster import OnCall
from bot.outbox import Outbox
from bot.store import Store

log = logging.getLogger(__name__)


def forget_unlinked(store: Store, schedule_ids: list[str]) -> None:
    """Drop the on-call people of schedules no longer linked: a later re-link is a first sight, not a hand-off."""
    marks = ", ".join("?" for _ in schedule_ids) or "''"
    store.execute(f"DELETE FROM oncall_current WHERE schedule_id NOT IN ({marks})", schedule_ids)


def load_current(store: Store) -> dict[str, dict[str, Any]]:
    """Who was on call at the last cycle, per schedule (`oncall_current` rows)."""
    return {r["schedule_id"]: r for r in store.query("SELECT * FROM oncall_current")}


def save_current(db: Any, current: dict[str, list[OnCall]], flags: rules.OverrideFlags, now: float) -> None:
    for sid, people in current.items():
        marks, sig = flags[sid]
        stored = [{**asdict(p), "override": marks.get(p.user_id, False)} for p in people]
        db.conn.execute(
            "INSERT INTO oncall_current (schedule_id, people, signature, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(schedule_id) DO UPDATE SET people = excluded.people, signature = excluded.signature, "
            "updated_at = excluded.updated_at",
            [sid, json.dumps(stored), sig, now],
        )


def queue_handoff_dms(db: Any, outbox: Outbox, handoffs: list[rules.Handoff]) -> None:
    """One DM per hand-off to a person Slack knows; the key makes a repeated cycle queue it only once."""
    for handoff in handoffs:
        if handoff.slack_id:
            payload = handoff_dm_payload(handoff.slack_id, handoff.dm_text, handoff.dm_key)
            outbox.enqueue(handoff.dm_key, HANDOFF_DM, payload, db=db)


def record_channels(db: Any, prefixes: dict[str, str], now: float) -> None:
    for channel, prefix in prefixes.items():
        row = db.conn.execute("SELECT * FROM oncall_channels WHERE channel_id = ?", [channel]).fetchone()
        if row is None:
            continue  # settle_targets creates rows when links change
        needs_write = rules.channel_needs_write(row, prefix)
        mark_dirty(db, "oncall_channels", "channel_id", channel, "desired_prefix", prefix, row, needs_write, now)


def record_usergroups(db: Any, members_by_group: dict[str, set[str]], now: float) -> None:
    for group, members in members_by_group.items():
        row = db.conn.execute("SELECT * FROM oncall_usergroups WHERE usergroup_id = ?", [group]).fetchone()
        if row is None:
            continue
        desired = json.dumps(sorted(members))
        if not members:  # Slack refuses an empty group: keep the members, say so once
            if not row["kept"]:
                log.warning("usergroup %s: nobody on call maps to a Slack user; keeping its members", group)
            db.conn.execute(
                "UPDATE oncall_usergroups SET desired = ?, kept = 1, dirty = 0, dirty_since = NULL "
                "WHERE usergroup_id = ?",
                [desired, group],
            )
            continue
        needs_write = rules.usergroup_needs_write(row, members)
        db.conn.execute("UPDATE oncall_usergroups SET kept = 0 WHERE usergroup_id = ?", [group])
        mark_dirty(db, "oncall_usergroups", "usergroup_id", group, "desired", desired, row, needs_write, now)


def mark_dirty(
    db: Any, table: str, key: str, target: str, column: str, desired: str, row: Any, needs_write: bool, now: float
) -> None:
    """Record the wanted state; a change of it lifts an earlier refusal or backoff (worth one new try)."""
    changed = row[column] != desired
    db.conn.execute(
        f"UPDATE {table} SET {column} = ?, dirty = ?, "
        "dirty_since = CASE WHEN ? THEN COALESCE(dirty_since, ?) ELSE NULL END, "
        "attempts = CASE WHEN ? THEN 0 ELSE attempts END, "
        "next_attempt_at = CASE WHEN ? THEN 0 ELSE next_attempt_at END, "
        f"blocked = CASE WHEN ? OR NOT ? THEN 0 ELSE blocked END WHERE {key} = ?",
        [
            desired,
            int(needs_write),
            int(needs_write),
            now,
            int(changed),
            int(changed),
            int(changed),
            int(needs_write),
            target,
        ],
    )
