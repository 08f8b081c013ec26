"""No answer in time: one reminder halfway through DISPATCH_CONFIRM_TIMEOUT_MINUTES, and at its end escalation as
if the user had said No. Both change the alert's row only under a condition, so a click at the same moment and the
timeout job cannot both win."""

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
from bot.text import quoted

log = logging.getLogger(__name__)


class Timeouts:
    def __init__(
        self,
        store: Store,
        alerts: AlertStore,
        follow_ups: FollowUps,
        on_enqueue: Callable[[], None],
        allow_mentions: bool = False,
    ):
        self.store = store
        self.alerts = alerts
        self.follow_ups = follow_ups
        self.on_enqueue = on_enqueue
        self.allow_mentions = allow_mentions  # DISPATCH_ALLOW_MENTIONS

    def check(self, now: float | None = None) -> None:
        """Remind or escalate every awaiting alert whose moment has come (the `dispatch.timeouts` job)."""
        now = time.time() if now is None else now
        due = self.store.query(
            "SELECT * FROM dispatch_alerts WHERE state = ? AND (escalate_at <= ? OR (reminded_at IS NULL AND "
            "remind_at <= ?)) ORDER BY id",
            [rules.AWAITING, now, now],
        )
        queued = False
        for alert in due:
            recipients = self.alerts.recipients(alert["id"])
            if not recipients:
                continue
            recipient = recipients[0]
            with self.store.write() as db:
                if rules.escalation_due(alert["escalate_at"], now):
                    queued |= self._escalate_unanswered(db, alert, recipient, now)
                else:
                    queued |= self._remind(db, alert, recipient, now)
        if queued:
            self.on_enqueue()

    def _escalate_unanswered(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], now: float) -> bool:
        changed = db.conn.execute(
            "UPDATE dispatch_alerts SET answer = ?, answered_at = ?, state = ?, updated_at = ? "
            "WHERE id = ? AND answer IS NULL AND state = ?",
            [rules.NO_RESPONSE, now, rules.state_after_answer(rules.NO_RESPONSE), now, alert["id"], rules.AWAITING],
        ).rowcount
        if changed:
            record(db, alert["id"], "escalated: no response", now=now)
            fresh = self.alerts.alert(alert["id"]) or alert
            name = recipient["slack_handle"] or recipient["slack_id"]
            self.follow_ups.answer(db, fresh, recipient, rules.NO_RESPONSE, name)
            log.info("dispatch %s: no answer in time; escalating", quoted(alert["request_id"]))
        return bool(changed)

    def _remind(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], now: float) -> bool:
        changed = db.conn.execute(
            "UPDATE dispatch_alerts SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL AND state = ?",
            [now, alert["id"], rules.AWAITING],
        ).rowcount
        if changed:
            mentions = rules.mentions_allowed(str(alert["source"]), self.allow_mentions)
            message = self.alerts.message(alert)
            content = ui.reminder(
                alert["id"], recipient["id"], message, float(alert["escalate_at"]), allow_mentions=mentions
            )
            self.follow_ups.post(db, alert["id"], "reminder", recipient["channel"], content)
            record(db, alert["id"], "reminder sent", actor=recipient["slack_id"], now=now)
        return bool(changed)
