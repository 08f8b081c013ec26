"""Unanswered support requests in some channels, for the hand-off brief of an incoming on-call person.

Unanswered: nobody but the asker has replied (no first response, see digest.py), and the ticket is still open."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.store import Store
from bot.support.people import SlackPeople
from bot.support.text import permalink
from bot.text import ago, escape, link, mention

MAX_LINES = 20  # a DM, not a report: the rest is counted


def unanswered_threads(store: Store, people: SlackPeople, channels: Sequence[str]) -> list[str]:
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    rows = store.query(
        f"SELECT channel_id, thread_ts, asker_id, subject, opened_at FROM support_threads "
        f"WHERE channel_id IN ({marks}) AND state IN ('creating', 'open') AND closed_at IS NULL "
        f"AND first_response_at IS NULL AND thread_ts IS NOT NULL ORDER BY opened_at, id",
        list(channels),
    )
    if not rows:
        return []
    workspace, now = people.workspace_url(), time.time()
    lines = []
    for row in rows[:MAX_LINES]:
        url = permalink(workspace, row["channel_id"], row["thread_ts"])
        asker = row["asker_id"] or ""
        by = f" from {mention(asker)}" if asker.startswith(("U", "W")) else ""
        subject = f": {escape(row['subject'])}" if row["subject"] else ""
        when = ago(row["opened_at"], now)
        lines.append(f"{link(url, 'Unanswered support request')} in <#{row['channel_id']}>{by}, asked {when}{subject}")
    if len(rows) > MAX_LINES:
        lines.append(f"… and {len(rows) - MAX_LINES} more unanswered support requests")
    return lines
