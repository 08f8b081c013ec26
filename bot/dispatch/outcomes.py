"""What an answer sets off: Yes closes the alert's own issue, No (or no answer in time) pages the alert's own
PagerDuty service, acknowledgements are written to the issue — each an outbox step that cannot happen twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from bot.dispatch import alerts as states
from bot.dispatch.alerts import record, set_alert
from bot.dispatch.github_audit import GitHubRejected
from bot.dispatch.paging import PagingRejected
from bot.dispatch.slack_messages import utc
from bot.dispatch.spec import SELF_SERVICE
from bot.dispatch.steps import Steps

log = logging.getLogger(__name__)

YES, NO, NO_RESPONSE = "yes", "no", "no response"


class Outcomes(Steps):
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            **super().handlers(),
            states.PAGE_STEP: self.page,
            "dispatch.close": self.close_issue,
            "dispatch.comment": self.comment,
            "dispatch.ack_comment": self.comment_acknowledgements,
        }

    # --- answering (called inside the caller's transaction) ---------------------------------------
    def queue_answer(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], answer: str, name: str) -> None:
        """The effects of an answer just recorded on the alert row (Yes, No, or no response)."""
        alert_id = alert["id"]
        self.outbox.enqueue(
            f"dispatch:{alert_id}:update_prompt", "dispatch.update_prompt", {"recipient": recipient["id"]}, db=db
        )
        if answer == YES:
            label = self.alerts.message(alert).yes_label
            body = f'{name} answered "{label}" (yes) in Slack at {utc(alert["answered_at"])}; closing this issue.'
            self.outbox.enqueue(
                f"dispatch:{alert_id}:comment:answer",
                "dispatch.comment",
                {"alert": alert_id, "purpose": "answer", "body": body},
                db=db,
            )
            self.outbox.enqueue(f"dispatch:{alert_id}:close", "dispatch.close", {"alert": alert_id}, db=db)
        else:
            self.outbox.enqueue(
                f"dispatch:{alert_id}:{states.PAGE_STEP}",
                states.PAGE_STEP,
                {"alert": alert_id, "reason": answer, "name": name},
                db=db,
            )

    # --- PagerDuty --------------------------------------------------------------------------------
    def _incident_text(self, alert: dict[str, Any], reason: str, name: str) -> tuple[str, str, str | None]:
        """(title, incident_key, details) exactly as the original, for each reason."""
        message = self.alerts.message(alert)
        if reason == "high":
            return message.pagerduty_title, message.pagerduty_title, message.pagerduty_body
        rid = alert["request_id"]
        where = f"{alert['repo']}/{alert['issue_number']}" if alert["issue_number"] else f"'{alert['title']}'"
        if reason == NO:
            title = f"dispatch {rid}: user {name} responded 'no' for self-service issue {where}"
        else:
            title = f"dispatch {rid}: user {name} did not respond in time for self-service issue {where}"
        details = f"{title}\n\n {alert['issue_url']}" if alert["issue_url"] else title
        return title, rid, details

    def page(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        reason = payload.get("reason", "high")
        if alert is None or alert["state"] not in (states.RECEIVED, states.ESCALATING):
            return None
        title, key, details = self._incident_text(alert, reason, payload.get("name", ""))
        try:
            incident = self.pager.open_incident(str(alert["pd_service"]), title, key, details)
        except PagingRejected as error:
            with self.store.write() as db:
                set_alert(db, alert["id"], state=states.FAILED, outcome=f"failed to create PagerDuty incident: {error}")
                record(db, alert["id"], f"could not create a PagerDuty incident: {error}")
                text = f"Error: dispatch {alert['request_id']} failed to create PagerDuty incident"
                recipient = self._prompted(alert["id"])
                self.notice(db, alert, "page-error", text, to=recipient["channel"] if recipient else None)
                if alert["type"] == SELF_SERVICE:
                    self._comment_later(db, alert, "escalation", self._escalation_comment(alert, reason, payload, None))
            self.kick()
            return {"error": str(error)}
        outcome = {"high": "paged", NO: "escalated", NO_RESPONSE: "escalated: no response"}.get(reason, "escalated")
        if incident.already:
            outcome += " (incident was already open)"
        with self.store.write() as db:
            set_alert(
                db,
                alert["id"],
                state=states.ESCALATED,
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
            if alert["type"] == SELF_SERVICE:
                self._comment_later(
                    db,
                    alert,
                    "escalation",
                    self._escalation_comment(alert, reason, payload, incident.url or incident.id),
                )
        self.kick()
        return {"incident": incident.id, "already": incident.already}

    def _prompted(self, alert_id: int) -> dict[str, Any] | None:
        rows = self.alerts.recipients(alert_id)
        return rows[0] if rows and rows[0]["channel"] else None

    def _escalation_comment(self, alert: dict[str, Any], reason: str, payload: dict[str, Any], link: str | None) -> str:
        message = self.alerts.message(alert)
        if reason == NO:
            said = f'{payload.get("name")} answered "{message.no_label}" (no) in Slack at {utc(alert["answered_at"])}'
        else:
            minutes = self.config.confirm_timeout_seconds / 60
            said = (
                f"No answer in Slack within {minutes:g} minutes (escalated: no response, {utc(alert['answered_at'])})"
            )
        result = f"escalated to PagerDuty: {link}" if link else "the PagerDuty escalation failed"
        return f"{said}; {result}."

    def _comment_later(self, db: Any, alert: dict[str, Any], purpose: str, body: str) -> None:
        payload = {"alert": alert["id"], "purpose": purpose, "body": body}
        self.outbox.enqueue(f"dispatch:{alert['id']}:comment:{purpose}", "dispatch.comment", payload, db=db)

    # --- GitHub -----------------------------------------------------------------------------------
    def close_issue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        if alert is None or alert["state"] != states.CLOSING:
            return None
        if alert["issue_number"]:
            try:
                self.github.close_issue(str(alert["repo"]), int(alert["issue_number"]))
            except GitHubRejected as error:
                return self._close_failed(alert, str(error))
        with self.store.write() as db:
            if alert["issue_number"]:
                set_alert(db, alert["id"], state=states.CLOSED, outcome="closed")
                record(db, alert["id"], f"GitHub issue {alert['repo']}#{alert['issue_number']} closed")
            else:
                set_alert(db, alert["id"], state=states.CLOSED, outcome="closed (there was no GitHub issue to close)")
        return {"closed": alert["issue_number"]}

    def _close_failed(self, alert: dict[str, Any], error: str) -> dict[str, Any]:
        target = f"{alert['repo']}/{alert['issue_number']}"
        with self.store.write() as db:
            set_alert(db, alert["id"], state=states.FAILED, outcome=f"failed to close GitHub issue {target}: {error}")
            record(db, alert["id"], f"could not close GitHub issue {target}: {error}")
            text = f"Error: dispatch {alert['request_id']} failed to close GitHub issue {target}, {error}"
            recipient = self._prompted(alert["id"])
            self.notice(db, alert, "close-error", text, to=recipient["channel"] if recipient else None)
        self.kick()
        return {"error": error}

    def _create_comment(self, alert: dict[str, Any], key: str, body: str) -> bool:
        """One comment, never two: a retry after an interrupted attempt first looks for it. False if refused."""
        repo, number = str(alert["repo"]), int(alert["issue_number"])
        earlier = self.alerts.earlier_attempt(key)
        if earlier is not None and self.github.has_comment(repo, number, body):
            return True
        self.github.pacer.reserve()
        self.alerts.begin_attempt(key)
        try:
            self.github.comment(repo, number, body)
        except GitHubRejected as error:
            self.alerts.clear_attempt(key)
            with self.store.write() as db:
                record(db, alert["id"], f"could not comment on GitHub issue #{number}: {error}")
            return False
        return True

    def comment(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        if alert is None or not alert["issue_number"]:
            return None
        key = f"dispatch:{alert['id']}:comment:{payload['purpose']}"
        if self._create_comment(alert, key, payload["body"]):
            with self.store.write() as db:
                self.alerts.clear_attempt(key, db)
                record(db, alert["id"], f"GitHub comment added ({payload['purpose']})")
        return None

    def comment_acknowledgements(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """One comment for every acknowledgement not yet written: a burst of clicks costs one GitHub write."""
        alert = self.alerts.alert(payload["alert"])
        if alert is None or not alert["issue_number"]:
            return None
        key = f"dispatch:{alert['id']}:ack-comment"
        earlier = self.alerts.earlier_attempt(key)
        if earlier is not None:  # finish the interrupted batch first, with exactly the same text
            batch = json.loads(earlier.detail or "{}")
        else:
            rows = self.store.query(
                "SELECT * FROM dispatch_recipients WHERE alert_id = ? AND acknowledged_at IS NOT NULL "
                "AND ack_commented = 0 ORDER BY acknowledged_at",
                [alert["id"]],
            )
            if not rows:
                return None
            lines = [
                f"- {r['slack_handle'] or r['slack_id']} (`{r['slack_id']}`) at {utc(r['acknowledged_at'])}"
                + (f", for {r['acknowledged_by']}" if r["acknowledged_by"] != r["slack_id"] else "")
                for r in rows
            ]
            batch = {"ids": [r["id"] for r in rows], "body": "Acknowledged in Slack:\n" + "\n".join(lines)}
            self.github.pacer.reserve()
            self.alerts.begin_attempt(key, json.dumps(batch))
        repo, number = str(alert["repo"]), int(alert["issue_number"])
        posted = earlier is not None and self.github.has_comment(repo, number, batch["body"])
        if not posted:
            if earlier is not None:
                self.github.pacer.reserve()
            try:
                self.github.comment(repo, number, batch["body"])
            except GitHubRejected as error:
                log.warning("dispatch %s: could not comment acknowledgements: %s", alert["request_id"], error)
        with self.store.write() as db:
            marks = ",".join("?" for _ in batch["ids"])
            db.conn.execute(f"UPDATE dispatch_recipients SET ack_commented = 1 WHERE id IN ({marks})", batch["ids"])
            self.alerts.clear_attempt(key, db)
            record(db, alert["id"], f"GitHub comment: {len(batch['ids'])} acknowledgement(s)")
        return {"acknowledgements": len(batch["ids"])}
