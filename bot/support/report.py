"""The daily support report: tickets closed since the previous working day, and every open one, oldest first."""

from __future__ import annotations

from dataclasses import dataclass

from bot.support.hours import age
from bot.support.text import ticket_link
from bot.text import escape

MAX_LISTED = 40  # a channel with hundreds of open tickets still gets a readable message


@dataclass(frozen=True)
class ReportTicket:
    ticket_id: int
    ticket_url: str
    subject: str
    opened_at: float
    thread_link: str | None


def report_text(
    *, title_date: str, closed_since: str, closed_count: int, open_tickets: list[ReportTicket], now: float
) -> str:
    lines = [f"📊 *Daily support report* — {title_date}", "", f"*Closed 🤘: {closed_count}* (since {closed_since})", ""]
    ordered = sorted(open_tickets, key=lambda t: t.opened_at)
    if not ordered:
        lines.append("*Open 🔥: 0* — nothing waiting. 🎉")
    else:
        lines.append(f"*Open 🔥: {len(ordered)}*, oldest first:")
        for ticket in ordered[:MAX_LISTED]:
            thread = f" — <{ticket.thread_link}|thread>" if ticket.thread_link else ""
            subject = escape(ticket.subject.replace("\n", " "))
            link = ticket_link(ticket.ticket_url, ticket.ticket_id)
            lines.append(f"• {link} {subject} — open {age(now - ticket.opened_at)}{thread}")
        if len(ordered) > MAX_LISTED:
            lines.append(f"…and {len(ordered) - MAX_LISTED} more.")
    return "\n".join(lines)
