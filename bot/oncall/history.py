"""Who took over which schedule, and when: every hand-off a sync noticed, kept for the daily digest.

A hand-off is recorded once per schedule taken over (person, schedule, shift start), whether or not a DM is sent,
in the same transaction as the people it names. The digest names people by their PagerDuty name, not a mention: a digest
posted in a channel must not notify everyone who went on call that day.
"""

from __future__ import annotations

from typing import Any

from bot.oncall import rules
from bot.oncall.topic import join_names
from bot.store import Store
from bot.text import escape

MAX_DIGEST_CHANGES = 50  # a day of 1,000 daily rotations is summed up, not listed


def record_handoffs(db: Any, handoffs: list[rules.Handoff], now: float) -> None:
    """Inside the sync's transaction; a cycle that notices the same hand-off again adds nothing."""
    for handoff in handoffs:
        for shift in handoff.shifts:
            db.conn.execute(
                "INSERT OR IGNORE INTO oncall_handoffs (user_id, schedule_id, at, person, schedule_name, seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [handoff.user_id, shift.schedule_id, shift.at, handoff.person, shift.name, now],
            )


def digest_lines(store: Store, since: float, until: float) -> list[str]:
    """The on-call changes of [since, until), oldest first: one line per person and moment, naming every schedule
    they took over then. Nothing at all when on-call follows no schedule."""
    rows = store.query(
        "SELECT user_id, at, person, schedule_name FROM oncall_handoffs WHERE at >= ? AND at < ? "
        "ORDER BY at, user_id, rowid",
        [since, until],
    )
    if not rows:
        linked = store.scalar("SELECT COUNT(*) FROM oncall_links")
        return ["No on-call changes."] if linked else []
    changes: dict[tuple[float, str], tuple[str, list[str]]] = {}
    for row in rows:
        changes.setdefault((row["at"], row["user_id"]), (row["person"], []))[1].append(row["schedule_name"])
    lines = [f"On-call changes: {len(changes)}"]
    for (at, _), (person, names) in list(changes.items())[:MAX_DIGEST_CHANGES]:
        lines.append(f"• {rules.slack_date(at)}: {escape(person)} took over {join_names(names)}")
    if len(changes) > MAX_DIGEST_CHANGES:
        lines.append(f"• … and {len(changes) - MAX_DIGEST_CHANGES} more")
    return lines


def prune_handoffs(store: Store, before: float) -> int:
    return store.execute("DELETE FROM oncall_handoffs WHERE at < ?", [before])
