"""Zendesk → Slack: the `support.poll` job. One export request reads every ticket change since the cursor.

Agents' comments, status changes and new emailed tickets become queued Slack posts; they and the moved cursor
commit in one transaction, and each export event is handled once (the time-based export repeats some). What an
export page means is decided in `ticket_events.py`; `posting.py` sends the posts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlite_utils

from bot.capability import Foundation
from bot.clients.zendesk import ZendeskApi, ZendeskError
from bot.support import records
from bot.support.config import MIN_POLL_SECONDS, SupportConfig
from bot.support.identifiers import CURSOR_KEY, NOT_BEFORE_KEY, POLL_JOB
from bot.support.posting import SlackPoster
from bot.support.rules import after_status_change, wants_email_ticket
from bot.support.text import email_thread_notice, zendesk_to_slack
from bot.support.ticket_events import Audit, NewEmailTicket, StatusChange, ZendeskComment, interpret
from bot.text import escape

log = logging.getLogger(__name__)

FIRST_LOOKBACK_SECONDS = 120  # where the first poll starts: before the minute Zendesk's export holds back
SEEN_KEEP_SECONDS = 3600
EMAIL_EXCERPT = 600  # characters of an email shown in its channel post; a longer one ends with where the rest is


class ZendeskPoll:
    def __init__(
        self,
        foundation: Foundation,
        config: SupportConfig,
        zendesk: ZendeskApi,
        poster: SlackPoster,
        kick: Callable[[], None],
    ):
        self.store = foundation.store
        self.outbox = foundation.outbox
        self.scheduler = foundation.scheduler
        self.config = config
        self.zendesk = zendesk
        self.poster = poster
        self.kick = kick  # wakes the outbox once the page's posts are committed
        self._zendesk_names: dict[int, str] = {}

    def cursor(self) -> int:
        """Where the next export request starts (epoch seconds); 0 before the first poll."""
        return int(self.store.get_state(CURSOR_KEY, "0") or 0)

    def not_before(self) -> float:
        """Zendesk's last Retry-After, as a moment: no export request before it."""
        return float(self.store.get_state(NOT_BEFORE_KEY, "0") or 0)

    def run(self) -> None:
        """One export request: every ticket change since the cursor; the cursor moves in the same transaction.
        A failed request raises ZendeskError, recorded as the job's error; the job keeps its interval."""
        now = time.time()
        not_before = self.not_before()
        if now < not_before:
            log.info("Zendesk asked us to wait; next export request in %.0fs", not_before - now)
            return
        me = self.zendesk.me_id()
        cursor = self.cursor() or int(now) - FIRST_LOOKBACK_SECONDS
        try:
            page = self.zendesk.ticket_events(cursor)
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
        self.kick()
        if not page.get("end_of_stream", True):
            self.scheduler.run_at(POLL_JOB, now + MIN_POLL_SECONDS)  # more to read: soon, within the export limit

    def _learn_names(self, audits: list[Audit], threads: dict[int, dict[str, Any]]) -> None:
        """The Zendesk names the page's posts show: comment authors and email requesters, asked once each."""
        wanted, ours = set(), set(threads)
        for audit in audits:  # in order: an emailed ticket new in this page is ours for the comments after it
            for finding in audit.findings:
                if isinstance(finding, ZendeskComment) and audit.ticket_id in ours:
                    wanted.add(finding.author_id)
                elif isinstance(finding, NewEmailTicket) and wants_email_ticket(self.config, finding):
                    ours.add(finding.ticket_id)
                    if finding.requester_id:
                        wanted.add(finding.requester_id)
        missing = sorted(i for i in wanted if i and i not in self._zendesk_names)
        if missing:
            self._zendesk_names.update(self.zendesk.user_names(missing))

    def _apply(self, db: sqlite_utils.Database, finding: Any, threads: dict[int, dict[str, Any]], at: int) -> None:
        if isinstance(finding, NewEmailTicket):
            self._new_email_thread(db, finding, threads, at)
            return
        thread = threads.get(finding.ticket_id)
        if thread is None:
            return  # a ticket that is not one of ours
        url = self.zendesk.ticket_url(finding.ticket_id)
        common = {"channel": thread["channel_id"], "thread_id": thread["id"]}
        if isinstance(finding, ZendeskComment):
            name = escape(self._zendesk_names.get(finding.author_id, "Zendesk agent"))
            text = f"{name} (Zendesk): {zendesk_to_slack(finding.body, url)}"
            records.queue_post(
                db, self.outbox, source=f"zd-comment:{finding.comment_id}", kind="text", text=text, **common
            )
            if finding.author_id != thread["requester_id"]:  # an agent answered (the bot's comments never come)
                records.record_first_response(db, thread["id"], float(at))
        elif isinstance(finding, StatusChange):
            self._status_changed(db, finding, thread, url, at)

    def _status_changed(
        self, db: sqlite_utils.Database, change: StatusChange, thread: dict[str, Any], url: str, at: int
    ) -> None:
        outcome = after_status_change(change, thread["ticket_status"], thread["closed_at"], float(at))
        common = {"channel": thread["channel_id"], "thread_id": thread["id"]}
        source = f"zd-status:{change.event_id}"
        if outcome.notice == "solved":
            text = f"🤖 Ticket {url} was marked solved in Zendesk."
            records.queue_post(db, self.outbox, source=source, kind="text", text=text, **common)
            records.queue_post(
                db, self.outbox, source=f"zd-mark:{change.event_id}", kind="reaction", text="white_check_mark", **common
            )
        elif outcome.notice == "reopened":
            text = f"🤖 Ticket {url} was reopened in Zendesk."
            records.queue_post(db, self.outbox, source=source, kind="text", text=text, **common)
        db.conn.execute(
            "UPDATE support_threads SET ticket_status = ?, closed_at = ? WHERE id = ?",
            [change.status, outcome.closed_at, thread["id"]],
        )
        thread.update(ticket_status=change.status, closed_at=outcome.closed_at)

    def _new_email_thread(
        self, db: sqlite_utils.Database, ticket: NewEmailTicket, threads: dict[int, dict[str, Any]], at: int
    ) -> None:
        if not wants_email_ticket(self.config, ticket) or ticket.ticket_id in threads:
            return
        channel = self.config.home_channel
        cursor = db.conn.execute(
            "INSERT OR IGNORE INTO support_threads (channel_id, thread_ts, origin, state, ticket_id, ticket_status, "
            "subject, opened_at, requester_id) VALUES (?, NULL, 'email', 'open', ?, ?, ?, ?, ?)",
            [channel, ticket.ticket_id, ticket.status, ticket.subject, float(at), ticket.requester_id],
        )
        if cursor.rowcount != 1:
            return
        row = db.conn.execute("SELECT * FROM support_threads WHERE id = ?", [cursor.lastrowid]).fetchone()
        threads[ticket.ticket_id] = dict(row)
        requester = escape(self._zendesk_names.get(ticket.requester_id or 0, "someone"))
        url = self.zendesk.ticket_url(ticket.ticket_id)
        body = zendesk_to_slack(ticket.body, url, limit=EMAIL_EXCERPT)
        quoted = "\n".join(f">{line}" for line in body.splitlines() if line.strip())
        text = f"📧 *New support request by email* from {requester}: *{escape(ticket.subject)}*\n{quoted}".rstrip()
        # The requester is outside Slack: the thread is told that its replies stay internal unless marked.
        text += "\n" + email_thread_notice(requester)
        records.queue_post(
            db,
            self.outbox,
            source=f"email:{ticket.ticket_id}",
            channel=channel,
            kind="parent",
            text=text,
            thread_id=row["id"],
        )
        # Queued now, so the link and on-call notice come first in the thread, before any Zendesk comment.
        self.poster.queue_announcement(db, dict(row), url, float(at))
