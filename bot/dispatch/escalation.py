"""The `dispatch.page` step: a PagerDuty incident in the alert's own service, for high priority, a No, or no answer
in time. Its incident_key makes a retry find the open incident instead of paging twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dispatch import rules
from bot.dispatch.alerts import AlertStore, record, set_alert
from bot.dispatch.audit_texts import escalation_comment, incident_text
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.paging import Pager, PagingRejected
from bot.store import Store


class Escalation:
    def __init__(
        self,
        store: Store,
        alerts: AlertStore,
        pager: Pager,
        follow_ups: FollowUps,
        confirm_timeout_seconds: float,
        kick: Callable[[], None],
    ):
        self.store = store
        self.alerts = alerts
        self.pager = pager
        self.follow_ups = follow_ups
        self.confirm_timeout_seconds = confirm_timeout_seconds
        self.kick = kick  # run the outbox again soon: the comment and notes should not wait for its next tick

    def page(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        reason = payload.get("reason", rules.HIGH_PRIORITY)
        if alert is None or alert["state"] not in (rules.RECEIVED, rules.ESCALATING):
            return None
        message = self.alerts.message(alert)
        title, key, details = incident_text(alert, message, reason, payload.get("name", ""))
        try:
            incident = self.pager.open_incident(str(alert["pd_service"]), title, key, details)
        except PagingRejected as error:
            with self.store.write() as db:
                set_alert(db, alert["id"], state=rules.FAILED, outcome=f"failed to create PagerDuty incident: {error}")
                record(db, alert["id"], f"could not create a PagerDuty incident: {error}")
                text = f"Error: dispatch {alert['request_id']} failed to create PagerDuty incident"
                recipient = self.alerts.prompted_recipient(alert["id"])
                self.follow_ups.notice(db, alert, "page-error", text, to=recipient["channel"] if recipient else None)
                self._comment_escalation(db, alert, reason, payload, None)
            self.kick()
            return {"error": str(error)}
        with self.store.write() as db:
            outcome = rules.page_outcome(reason, incident.already)
            set_alert(
                db,
                alert["id"],
                state=rules.ESCALATED,
                outcome=outcome,
                incident_id=incident.id,
                incident_url=incident.url,
            )
            what = "already open" if incident.already else "opened"
            record(
                db,
                alert["id"],
                f"PagerDuty incident {incident.id or ''} {what} (key {key}, service {alert['pd_service']})",
            )
            self._comment_escalation(db, alert, reason, payload, incident.url or incident.id)
        self.kick()
        return {"incident": incident.id, "already": incident.already}

    def _comment_escalation(
        self, db: Any, alert: dict[str, Any], reason: str, payload: dict[str, Any], link: str | None
    ) -> None:
        if not rules.comments_escalation(alert["type"]):
            return
        body = escalation_comment(
            self.alerts.message(alert),
            reason,
            payload.get("name"),
            alert["answered_at"],
            self.confirm_timeout_seconds / 60,
            link,
        )
        self.follow_ups.comment(db, alert["id"], "escalation", body)
