"""The support desk's outbox effects: each done once, in order, after a restart too.

- `support.create_ticket`: a new Slack message becomes a ticket (Idempotency-Key; a retry after a possible
  success first looks the ticket up by external_id), then the link, on-call and out-of-hours posts are queued.
- `support.forward`: the thread's queued replies, edits and commands go to Zendesk in order.
- `support.link_email_ticket`: an emailed ticket learns its Slack thread.
- `support.post`: the thread's queued posts go to Slack in order (`SlackPoster` in posting.py, which also sends
  them right away when it can).
Each Zendesk handler makes its external write, then records the result and queues what follows in one
transaction. A Zendesk error becomes the outbox's RetryLater (no answer, rate limited, a server error) or GiveUp.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from bot.capability import Foundation
from bot.clients.zendesk import ZendeskApi, ZendeskError
from bot.outbox import GiveUp, Handler, Outbox, RetryLater
from bot.support import records
from bot.support.config import SupportConfig
from bot.support.identifiers import CREATE_TICKET, FORWARD, LINK_EMAIL_TICKET, POST
from bot.support.people import SlackPeople, SlackPerson
from bot.support.posting import SlackPoster
from bot.support.rules import TicketComment, comment_for
from bot.support.text import (
    comment_from_slack,
    permalink,
    slack_to_plain,
    subject_from,
    ticket_description,
    ticket_link,
)
from bot.text import quoted

log = logging.getLogger(__name__)

COMING_TEXT = (
    "🤖 I can't reach Zendesk right now, so your ticket isn't created yet. It is on its way: "
    "I'll post its link here as soon as Zendesk answers."
)


def for_outbox(error: ZendeskError) -> Exception:
    """What an outbox handler raises for a failed Zendesk call: wait (Retry-After, else backoff) or give up."""
    if error.transient:
        return RetryLater(str(error), error.retry_after)
    return GiveUp(str(error))


class SupportEffects:
    def __init__(
        self,
        foundation: Foundation,
        config: SupportConfig,
        zendesk: ZendeskApi,
        people: SlackPeople,
        poster: SlackPoster,
    ):
        self.store = foundation.store
        self.outbox: Outbox = foundation.outbox
        self.config = config
        self.zendesk = zendesk
        self.people = people
        self.poster = poster

    def handlers(self) -> dict[str, Handler]:
        """Outbox kind -> handler, for `SupportService.effects()`."""
        return {
            CREATE_TICKET: self.create_ticket,
            FORWARD: self.send_forwards,
            POST: self.poster.send_posts,
            LINK_EMAIL_TICKET: self.link_email_ticket,
        }

    # --- new tickets -----------------------------------------------------------------------------
    def _author(self, data: dict[str, Any]) -> SlackPerson:
        if data.get("user"):
            return self.people.person(data["user"])
        return SlackPerson("", data.get("bot_name") or "Unnamed bot", None)

    def ticket_fields(self, author: SlackPerson, subject: str, body: str, external_id: str) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "subject": subject,
            "comment": {"body": body, "public": True},
            "external_id": external_id,
            "tags": ["slack"],
        }
        if author.email:
            fields["requester"] = {"name": author.name, "email": author.email}  # found or created by email
        else:
            fields["requester_id"] = self.zendesk.me_id()  # bots and people without a visible email
        if self.config.group_id is not None:
            fields["group_id"] = self.config.group_id
        if self.config.assignee_id is not None:
            fields["assignee_id"] = self.config.assignee_id
        return fields

    def create_ticket(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        thread = records.thread_by_id(self.store, payload["thread_id"])
        if thread is None or thread["state"] != "creating":
            return None  # created already, or forgotten by an admin
        author = self._author(payload)
        plain = slack_to_plain(payload["text"], self.people.name)
        link = permalink(self.people.workspace_url(), payload["channel"], payload["ts"])
        external_id = f"slack:{payload['channel']}:{payload['ts']}"
        fields = self.ticket_fields(
            author, subject_from(plain), ticket_description(plain, author.name, link, payload["files"]), external_id
        )
        try:
            ticket = self._create_once(thread, fields, external_id, f"switchboard-{external_id}")
        except ZendeskError as error:
            if error.transient:
                self._queue_and_send(thread, f"coming:{thread['id']}", "text", COMING_TEXT)
            else:
                self._record_failure(thread, error)
            raise for_outbox(error) from error
        self._ticket_created(thread, ticket, float(payload["ts"]))
        return {"ticket_id": ticket["id"]}

    def _create_once(self, thread: dict[str, Any], fields: dict[str, Any], external_id: str, key: str) -> dict:
        if thread["create_attempted_at"] is not None:
            # An earlier attempt may have reached Zendesk (timeout, crash): adopt that ticket if it exists.
            found = self.zendesk.tickets_with_external_id(external_id)
            if found:
                return min(found, key=lambda t: t["id"])
        self.store.execute(
            "UPDATE support_threads SET create_attempted_at = ? WHERE id = ?", [time.time(), thread["id"]]
        )
        try:
            return self.zendesk.create_ticket(fields, key)
        except ZendeskError as error:
            found = self.zendesk.tickets_with_external_id(external_id) if error.idempotency_clash else []
            if found:
                return min(found, key=lambda t: t["id"])
            raise

    def _ticket_created(self, thread: dict[str, Any], ticket: dict[str, Any], asked_at: float) -> None:
        url = self.zendesk.ticket_url(ticket["id"])
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE support_threads SET state = 'open', ticket_id = ?, ticket_status = ?, subject = ?, "
                "requester_id = ?, error = NULL WHERE id = ?",
                [
                    ticket["id"],
                    ticket.get("status") or "new",
                    ticket.get("subject"),
                    ticket.get("requester_id"),
                    thread["id"],
                ],
            )
            self.poster.queue_announcement(db, thread, url, asked_at)
            if records.pending_forwards(self.store, thread["id"]):  # replies that came while the ticket was on its way
                self.outbox.enqueue(
                    f"support:forward:created:{thread['id']}", FORWARD, {"thread_id": thread["id"]}, db=db
                )
        self.poster.try_send_posts(thread["id"])

    def _record_failure(self, thread: dict[str, Any], error: ZendeskError) -> None:
        log.error("Zendesk refused the ticket for %s/%s: %s", thread["channel_id"], thread["thread_ts"], quoted(error))
        text = (
            f"🤖 I'm unable to talk to Zendesk (API Error {error.status}), so no ticket was created for this "
            "message. An admin can find the details in Switchboard's log."
        )
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE support_threads SET state = 'failed', error = ? WHERE id = ?", [str(error)[:500], thread["id"]]
            )
            records.queue_post(
                db,
                self.outbox,
                source=f"failed:{thread['id']}",
                channel=thread["channel_id"],
                kind="text",
                text=text,
                thread_id=thread["id"],
            )
        self.poster.try_send_posts(thread["id"])

    def _queue_and_send(self, thread: dict[str, Any], source: str, kind: str, text: str) -> None:
        with self.store.write() as db:
            records.queue_post(
                db,
                self.outbox,
                source=source,
                channel=thread["channel_id"],
                kind=kind,
                text=text,
                thread_id=thread["id"],
            )
        self.poster.try_send_posts(thread["id"])

    # --- Slack -> Zendesk ------------------------------------------------------------------------
    def send_forwards(self, payload: dict[str, Any]) -> None:
        thread = records.thread_by_id(self.store, payload["thread_id"])
        pending = records.pending_forwards(self.store, payload["thread_id"])
        if thread is None or not pending:
            return
        if thread["state"] in ("forgotten", "failed"):
            self.store.execute(
                "UPDATE support_forwards SET done_at = ?, outcome = 'skipped: no ticket' "
                "WHERE thread_id = ? AND done_at IS NULL",
                [time.time(), thread["id"]],
            )
            return
        if thread["ticket_id"] is None:
            raise RetryLater("the ticket of this thread is not created yet")
        for forward in pending:
            current = records.thread_by_id(self.store, thread["id"]) or thread  # a follow-up changes the ticket
            self._send_forward(current, forward)
        self.poster.try_send_posts(thread["id"])  # answers queued above ("Understood", a follow-up's link)

    def _finish_forward(self, db: Any, forward_id: int, outcome: str) -> None:
        db.conn.execute(
            "UPDATE support_forwards SET done_at = ?, outcome = ? WHERE id = ?", [time.time(), outcome, forward_id]
        )

    def _comment(self, thread: dict[str, Any], data: dict[str, Any]) -> TicketComment:
        """The reply as a Zendesk comment: public, or an internal note on an emailed ticket (see `comment_for`)."""
        author = self._author(data).name
        meant = comment_for(thread["origin"], data["text"])
        body = comment_from_slack(author, slack_to_plain(meant.text, self.people.name), data["files"], data["edited"])
        return TicketComment(body, meant.public)

    def _send_forward(self, thread: dict[str, Any], forward: dict[str, Any]) -> None:
        data = json.loads(forward["payload"])
        ticket_id = thread["ticket_id"]
        url = self.zendesk.ticket_url(ticket_id)
        try:
            if forward["kind"] == "solve":
                self.zendesk.update_ticket(ticket_id, {"status": self.config.resolve_status})
            else:
                comment = self._comment(thread, data)
                if thread["ticket_status"] == "closed":
                    self._follow_up(thread, forward, data, comment)
                    return
                fields = {"body": comment.text, "author_id": self.zendesk.me_id(), "public": comment.public}
                self.zendesk.update_ticket(ticket_id, {"comment": fields})
        except ZendeskError as error:
            if error.ticket_closed and forward["kind"] != "solve":
                self._follow_up(thread, forward, data, self._comment(thread, data))
            elif error.ticket_closed:
                self._close_row(thread, forward, f"🤖 Ticket {url} is already closed.", "closed", "already closed")
            elif error.transient:
                raise for_outbox(error) from error
            else:  # refused for good: say so and let the rest of the thread's queue move on
                log.error("Zendesk refused %s for ticket %s: %s", forward["source"], ticket_id, quoted(error))
                with self.store.write() as db:
                    self._finish_forward(db, forward["id"], f"refused: {error}"[:300])
            return
        if forward["kind"] == "solve":
            done = "closed" if self.config.resolve_status == "closed" else "marked solved"
            status = self.config.resolve_status
            self._close_row(thread, forward, f"🤖 Understood. Ticket {url} has been {done}.", status, status)
        else:
            with self.store.write() as db:
                self._finish_forward(db, forward["id"], "comment")

    def _close_row(self, thread: dict[str, Any], forward: dict[str, Any], text: str, status: str, outcome: str) -> None:
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE support_threads SET ticket_status = ?, closed_at = COALESCE(closed_at, ?) WHERE id = ?",
                [status, time.time(), thread["id"]],
            )
            self._finish_forward(db, forward["id"], outcome)
            common = {"channel": thread["channel_id"], "thread_id": thread["id"]}
            records.queue_post(db, self.outbox, source=f"solve:{forward['id']}", kind="text", text=text, **common)
            records.queue_post(
                db,
                self.outbox,
                source=f"solve-mark:{forward['id']}",
                kind="reaction",
                text="white_check_mark",
                **common,
            )

    def _follow_up(
        self, thread: dict[str, Any], forward: dict[str, Any], data: dict[str, Any], comment: TicketComment
    ) -> None:
        """A reply to a closed ticket opens a follow-up ticket linked to it (Zendesk's via_followup_source_id).
        Its requester is the reply's author; an internal note stays one (the follow-up's first comment)."""
        old_id = thread["ticket_id"]
        link = permalink(self.people.workspace_url(), thread["channel_id"], thread["thread_ts"])
        fields = self.ticket_fields(
            self._author(data),
            subject_from(f"Follow-up: {thread['subject'] or f'ticket #{old_id}'}"),
            f"{comment.text}\n\n—\nFollow-up of the closed ticket #{old_id}, from the Slack thread {link}",
            f"slack:{thread['channel_id']}:{thread['thread_ts']}",
        )
        fields["comment"]["public"] = comment.public
        fields["via_followup_source_id"] = old_id
        try:
            ticket = self.zendesk.create_ticket(fields, f"switchboard-followup-{forward['id']}")
        except ZendeskError as error:
            if error.transient:
                raise for_outbox(error) from error
            log.error("Zendesk refused a follow-up of ticket %s: %s", old_id, quoted(error))
            with self.store.write() as db:
                self._finish_forward(db, forward["id"], f"refused: {error}"[:300])
            return
        old, new = ticket_link(self.zendesk.ticket_url(old_id), old_id), self.zendesk.ticket_url(ticket["id"])
        previous = ",".join(filter(None, [thread["previous_ticket_ids"], str(old_id)]))
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE support_threads SET ticket_id = ?, ticket_status = ?, closed_at = NULL, "
                "previous_ticket_ids = ? WHERE id = ?",
                [ticket["id"], ticket.get("status") or "new", previous, thread["id"]],
            )
            self._finish_forward(db, forward["id"], f"follow-up {ticket['id']}")
            text = f"🤖 Ticket {old} is closed, so I opened a follow-up ticket for your message: {new}"
            records.queue_post(
                db,
                self.outbox,
                source=f"followup:{forward['id']}",
                channel=thread["channel_id"],
                kind="text",
                text=text,
                thread_id=thread["id"],
            )

    # --- email tickets ---------------------------------------------------------------------------
    def link_email_ticket(self, payload: dict[str, Any]) -> None:
        thread = records.thread_by_id(self.store, payload["thread_id"])
        if thread is None or thread["state"] == "forgotten" or not thread["thread_ts"]:
            return
        link = permalink(self.people.workspace_url(), thread["channel_id"], thread["thread_ts"])
        fields: dict[str, Any] = {
            "external_id": f"slack:{thread['channel_id']}:{thread['thread_ts']}",
            # An internal note: the Slack thread is for the team, the customer could not open the link.
            "comment": {
                "body": f"The support team is aware of this request on Slack here {link}",
                "public": False,
                "author_id": self.zendesk.me_id(),
            },
        }
        if self.config.assignee_id is not None:
            fields["assignee_id"] = self.config.assignee_id
        try:
            self.zendesk.update_ticket(thread["ticket_id"], fields)
        except ZendeskError as error:
            if not error.ticket_closed:
                raise for_outbox(error) from error
