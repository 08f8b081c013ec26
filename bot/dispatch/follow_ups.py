"""Queues the outbox steps that follow a change just recorded, inside the caller's transaction: the change and what
it sets off are stored together or not at all. Each step's key makes it happen once however often it is queued."""

from __future__ import annotations

import logging
from typing import Any

from bot.dispatch import rules
from bot.dispatch import slack_messages as ui
from bot.dispatch.audit_texts import github_parts, yes_comment
from bot.dispatch.message_spec import Message
from bot.outbox import Outbox
from bot.text import quoted

log = logging.getLogger(__name__)


class FollowUps:
    def __init__(self, outbox: Outbox, default_channel: str | None):
        self.outbox = outbox
        self.default_channel = default_channel

    def message(self, db: Any, alert_id: int, recipient_id: int) -> None:
        key = f"dispatch:{alert_id}:message:{recipient_id}"
        self.outbox.enqueue(key, rules.MESSAGE_STEP, {"recipient": recipient_id}, db=db)

    def prompt(self, db: Any, alert_id: int, recipient_id: int) -> None:
        self.outbox.enqueue(f"dispatch:{alert_id}:prompt", rules.PROMPT_STEP, {"recipient": recipient_id}, db=db)

    def post(
        self, db: Any, alert_id: int, purpose: str, to: str, content: tuple, attachments: list | None = None
    ) -> None:
        """A note for people; `content` is (text, blocks)."""
        text, blocks = content
        payload = {"alert": alert_id, "purpose": purpose, "to": to, "text": text, "blocks": blocks}
        if attachments:
            payload["attachments"] = attachments
        self.outbox.enqueue(f"dispatch:{alert_id}:post:{purpose}", rules.POST_STEP, payload, db=db)

    def notice(self, db: Any, alert: dict[str, Any], purpose: str, text: str, to: str | None = None) -> None:
        """An error for people: to `to`, else the alert's Slack requester, else the default channel."""
        source = str(alert["source"])
        destination = to or (source.split(":", 1)[1] if source.startswith("slack:") else self.default_channel)
        if not destination:
            log.error(
                "dispatch %s: %s (no SLACK_DEFAULT_CHANNEL to report it to)", quoted(alert["request_id"]), quoted(text)
            )
            return
        self.post(db, alert["id"], purpose, destination, ui.error_notice(alert["id"], purpose, text))

    def comment(self, db: Any, alert_id: int, purpose: str, body: str) -> None:
        """A comment on the alert's issue; one longer than GitHub allows becomes several, posted in order."""
        self.comment_parts(db, alert_id, purpose, github_parts(body))

    def comment_parts(self, db: Any, alert_id: int, purpose: str, parts: list[str], number: int = 1) -> None:
        """The first of `parts` as a comment; once it is written, its step queues the next (so they stay in order).
        Part 1 keeps the purpose's own key; later parts add `:partN`."""
        step = purpose if number == 1 else f"{purpose}:part{number}"
        payload: dict[str, Any] = {"alert": alert_id, "purpose": step, "body": parts[0]}
        if len(parts) > 1:
            payload.update({"more": parts[1:], "series": purpose, "number": number})
        self.outbox.enqueue(f"dispatch:{alert_id}:comment:{step}", rules.COMMENT_STEP, payload, db=db)

    def answer(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], answer: str, name: str) -> None:
        """What an answer just recorded on the alert row sets off: the prompt shows it; Yes comments on the issue
        and closes it, No (or no answer in time) pages."""
        alert_id = alert["id"]
        self.outbox.enqueue(
            f"dispatch:{alert_id}:update_prompt", rules.UPDATE_PROMPT_STEP, {"recipient": recipient["id"]}, db=db
        )
        if answer == rules.YES:
            label = Message.from_json(alert["message"]).yes_label
            self.comment(db, alert_id, "answer", yes_comment(name, label, alert["answered_at"]))
            self.outbox.enqueue(f"dispatch:{alert_id}:close", rules.CLOSE_STEP, {"alert": alert_id}, db=db)
        else:
            payload = {"alert": alert_id, "reason": answer, "name": name}
            self.outbox.enqueue(f"dispatch:{alert_id}:{rules.PAGE_STEP}", rules.PAGE_STEP, payload, db=db)

    def acknowledgement(self, db: Any, alert_id: int, recipient_id: int) -> None:
        """An Acknowledge click: the message shows who acknowledged, and the issue gets it (batched)."""
        key = f"dispatch:{alert_id}:{{}}:{recipient_id}"
        self.outbox.enqueue(key.format("update_ack"), rules.UPDATE_ACK_STEP, {"recipient": recipient_id}, db=db)
        self.outbox.enqueue(key.format("ack_comment"), rules.ACK_COMMENT_STEP, {"alert": alert_id}, db=db)
