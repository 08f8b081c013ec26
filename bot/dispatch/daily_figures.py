"""Dispatch's lines of the daily digest: alarms sent, confirmed (Yes) and escalated (No, or no answer in time)."""

from __future__ import annotations

from bot.dispatch import rules
from bot.store import Store


def digest_lines(store: Store, since: float, until: float) -> list[str]:
    """For [since, until): alarms taken in (less those skipped as duplicates of an open issue: nothing was sent),
    and the self-service answers given in the period, whenever the alarm came. None on a day without alarms."""
    sent = int(
        store.scalar(
            "SELECT COUNT(*) FROM dispatch_alerts WHERE created_at >= ? AND created_at < ? AND state != ?",
            [since, until, rules.SKIPPED],
        )
        or 0
    )
    answers = {
        row["answer"]: int(row["n"])
        for row in store.query(
            "SELECT answer, COUNT(*) AS n FROM dispatch_alerts WHERE answered_at >= ? AND answered_at < ? "
            "AND answer IS NOT NULL GROUP BY answer",
            [since, until],
        )
    }
    confirmed = answers.get(rules.YES, 0)
    said_no, no_answer = answers.get(rules.NO, 0), answers.get(rules.NO_RESPONSE, 0)
    if not (sent or confirmed or said_no or no_answer):
        return []
    return [
        f"Alarms: {sent} sent, {confirmed} confirmed (Yes), {said_no + no_answer} escalated "
        f"({said_no} No, {no_answer} no answer)"
    ]
