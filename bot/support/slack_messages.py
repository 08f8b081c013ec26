"""Support-channel messages → the support desk's queue: a new request, a reply or an edit in a thread.

Each fact is written to SQLite under a unique key together with its outbox effect, in one transaction, so a
redelivered or concurrent Slack event changes nothing. `effects.py` makes the Zendesk writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.capability import Foundation
from bot.clients.zendesk import ZendeskApi
from bot.support import records
from bot.support.config import SupportConfig
from bot.support.identifiers import CREATE_TICKET
from bot.support.incident_links import IncidentLinks
from bot.support.rules import Inbound, classify, is_first_response_by, thread_command
from bot.support.text import help_text

log = logging.getLogger(__name__)


def effect_payload(message: Inbound, **extra: Any) -> dict[str, Any]:
    """What the Zendesk effect needs of the message (it is stored, so the effect needs nothing else from Slack)."""
    return {
        "channel": message.channel,
        "ts": message.ts,
        "user": message.user,
        "bot_name": message.bot_name,
        "text": message.text,
        "files": message.files,
        **extra,
    }


class SlackMessages:
    def __init__(
        self,
        foundation: Foundation,
        config: SupportConfig,
        zendesk: ZendeskApi,
        incident_links: IncidentLinks,
        kick: Callable[[], None],
    ):
        self.store = foundation.store
        self.outbox = foundation.outbox
        self.bot_user_id = foundation.bot_user_id
        self.config = config
        self.zendesk = zendesk
        self.incident_links = incident_links
        self.kick = kick  # wakes the outbox once this message's effects are committed

    def handle(self, event: dict[str, Any]) -> None:
        """One Slack `message` event (any channel: those outside the support channels are ignored)."""
        message = classify(event, self.config, self.bot_user_id)
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
        self.kick()

    def _new_request(self, message: Inbound) -> None:
        incidents = self.incident_links.open_on(message.channel)  # the poller's snapshot, read outside the write
        with self.store.write() as db:
            cursor = db.conn.execute(
                "INSERT OR IGNORE INTO support_threads (channel_id, thread_ts, origin, state, opened_at, asker_id) "
                "VALUES (?, ?, 'slack', 'creating', ?, ?)",
                [message.channel, message.ts, float(message.ts), message.user or message.bot_id],
            )
            if cursor.rowcount != 1:
                log.info("message %s/%s is already in Zendesk", message.channel, message.ts)
                return
            payload = effect_payload(message, thread_id=cursor.lastrowid)
            key = f"support:create:{message.channel}:{message.ts}"
            self.outbox.enqueue(key, CREATE_TICKET, payload, db=db)
            self.incident_links.link(db, cursor.lastrowid, incidents)

    def _reply(self, message: Inbound) -> None:
        thread = records.thread_by_slack(self.store, message.channel, message.thread_ts or "")
        if thread is None:
            log.info("reply %s in %s belongs to no support thread (an old thread?)", message.ts, message.channel)
            return
        command = None if message.files else thread_command(message.text)
        source = f"{message.channel}:{message.ts}"
        answers = is_first_response_by(message.user or message.bot_id, thread["asker_id"], command)
        with self.store.write() as db:
            if answers:
                records.record_first_response(db, thread["id"], float(message.ts))
            if command == "help":
                url = self.zendesk.ticket_url(thread["ticket_id"]) if thread["ticket_id"] else None
                text = help_text(url, self.config.resolve_status, emailed=thread["origin"] == "email")
                common = {"channel": message.channel, "thread_id": thread["id"]}
                records.queue_post(db, self.outbox, source=f"help:{source}", kind="text", text=text, **common)
            else:  # `resolve` solves the ticket; anything else becomes a comment
                kind, prefix = ("solve", "solve") if command == "resolve" else ("comment", "reply")
                records.queue_forward(
                    db,
                    self.outbox,
                    source=f"{prefix}:{source}",
                    thread_id=thread["id"],
                    kind=kind,
                    slack_ts=message.ts,
                    payload=effect_payload(message, edited=False),
                )

    def _edit(self, message: Inbound) -> None:
        thread = records.thread_by_slack(self.store, message.channel, message.thread_ts or message.ts)
        if thread is None or thread_command(message.text):
            return  # not a support message, or a command typed by editing: commands act only when sent
        with self.store.write() as db:
            records.queue_forward(
                db,
                self.outbox,
                source=f"edit:{message.channel}:{message.ts}:{message.edit_ts}",
                thread_id=thread["id"],
                kind="comment",
                slack_ts=message.edit_ts or message.ts,
                payload=effect_payload(message, edited=True),
            )
