"""The Slack steps of an alert: each recipient's message, the self-service Yes/No prompt, notes and error reports,
and the updates that show an answer or an acknowledgement on the message people clicked.

Content past Block Kit's 50 blocks goes out as continued messages, in order, each posted at most once (its own
attempt key: the step's key, then `:part2`, `:part3`, …). Buttons are at the end, so the last part is the message
people click, the one whose ts is recorded and later updated."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlite_utils

from bot.dispatch import rules
from bot.dispatch import slack_messages as ui
from bot.dispatch.alerts import AlertStore, record, set_recipient
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.message_spec import Message
from bot.dispatch.slack_posting import SlackPoster, SlackRejected
from bot.store import Store

log = logging.getLogger(__name__)


class SlackDelivery:
    def __init__(
        self,
        store: Store,
        alerts: AlertStore,
        poster: SlackPoster,
        follow_ups: FollowUps,
        confirm_timeout_seconds: float,
        kick: Callable[[], None],
        on_prompt: Callable[[float, float], None],
        allow_mentions: bool = False,
    ):
        self.store = store
        self.alerts = alerts
        self.poster = poster
        self.follow_ups = follow_ups
        self.confirm_timeout_seconds = confirm_timeout_seconds
        self.kick = kick  # run the outbox again soon: follow-up steps should not wait for its next tick
        self.on_prompt = on_prompt  # (remind_at, escalate_at): wake the timeout job at those moments
        self.allow_mentions = allow_mentions  # DISPATCH_ALLOW_MENTIONS

    def _mentions(self, alert: dict[str, Any]) -> bool:
        return rules.mentions_allowed(str(alert["source"]), self.allow_mentions)

    def _load(self, alert_id: int) -> tuple[dict[str, Any], Message] | None:
        alert = self.alerts.alert(alert_id)
        return (alert, self.alerts.message(alert)) if alert else None

    def _post_all(
        self, key: str, destination: str, text: str, blocks: list, attachments: list | None = None
    ) -> tuple[str, str, list[str]]:
        """Post content that may take several messages, in order; returns (channel, ts of the last part, the
        attempt keys the caller clears once it has recorded the result). Raises SlackRejected as `post` does."""
        parts = ui.spread(text, blocks)
        keys = [key if number == 1 else f"{key}:part{number}" for number in range(1, len(parts) + 1)]
        channel = ts = ""
        try:
            for number, ((part_text, part_blocks), part_key) in enumerate(zip(parts, keys, strict=True), start=1):
                extra = attachments if number == len(parts) else None  # attachments show under the last part
                channel, ts = self.poster.post(part_key, destination, part_text, part_blocks, extra)
        except SlackRejected:
            for part_key in keys:  # Slack's final answer: nothing is left to look for on a retry
                self.alerts.clear_attempt(part_key)
            raise
        return channel, ts, keys

    def _clear_attempts(self, keys: list[str], db: sqlite_utils.Database | None = None) -> None:
        for key in keys:
            self.alerts.clear_attempt(key, db)

    def _update_last(self, channel: str, ts: str, text: str, blocks: list, attachments: list | None = None) -> None:
        """Update the last part of posted content (the one with the buttons, whose ts was recorded)."""
        last_text, last_blocks = ui.spread(text, blocks)[-1]
        self.poster.update(channel, ts, last_text, last_blocks, attachments)

    def post(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A note or error report (the fallback note, a delivery error, a failed close or page)."""
        key = f"dispatch:{payload['alert']}:post:{payload['purpose']}"
        try:
            channel, ts, keys = self._post_all(
                key, payload["to"], payload["text"], payload["blocks"], payload.get("attachments")
            )
        except SlackRejected as error:
            log.error("dispatch: could not post %s to %s: %s", payload["purpose"], payload["to"], error.code)
            return {"error": error.code}
        self._clear_attempts(keys)
        return {"channel": channel, "ts": ts}

    def send_message(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        recipient = self.alerts.recipient(payload["recipient"])
        if recipient is None or recipient["state"] != "pending":
            return None
        alert, message = self._load(recipient["alert_id"]) or ({}, None)
        if message is None:
            return None
        if not recipient["destination"]:
            return self._delivery_failed(alert, recipient, "no Slack ID and no SLACK_DEFAULT_CHANNEL")
        issue = ui.issue_link(alert["repo"], alert["issue_number"], alert["issue_url"])
        interactive = recipient["slack_id"] is not None
        text, blocks = ui.alert_message(
            alert["id"], recipient["id"], message, issue, interactive=interactive, allow_mentions=self._mentions(alert)
        )
        key = f"dispatch:{alert['id']}:message:{recipient['id']}"
        try:
            channel, ts, keys = self._post_all(key, recipient["destination"], text, blocks)
        except SlackRejected as error:
            return self._delivery_failed(alert, recipient, error.code)
        with self.store.write() as db:
            set_recipient(db, recipient["id"], channel=channel, message_ts=ts, state="sent")
            self._clear_attempts(keys, db)
            if recipient["slack_id"]:
                record(db, alert["id"], "message sent", actor=recipient["slack_id"])
            else:
                record(db, alert["id"], f"message posted in {recipient['destination']} (no Slack user ID)")
                note = ui.fallback_note(alert["id"], recipient["id"], recipient["destination"], alert["request_id"])
                self.follow_ups.post(db, alert["id"], f"fallback:{recipient['id']}", recipient["destination"], note)
            if rules.wants_prompt(message.type, recipient["slack_id"], message.prompt):
                self.follow_ups.prompt(db, alert["id"], recipient["id"])
            self._settle(db, alert["id"], message)
        self.kick()
        return {"channel": channel, "ts": ts}

    def _delivery_failed(self, alert: dict[str, Any], recipient: dict[str, Any], code: str) -> dict[str, Any]:
        """The original's behaviour, fixed: report to the default channel naming the request, and go on."""
        destination = recipient["destination"] or "(nowhere)"
        default_channel = self.follow_ups.default_channel
        with self.store.write() as db:
            set_recipient(db, recipient["id"], state="failed", error=code)
            record(db, alert["id"], f"could not message {destination}: {code}")
            if default_channel:
                text, blocks, attachments = ui.delivery_error(
                    alert["id"], recipient["id"], destination, alert["request_id"], code
                )
                purpose = f"delivery-error:{recipient['id']}"
                self.follow_ups.post(db, alert["id"], purpose, default_channel, (text, blocks), attachments)
            self._settle(db, alert["id"], self.alerts.message(alert))
        self.kick()
        return {"error": code}

    def _settle(self, db: Any, alert_id: int, message: Message) -> None:
        """Once every message is out (or failed), a broadcast or nag is notified; a self-service alert that cannot
        be prompted ends here too."""
        pending = "SELECT 1 FROM dispatch_recipients WHERE alert_id = ? AND state = 'pending' LIMIT 1"
        if db.conn.execute(pending, [alert_id]).fetchone():
            return  # a message is still on its way (cheap for each of a large broadcast's deliveries)
        rows = db.conn.execute(
            "SELECT state, slack_id FROM dispatch_recipients WHERE alert_id = ? ORDER BY position", [alert_id]
        ).fetchall()
        ending = rules.settled(message.type, bool(message.prompt), [(row[0], row[1]) for row in rows])
        if ending is None:
            return
        state, outcome = ending
        db.conn.execute(
            "UPDATE dispatch_alerts SET state = ?, outcome = ?, updated_at = ? WHERE id = ? AND state = ?",
            [state, outcome, time.time(), alert_id, rules.NOTIFYING],
        )

    def send_prompt(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        recipient = self.alerts.recipient(payload["recipient"])
        if recipient is None or recipient["prompt_ts"] or recipient["state"] == "failed":
            return None
        alert, message = self._load(recipient["alert_id"]) or ({}, None)
        if message is None or alert["state"] != rules.NOTIFYING:
            return None
        text, blocks = ui.prompt_message(alert["id"], recipient["id"], message, allow_mentions=self._mentions(alert))
        key = f"dispatch:{alert['id']}:prompt"
        try:
            channel, ts, keys = self._post_all(key, recipient["channel"] or recipient["destination"], text, blocks)
        except SlackRejected as error:
            return self._delivery_failed(alert, recipient, error.code)
        now = time.time()
        remind_at, escalate_at = rules.answer_deadlines(now, self.confirm_timeout_seconds)
        with self.store.write() as db:
            set_recipient(db, recipient["id"], prompt_ts=ts, channel=channel)
            self._clear_attempts(keys, db)
            # A click may already have answered (the button is live the moment Slack has it): only then wait.
            db.conn.execute(
                "UPDATE dispatch_alerts SET state = ?, prompt_sent_at = ?, remind_at = ?, escalate_at = ?, "
                "updated_at = ? WHERE id = ? AND state = ? AND answer IS NULL",
                [rules.AWAITING, now, remind_at, escalate_at, now, alert["id"], rules.NOTIFYING],
            )
            record(db, alert["id"], "asked to confirm (Yes/No)", actor=recipient["slack_id"])
        self.on_prompt(remind_at, escalate_at)
        return {"ts": ts}

    def update_prompt(self, payload: dict[str, Any]) -> None:
        recipient = self.alerts.recipient(payload["recipient"])
        loaded = self._load(recipient["alert_id"]) if recipient else None
        if recipient is None or loaded is None or not recipient["prompt_ts"]:
            return
        alert, message = loaded
        text, blocks, attachments = ui.answered_prompt(
            alert["id"],
            recipient["id"],
            message,
            str(alert["answer"]),
            alert["answered_by"],
            float(alert["answered_at"]),
            alert["issue_url"],
            self.confirm_timeout_seconds / 60,
            allow_mentions=self._mentions(alert),
        )
        self._update_last(recipient["channel"], recipient["prompt_ts"], text, blocks, attachments)

    def update_acknowledged(self, payload: dict[str, Any]) -> None:
        recipient = self.alerts.recipient(payload["recipient"])
        loaded = self._load(recipient["alert_id"]) if recipient else None
        if recipient is None or loaded is None or not recipient["message_ts"]:
            return
        alert, message = loaded
        who, at = recipient["acknowledged_by"], recipient["acknowledged_at"]
        line = f":white_check_mark: Acknowledged by <@{who}> {ui.when(at)}"
        issue = ui.issue_link(alert["repo"], alert["issue_number"], alert["issue_url"])
        text, blocks = ui.alert_message(
            alert["id"], recipient["id"], message, issue, acknowledged=line, allow_mentions=self._mentions(alert)
        )
        self._update_last(recipient["channel"], recipient["message_ts"], text, blocks)
