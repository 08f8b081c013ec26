"""Support desk: support channels ⇄ Zendesk. Slack messages arrive through `on_message`; Zendesk is polled.

Inbound facts (a message, a reply, a Zendesk comment) are written to SQLite under a unique key together with
their outbox effects, in one transaction; `effects.py` (Zendesk) and `posting.py` (Slack) perform the writes. So a
redelivered or concurrent event changes nothing, and a restart resumes whatever was queued.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlite_utils

from bot.capability import CapabilityService, Foundation, Job
from bot.outbox import OUTBOX_JOB
from bot.scheduler import Scheduler
from bot.support import records
from bot.support.commands import support_command
from bot.support.config import MIN_POLL_SECONDS, SupportConfig, parse_config
from bot.support.desk import ZendeskDesk, ZendeskError
from bot.support.effects import SupportEffects
from bot.support.hours import UTC, WeeklyTime, parse_clock, parse_days, short_date
from bot.support.inbound import Inbound, classify
from bot.support.people import SlackPeople
from bot.support.poller import NewEmailTicket, StatusChange, ZendeskComment, interpret
from bot.support.posting import SlackPoster
from bot.support.report import ReportTicket, report_text
from bot.support.text import help_text, permalink, thread_command, zendesk_to_slack
from bot.text import escape

log = logging.getLogger(__name__)

POLL_JOB = "support.poll"
REPORT_JOB = "support.report"
CURSOR_KEY = "support.poll.cursor"
NOT_BEFORE_KEY = "support.poll.not_before"
FIRST_LOOKBACK_SECONDS = 120  # where the first poll starts: before the minute Zendesk's export holds back
SEEN_KEEP_SECONDS = 3600
REPORT_DUE_KEY = "support.report.due_at"
REPORT_CATCH_UP_SECONDS = 6 * 3600  # a report that fell due while the bot was down is posted at start, if this recent
OPEN_STATUSES = ("new", "open", "pending", "hold")


class SupportService(CapabilityService):
    def __init__(self, runtime: Foundation, config: SupportConfig):
        self.runtime = runtime
        self.config = config
        self.store = runtime.store
        self.desk = ZendeskDesk(runtime.settings)
        self.people = SlackPeople(runtime.slack)
        self.poster = SlackPoster(runtime, config, self.desk)
        self.effects = SupportEffects(runtime, config, self.desk, self.people, self.poster)
        self.effects.register(runtime.outbox)
        self._zendesk_names: dict[int, str] = {}
        self._next_kick = 0.0
        self.scheduler: Scheduler | None = None

    def jobs(self) -> tuple[Job, ...]:
        poll = Job(POLL_JOB, self.config.poll_seconds, self.poll)
        if self.config.report_time is None:
            return (poll,)
        return (poll, Job(REPORT_JOB, None, self.daily_report))

    def start(self) -> None:
        self.scheduler = self.runtime.scheduler
        if self.config.report_time is not None:
            self._schedule_report(catch_up=True)

    def counts(self) -> dict[str, int]:
        return records.counts(self.store)

    def _kick(self) -> None:
        """Our transactions enqueue inside their own write, so the outbox is woken by hand afterwards; when it is
        busy with earlier work, it runs again shortly after rather than at its next one-second tick."""
        scheduler, now = self.runtime.scheduler, time.time()
        if not scheduler.run_now(OUTBOX_JOB) and now >= self._next_kick:
            self._next_kick = now + 0.05  # one retry in flight at a time, however many messages arrive
            scheduler.run_at(OUTBOX_JOB, self._next_kick)

    # --- Slack -> queue ----------------------------------------------------------------------------
    def on_message(self, event: dict[str, Any]) -> None:
        message = classify(event, self.config, self.runtime.bot_user_id)
        if message is None:
            if self.config.processing_disabled and event.get("channel") in self.config.channels:
                log.warning("support message handling is disabled (SUPPORT_DISABLE_MESSAGE_PROCESSING)")
            return
        if message.is_edit:
            self._edit(message)
        elif message.is_reply:
            self._reply(message)
        else:
            self._new_request(message)
        self._kick()

    @staticmethod
    def _payload(message: Inbound, **extra: Any) -> dict[str, Any]:
        return {
            "channel": message.channel,
            "ts": message.ts,
            "user": message.user,
            "bot_name": message.bot_name,
            "text": message.text,
            "files": message.files,
            **extra,
        }

    def _new_request(self, message: Inbound) -> None:
        with self.store.write() as db:
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO support_threads (channel_id, thread_ts, origin, state, opened_at) "
                "VALUES (?, ?, 'slack', 'creating', ?)",
                [message.channel, message.ts, float(message.ts)],
            )
            if cursor.rowcount != 1:
                log.info("message %s/%s is already in Zendesk", message.channel, message.ts)
                return
            payload = self._payload(message, thread_id=cursor.lastrowid)
            key = f"support:create:{message.channel}:{message.ts}"
            self.runtime.outbox.enqueue(key, "support.create_ticket", payload, db=db)

    def _reply(self, message: Inbound) -> None:
        thread = records.thread_by_slack(self.store, message.channel, message.thread_ts or "")
        if thread is None:
            log.info("reply %s in %s belongs to no support thread (an old thread?)", message.ts, message.channel)
            return
        command = None if message.files else thread_command(message.text)
        source = f"{message.channel}:{message.ts}"
        with self.store.write() as db:
            if command == "help":
                url = self.desk.ticket_url(thread["ticket_id"]) if thread["ticket_id"] else None
                text = help_text(url, self.config.resolve_status)
                common = {"channel": message.channel, "thread_id": thread["id"]}
                records.queue_post(db, self.runtime.outbox, source=f"help:{source}", kind="text", text=text, **common)
            else:  # `resolve` solves the ticket; anything else becomes a comment
                kind, prefix = ("solve", "solve") if command == "resolve" else ("comment", "reply")
                records.queue_forward(
                    db,
                    self.runtime.outbox,
                    source=f"{prefix}:{source}",
                    thread_id=thread["id"],
                    kind=kind,
                    slack_ts=message.ts,
                    payload=self._payload(message, edited=False),
                )

    def _edit(self, message: Inbound) -> None:
        thread = records.thread_by_slack(self.store, message.channel, message.thread_ts or message.ts)
        if thread is None or thread_command(message.text):
            return  # not a support message, or a command typed by editing: commands act only when sent
        with self.store.write() as db:
            records.queue_forward(
                db,
                self.runtime.outbox,
                source=f"edit:{message.channel}:{message.ts}:{message.edit_ts}",
                thread_id=thread["id"],
                kind="comment",
                slack_ts=message.edit_ts or message.ts,
                payload=self._payload(message, edited=True),
            )

    # --- Zendesk -> queue --------------------------------------------------------------------------
    def poll(self) -> None:
        """One export request: every ticket change since the cursor; the cursor moves in the same transaction."""
        now = time.time()
        not_before = float(self.store.get_state(NOT_BEFORE_KEY, "0") or 0)
        if now < not_before:
            log.info("Zendesk asked us to wait; next export request in %.0fs", not_before - now)
            return
        me = self.desk.me_id()
        cursor = int(self.store.get_state(CURSOR_KEY, "0") or 0) or int(now) - FIRST_LOOKBACK_SECONDS
        try:
            page = self.desk.ticket_events(cursor)
        except ZendeskError as error:
            if error.retry_after:
                self.store.set_state(NOT_BEFORE_KEY, str(now + error.retry_after))
            elif error.status == 400 and "start_time" in error.message:  # "Too recent start_time": step back
                self.store.set_state(CURSOR_KEY, str(min(cursor, int(now) - FIRST_LOOKBACK_SECONDS)))
            raise
        audits = interpret(page.get("ticket_events") or [], me)
        threads = records.threads_by_ticket(self.store, sorted({a.ticket_id for a in audits}))
        self._learn_names(audits, threads)
        with self.store.write() as db:
            for audit in audits:
                seen = db.conn.execute(
                    "INSERT OR IGNORE INTO support_seen_events (event_id, timestamp) VALUES (?, ?)",
                    [audit.audit_id, audit.timestamp],
                )
                if seen.rowcount != 1:
                    continue  # the time-based export repeats events at the edges of its windows
                for finding in audit.findings:
                    self._apply(db, finding, threads, audit.timestamp)
            end_time = int(page.get("end_time") or cursor)
            self.store.set_state(CURSOR_KEY, str(max(end_time, cursor)))
            db.conn.execute("DELETE FROM support_seen_events WHERE timestamp < ?", [end_time - SEEN_KEEP_SECONDS])
        self._kick()
        if not page.get("end_of_stream", True) and self.scheduler is not None:
            self.scheduler.run_at(POLL_JOB, now + MIN_POLL_SECONDS)  # more to read: soon, within the export limit

    def _wants_email(self, finding: NewEmailTicket) -> bool:
        group = self.config.group_id
        return group is not None and finding.group_id == group and finding.status in OPEN_STATUSES

    def _learn_names(self, audits: list[Any], threads: dict[int, dict[str, Any]]) -> None:
        wanted, ours = set(), set(threads)
        for audit in audits:  # in order: an emailed ticket new in this page is ours for the comments after it
            for finding in audit.findings:
                if isinstance(finding, ZendeskComment) and audit.ticket_id in ours:
                    wanted.add(finding.author_id)
                elif isinstance(finding, NewEmailTicket) and self._wants_email(finding):
                    ours.add(finding.ticket_id)
                    if finding.requester_id:
                        wanted.add(finding.requester_id)
        missing = sorted(i for i in wanted if i and i not in self._zendesk_names)
        if missing:
            self._zendesk_names.update(self.desk.user_names(missing))

    def _apply(self, db: sqlite_utils.Database, finding: Any, threads: dict[int, dict[str, Any]], at: int) -> None:
        outbox = self.runtime.outbox
        if isinstance(finding, NewEmailTicket):
            self._new_email_thread(db, finding, threads, at)
            return
        thread = threads.get(finding.ticket_id)
        if thread is None:
            return  # a ticket that is not one of ours
        url = self.desk.ticket_url(finding.ticket_id)
        common = {"channel": thread["channel_id"], "thread_id": thread["id"]}
        if isinstance(finding, ZendeskComment):
            name = escape(self._zendesk_names.get(finding.author_id, "Zendesk agent"))
            text = f"{name} (Zendesk): {zendesk_to_slack(finding.body, url)}"
            records.queue_post(db, outbox, source=f"zd-comment:{finding.comment_id}", kind="text", text=text, **common)
        elif isinstance(finding, StatusChange):
            self._status_changed(db, finding, thread, url, at)

    def _status_changed(
        self, db: sqlite_utils.Database, change: StatusChange, thread: dict[str, Any], url: str, at: int
    ) -> None:
        outbox = self.runtime.outbox
        common = {"channel": thread["channel_id"], "thread_id": thread["id"]}
        was_done = change.previous in ("solved", "closed") or thread["ticket_status"] in ("solved", "closed")
        closed_at = thread["closed_at"]
        if change.status in ("solved", "closed"):
            closed_at = closed_at or float(at)
            if change.status == "solved" and not change.by_bot:
                text = f"🤖 Ticket {url} was marked solved in Zendesk."
                records.queue_post(db, outbox, source=f"zd-status:{change.event_id}", kind="text", text=text, **common)
                records.queue_post(
                    db, outbox, source=f"zd-mark:{change.event_id}", kind="reaction", text="white_check_mark", **common
                )
        elif was_done:
            closed_at = None
            if not change.by_bot:
                text = f"🤖 Ticket {url} was reopened in Zendesk."
                records.queue_post(db, outbox, source=f"zd-status:{change.event_id}", kind="text", text=text, **common)
        db.conn.execute(
            "UPDATE support_threads SET ticket_status = ?, closed_at = ? WHERE id = ?",
            [change.status, closed_at, thread["id"]],
        )
        thread.update(ticket_status=change.status, closed_at=closed_at)

    def _new_email_thread(
        self, db: sqlite_utils.Database, ticket: NewEmailTicket, threads: dict[int, dict[str, Any]], at: int
    ) -> None:
        if not self._wants_email(ticket) or ticket.ticket_id in threads:
            return
        channel = self.config.home_channel
        cursor = db.conn.execute(
            "INSERT OR IGNORE INTO support_threads (channel_id, thread_ts, origin, state, ticket_id, ticket_status, "
            "subject, opened_at) VALUES (?, NULL, 'email', 'open', ?, ?, ?, ?)",
            [channel, ticket.ticket_id, ticket.status, ticket.subject, float(at)],
        )
        if cursor.rowcount != 1:
            return
        row = db.conn.execute("SELECT * FROM support_threads WHERE id = ?", [cursor.lastrowid]).fetchone()
        threads[ticket.ticket_id] = dict(row)
        requester = escape(self._zendesk_names.get(ticket.requester_id or 0, "someone"))
        body = zendesk_to_slack(ticket.body, self.desk.ticket_url(ticket.ticket_id), limit=600)
        quoted = "\n".join(f">{line}" for line in body.splitlines() if line.strip())
        text = f"📧 *New support request by email* from {requester}: *{escape(ticket.subject)}*\n{quoted}".rstrip()
        records.queue_post(
            db,
            self.runtime.outbox,
            source=f"email:{ticket.ticket_id}",
            channel=channel,
            kind="parent",
            text=text,
            thread_id=row["id"],
        )
        # Queued now, so the link and on-call notice come first in the thread, before any Zendesk comment.
        self.poster.queue_announcement(db, dict(row), self.desk.ticket_url(ticket.ticket_id), float(at))

    # --- reports -----------------------------------------------------------------------------------
    def _report_clock(self) -> WeeklyTime:
        if self.config.report_time is not None:
            return self.config.report_time
        zone = self.config.office_hours.zone if self.config.office_hours else UTC
        return WeeklyTime(parse_days("Mon-Fri"), parse_clock("09:00"), zone)

    def _schedule_report(self, catch_up: bool = False) -> None:
        clock, scheduler, now = self.config.report_time, self.scheduler, time.time()
        if clock is None or scheduler is None:
            return
        due = float(self.store.get_state(REPORT_DUE_KEY, "0") or 0)
        if catch_up and due and 0 <= now - due < REPORT_CATCH_UP_SECONDS:
            scheduler.run_at(REPORT_JOB, now)  # `schedule` never catches up; the per-day key keeps it to one post
        next_run = clock.next_after(now)
        self.store.set_state(REPORT_DUE_KEY, str(next_run))
        scheduler.run_at(REPORT_JOB, next_run)

    def daily_report(self) -> None:
        try:
            now = time.time()
            clock = self._report_clock()
            if clock.local_date(now).weekday() in clock.days:
                self.post_reports(self.config.channels, clock.local_date(now).isoformat(), now)
        finally:
            self._schedule_report()

    def post_reports(self, channels: tuple[str, ...] | list[str], key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        texts = {channel: self.report_for(channel, now) for channel in channels}
        with self.store.write() as db:
            for channel, text in texts.items():
                records.queue_post(
                    db, self.runtime.outbox, source=f"report:{channel}:{key}", channel=channel, kind="report", text=text
                )
        self._kick()

    def report_for(self, channel: str, now: float) -> str:
        clock = self._report_clock()
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
                self.desk.ticket_url(r["ticket_id"]),
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

    def command(self, user_id: str, channel_id: str, text: str) -> str:
        return support_command(self, user_id, channel_id, text)


def create(runtime: Foundation) -> SupportService:
    return SupportService(runtime, parse_config(runtime.settings))
