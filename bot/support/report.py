"""The daily support report: tickets closed since the previous working day, and every open one, oldest first.

The `support.report` job posts it in every support channel at SUPPORT_REPORT_TIME (`/support report` posts it
now: admins any time, others once per channel in ten minutes). Its next moment is stored, so a report that fell
due while the bot was down is posted at start if recent. A report too long for one Slack message is queued as
several posts in one transaction (`records.queue_post`), each part its own effect under the report's key, so a
restart midway posts the remaining parts and never a second report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.capability import Foundation
from bot.clients.zendesk import ZendeskApi
from bot.support import records
from bot.support.config import SupportConfig
from bot.support.hours import UTC, WeeklyTime, age, parse_clock, parse_days, short_date
from bot.support.identifiers import REPORT_COMMAND_KEY, REPORT_DUE_KEY, REPORT_JOB
from bot.support.people import SlackPeople
from bot.support.rules import report_command_wait
from bot.support.text import permalink, ticket_link
from bot.text import escape

CATCH_UP_SECONDS = 6 * 3600  # a report that fell due while the bot was down is posted at start, if this recent


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
        for ticket in ordered:  # every one: a long report is posted in several parts (see message_parts.py)
            thread = f" — <{ticket.thread_link}|thread>" if ticket.thread_link else ""
            subject = escape(ticket.subject.replace("\n", " "))
            link = ticket_link(ticket.ticket_url, ticket.ticket_id)
            lines.append(f"• {link} {subject} — open {age(now - ticket.opened_at)}{thread}")
    return "\n".join(lines)


class DailyReport:
    def __init__(
        self,
        foundation: Foundation,
        config: SupportConfig,
        zendesk: ZendeskApi,
        people: SlackPeople,
        kick: Callable[[], None],
    ):
        self.store = foundation.store
        self.outbox = foundation.outbox
        self.scheduler = foundation.scheduler
        self.config = config
        self.zendesk = zendesk
        self.people = people
        self.kick = kick  # wakes the outbox once the reports are queued

    def clock(self) -> WeeklyTime:
        """The report's days and time; with the scheduled report off, `/support report` still counts working days
        as Mon-Fri 09:00 in the office hours' time zone."""
        if self.config.report_time is not None:
            return self.config.report_time
        zone = self.config.office_hours.zone if self.config.office_hours else UTC
        return WeeklyTime(parse_days("Mon-Fri"), parse_clock("09:00"), zone)

    def schedule(self, catch_up: bool = False) -> None:
        """Wake the job at the next report time (and now, at start, for a report missed while the bot was down)."""
        clock, now = self.config.report_time, time.time()
        if clock is None:
            return
        due = float(self.store.get_state(REPORT_DUE_KEY, "0") or 0)
        if catch_up and due and 0 <= now - due < CATCH_UP_SECONDS:
            self.scheduler.run_at(REPORT_JOB, now)  # `schedule` never catches up; the per-day key keeps it to one post
        next_run = clock.next_after(now)
        self.store.set_state(REPORT_DUE_KEY, str(next_run))
        self.scheduler.run_at(REPORT_JOB, next_run)

    def run(self) -> None:
        """The `support.report` job: today's report in every support channel, if today is a report day."""
        try:
            now = time.time()
            clock = self.clock()
            if clock.local_date(now).weekday() in clock.days:
                self.post(self.config.channels, clock.local_date(now).isoformat(), now)
        finally:
            self.schedule()

    def claim_command_run(self, channels: list[str], now: float, *, admin: bool) -> float:
        """For `/support report`: 0 and the run recorded for each channel when it may post now, else the seconds
        to wait. Read and recorded in one transaction, so two people asking at once make one report; stored, so a
        restart does not reset the wait."""
        keys = [REPORT_COMMAND_KEY.format(channel=channel) for channel in channels]
        with self.store.write():  # get_state and set_state join this transaction
            last_runs = [self.store.get_state(key) for key in keys]
            wait = report_command_wait([float(at) if at else None for at in last_runs], now, admin=admin)
            if wait > 0:
                return wait
            for key in keys:
                self.store.set_state(key, str(now))
        return 0.0

    def post(self, channels: tuple[str, ...] | list[str], key: str, now: float | None = None) -> None:
        """Queue the report for each channel, once per `key` (the day, or the moment of a `/support report`)."""
        now = time.time() if now is None else now
        texts = {channel: self.text_for(channel, now) for channel in channels}
        with self.store.write() as db:
            for channel, text in texts.items():
                records.queue_post(
                    db, self.outbox, source=f"report:{channel}:{key}", channel=channel, kind="report", text=text
                )
        self.kick()

    def text_for(self, channel: str, now: float) -> str:
        clock = self.clock()
        since_day = clock.previous_working_day(now)
        closed = int(
            self.store.scalar(
                "SELECT COUNT(*) FROM support_threads WHERE channel_id = ? AND state != 'forgotten' AND closed_at >= ?",
                [channel, clock.start_of(since_day)],
            )
            or 0
        )
        rows = self.store.query(
            "SELECT * FROM support_threads WHERE channel_id = ? AND state = 'open' AND closed_at IS NULL "
            "AND ticket_id IS NOT NULL ORDER BY opened_at",
            [channel],
        )
        workspace = self.people.workspace_url()
        tickets = [
            ReportTicket(
                r["ticket_id"],
                self.zendesk.ticket_url(r["ticket_id"]),
                r["subject"] or f"ticket #{r['ticket_id']}",
                r["opened_at"],
                permalink(workspace, channel, r["thread_ts"]) if r["thread_ts"] else None,
            )
            for r in rows
        ]
        return report_text(
            title_date=short_date(clock.local_date(now)),
            closed_since=short_date(since_day),
            closed_count=closed,
            open_tickets=tickets,
            now=now,
        )
