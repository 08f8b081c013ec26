"""The outbox effects of support threads linked to PagerDuty incidents (queued by incident_links.py).

- `support.incident_note`: once the ticket exists, a note in the thread linking the incident (and what other
  capabilities keep for it, e.g. the status page incident), then the ticket's tag `pd-incident-<number>` and an
  internal note.
- `support.incident_resolved`: the incident is resolved: a short message in the thread and an internal note.
The Slack posts are queued under a unique source (sent once, in the thread's order); the Zendesk update is made
after them, so a retry repeats only the update, whose tag is idempotent.
"""

from __future__ import annotations

from typing import Any

from bot.capability import Foundation
from bot.clients.zendesk import ZendeskApi, ZendeskError
from bot.outbox import Handler, RetryLater
from bot.support import incident_text, records
from bot.support.effects import for_outbox
from bot.support.identifiers import INCIDENT_NOTE, INCIDENT_RESOLVED
from bot.support.incident_links import note_key
from bot.support.posting import SlackPoster


class IncidentEffects:
    def __init__(self, foundation: Foundation, zendesk: ZendeskApi, poster: SlackPoster):
        self.foundation = foundation  # related_links asks every capability
        self.store = foundation.store
        self.outbox = foundation.outbox
        self.zendesk = zendesk
        self.poster = poster

    def handlers(self) -> dict[str, Handler]:
        """Outbox kind -> handler, for `SupportService.effects()`."""
        return {INCIDENT_NOTE: self.note, INCIDENT_RESOLVED: self.resolved}

    def _link(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        return self.store.query_one(
            "SELECT * FROM support_incident_links WHERE thread_id = ? AND account = ? AND incident_id = ?",
            [payload["thread_id"], payload["account"], payload["incident_id"]],
        )

    def note(self, payload: dict[str, Any]) -> None:
        thread = records.thread_by_id(self.store, payload["thread_id"])
        link = self._link(payload)
        if thread is None or link is None or thread["state"] in ("forgotten", "failed"):
            return
        if thread["ticket_id"] is None:
            raise RetryLater("the ticket of this thread is not created yet")  # its link comes first in the thread
        related = self.foundation.related_links([f"{link['account']}/{link['incident_id']}"])
        ref = f"{link['account']}/{link['incident_id']}"
        self._post(thread, f"incident:{thread['id']}:{ref}", incident_text.thread_note(link, related))
        fields = {
            "additional_tags": [incident_text.tag(link)],
            "comment": {
                "body": incident_text.ticket_note(link, related),
                "public": False,
                "author_id": self.zendesk.me_id(),
            },
        }
        self._update(thread["ticket_id"], fields)

    def resolved(self, payload: dict[str, Any]) -> None:
        thread = records.thread_by_id(self.store, payload["thread_id"])
        link = self._link(payload)
        if thread is None or link is None or thread["state"] == "forgotten":
            return
        note = self.outbox.get(note_key(payload["thread_id"], payload["account"], payload["incident_id"]))
        if note is not None and note.state == "pending":
            raise RetryLater("the incident note of this thread is not made yet")  # open before resolved
        ref = f"{link['account']}/{link['incident_id']}"
        self._post(thread, f"incident-resolved:{payload['ticket_id']}:{ref}", incident_text.thread_resolved(link))
        fields = {
            "comment": {
                "body": incident_text.ticket_resolved(link),
                "public": False,
                "author_id": self.zendesk.me_id(),
            }
        }
        self._update(payload["ticket_id"], fields)

    def _post(self, thread: dict[str, Any], source: str, text: str) -> None:
        with self.store.write() as db:
            records.queue_post(
                db,
                self.outbox,
                source=source,
                channel=thread["channel_id"],
                kind="text",
                text=text,
                thread_id=thread["id"],
            )
        self.poster.try_send_posts(thread["id"])

    def _update(self, ticket_id: int, fields: dict[str, Any]) -> None:
        try:
            self.zendesk.update_ticket(ticket_id, fields)
        except ZendeskError as error:
            if not error.ticket_closed:  # a closed ticket takes no note; the thread was told
                raise for_outbox(error) from error
