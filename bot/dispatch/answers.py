"""Yes, No and Acknowledge clicks, recorded exactly once.

A click only changes the alert's row under a condition (`answer IS NULL`, `acknowledged_at IS NULL`), in the same
transaction that queues what it sets off: of two concurrent answers exactly one wins and the other is told who
answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.dispatch import rules
from bot.dispatch import slack_messages as ui
from bot.dispatch.alerts import AlertStore, record
from bot.dispatch.follow_ups import FollowUps
from bot.store import Store
from bot.text import mention, quoted

log = logging.getLogger(__name__)

Respond = Callable[[str], Any]


def already_answered(alert: dict[str, Any]) -> str:
    if alert["answer"] == rules.NO_RESPONSE:
        return f"This alert was already escalated at {ui.utc(alert['answered_at'])}: nobody answered in time."
    return (
        f"This alert was already answered by {mention(alert['answered_by'])} at {ui.utc(alert['answered_at'])} "
        f"({alert['answer']}). Nothing was changed."
    )


class Answers:
    def __init__(
        self,
        store: Store,
        alerts: AlertStore,
        follow_ups: FollowUps,
        is_admin: Callable[[str], bool],
        on_enqueue: Callable[[], None],
    ):
        self.store = store
        self.alerts = alerts
        self.follow_ups = follow_ups
        self.is_admin = is_admin
        self.on_enqueue = on_enqueue  # run the outbox now: the clicker waits to see the answer take effect

    def click(
        self, alert_id: int, action: str, user_id: str, user_name: str, channel: str, message_ts: str, respond: Respond
    ) -> None:
        """A Yes, No or Acknowledge click (after the ack, on the foundation's pool)."""
        alert = self.alerts.alert(alert_id)
        if alert is None:
            respond("I don't know this alert (was the database reset?). Nothing was changed.")
            return
        if action == ui.ACK:
            self._acknowledge(alert, user_id, channel, message_ts, respond)
            return
        recipients = self.alerts.recipients(alert_id)
        recipient = recipients[0] if recipients else None
        if alert["answer"]:
            respond(already_answered(alert))
            return
        if recipient is None or not rules.is_answerable(alert["state"]):
            respond(f"This alert is not waiting for an answer (it is {ui.state_label(alert)}). Nothing was changed.")
            return
        if not rules.may_answer(user_id, recipient["slack_id"], self.is_admin):
            respond(f"Only {mention(recipient['slack_id'])} (or a Switchboard admin) can answer this alert.")
            return
        answer = rules.YES if action == ui.YES else rules.NO
        now = time.time()
        with self.store.write() as db:
            changed = db.conn.execute(
                "UPDATE dispatch_alerts SET answer = ?, answered_by = ?, answered_at = ?, state = ?, updated_at = ? "
                "WHERE id = ? AND answer IS NULL AND state IN (?, ?)",
                [
                    answer,
                    user_id,
                    now,
                    rules.state_after_answer(answer),
                    now,
                    alert_id,
                    rules.NOTIFYING,
                    rules.AWAITING,
                ],
            ).rowcount
            if changed:
                record(db, alert_id, f"answered {answer.capitalize()}", actor=user_id, now=now)
                fresh = self.alerts.alert(alert_id) or alert
                self.follow_ups.answer(db, fresh, recipient, answer, user_name or user_id)
        if not changed:
            respond(already_answered(self.alerts.alert(alert_id) or alert))
            return
        log.info("dispatch %s: %s answered %s", quoted(alert["request_id"]), user_id, answer)
        self.on_enqueue()

    def _acknowledge(
        self, alert: dict[str, Any], user_id: str, channel: str, message_ts: str, respond: Respond
    ) -> None:
        recipients = self.alerts.recipients(alert["id"])
        recipient = next((r for r in recipients if r["channel"] == channel and r["message_ts"] == message_ts), None)
        recipient = recipient or next((r for r in recipients if r["slack_id"] == user_id), None)
        if recipient is None:
            respond("This message does not belong to that alert. Nothing was changed.")
            return
        if recipient["acknowledged_at"]:
            who = mention(recipient["acknowledged_by"])
            respond(f"Already acknowledged by {who} at {ui.utc(recipient['acknowledged_at'])}. Nothing was changed.")
            return
        if not rules.may_answer(user_id, recipient["slack_id"], self.is_admin):
            respond(f"Only {mention(recipient['slack_id'])} (or a Switchboard admin) can acknowledge this message.")
            return
        now = time.time()
        with self.store.write() as db:
            changed = db.conn.execute(
                "UPDATE dispatch_recipients SET acknowledged_by = ?, acknowledged_at = ? "
                "WHERE id = ? AND acknowledged_at IS NULL",
                [user_id, now, recipient["id"]],
            ).rowcount
            if changed:
                record(db, alert["id"], "acknowledged", actor=user_id, now=now)
                self.follow_ups.acknowledgement(db, alert["id"], recipient["id"])
        if not changed:
            fresh = self.alerts.recipient(recipient["id"]) or recipient
            respond(
                f"Already acknowledged by {mention(fresh['acknowledged_by'])} at {ui.utc(fresh['acknowledged_at'])}."
            )
            return
        self.on_enqueue()
