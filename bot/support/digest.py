"""The support desk's lines of the daily digest: tickets opened and solved in the period, and the median first
response time.

First response: the earliest answer to a request by someone other than the person who asked — a reply in its
Slack thread by anyone but the asker (the `help` command aside; in an emailed ticket's thread any reply), or a
public Zendesk comment by anyone but the requester and the bot (its time in Zendesk) — measured from the question
(the request's Slack message, or the emailed ticket's creation). The median is over the tickets opened in the
period that were answered before its end; the others are counted as not answered yet.
"""

from __future__ import annotations

from bot.store import Store
from bot.support.rules import DONE_STATUSES, duration_text, median


def digest_lines(store: Store, since: float, until: float) -> list[str]:
    opened = store.query(
        "SELECT opened_at, first_response_at FROM support_threads "
        "WHERE ticket_id IS NOT NULL AND opened_at >= ? AND opened_at < ?",
        [since, until],
    )
    marks = ", ".join("?" for _ in DONE_STATUSES)
    solved = int(
        store.scalar(
            "SELECT COUNT(*) FROM support_threads WHERE closed_at >= ? AND closed_at < ? "
            f"AND ticket_status IN ({marks})",
            [since, until, *DONE_STATUSES],
        )
        or 0
    )
    if not opened and not solved:
        return []
    waits = [
        row["first_response_at"] - row["opened_at"]
        for row in opened
        if row["first_response_at"] is not None and row["first_response_at"] < until
    ]
    lines = [f"Tickets: {len(opened)} opened, {solved} solved"]
    if opened:
        middle = median(waits)
        waiting = len(opened) - len(waits)
        answered = f"median first response {duration_text(middle)}" if middle is not None else "none answered yet"
        tail = f", {waiting} not answered yet" if waiting and middle is not None else ""
        lines.append(f"Of the tickets opened: {answered} ({len(waits)} answered{tail})")
    return lines
