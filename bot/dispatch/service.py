"""Alarm dispatch (replaces mapbox/dispatch): intake, answers, acknowledgements, timeouts, status and counts.

Every intake (CLI, HTTP, /dispatch) ends in `submit()`; routing then happens step by step in the outbox
(bot/dispatch/steps.py and outcomes.py). Button clicks and the timeout job only change the alert's row under a
condition (`answer IS NULL`), so of two concurrent answers exactly one wins and the other is told who answered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.capability import CapabilityService, Foundation, Job
from bot.clients.slack import SlackApiError, slack_error
from bot.dispatch import slack_messages as ui
from bot.dispatch.alerts import AWAITING, CLOSING, ESCALATING, NOTIFYING, Accepted, AlertStore, accept, record, reject
from bot.dispatch.config import DispatchConfig, load_config
from bot.dispatch.github_audit import CreationPacer, GitHubAudit
from bot.dispatch.intake_http import IntakeServer
from bot.dispatch.outcomes import NO, NO_RESPONSE, YES, Outcomes
from bot.dispatch.paging import Pager
from bot.dispatch.spec import Defaults, InvalidMessage, Message, parse_message
from bot.outbox import OUTBOX_JOB
from bot.text import mention

log = logging.getLogger(__name__)

TIMEOUT_JOB = "dispatch.timeouts"
USERGROUP_CACHE_SECONDS = 300.0

Respond = Callable[[str], Any]


def defaults_from(config: DispatchConfig) -> Defaults:
    return Defaults(config.default_repo, config.github_default_user, config.default_channel, config.pagerduty_service)


class DispatchService(CapabilityService):
    def __init__(self, runtime: Foundation, config: DispatchConfig):
        self.runtime = runtime
        self.store = runtime.store
        self.config = config
        self.defaults = defaults_from(config)
        self.alerts = AlertStore(runtime.store)
        pacer = CreationPacer(runtime.store, config.creates_per_minute, config.creates_per_hour)
        self.github = GitHubAudit(runtime.settings, pacer)
        self.pager = Pager(runtime.settings)
        self.steps = Outcomes(
            runtime.store, runtime.outbox, runtime.slack, self.github, self.pager, config, self._kick, self._wake_at
        )
        self.steps.register()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self.intake: IntakeServer | None = None
        if config.http_port is not None and config.http_token:
            self.intake = IntakeServer(config.http_host, config.http_port, config.http_token, self.submit_http)
            self.intake.start()

    # --- the runtime's side -----------------------------------------------------------------------
    def jobs(self) -> tuple[Job, ...]:
        return (Job(TIMEOUT_JOB, min(30.0, max(0.5, self.config.confirm_timeout_seconds / 4)), self.check_timeouts),)

    def start(self) -> None:
        # After a restart: wake at the exact reminder/escalation moments of alerts still waiting for an answer.
        for row in self.store.query("SELECT remind_at, escalate_at FROM dispatch_alerts WHERE state = ?", [AWAITING]):
            self._wake_at(row["remind_at"], row["escalate_at"])

    def counts(self) -> dict[str, int]:
        return self.alerts.counts()

    def close(self) -> None:
        if self.intake is not None:
            self.intake.stop()

    def _kick(self) -> None:
        """Run the outbox again as soon as it is free, so a follow-up step does not wait for the next tick."""
        self.runtime.scheduler.run_at(OUTBOX_JOB, time.time())

    def _wake_at(self, *moments: float | None) -> None:
        now = time.time()
        for moment in moments:
            if moment is not None and moment > now:
                self.runtime.scheduler.run_at(TIMEOUT_JOB, moment)

    # --- intake -----------------------------------------------------------------------------------
    def submit(self, raw: str | bytes | Mapping[str, Any], source: str) -> tuple[Accepted, Message]:
        """Validate and accept one Dispatch message; InvalidMessage (recorded as a reject) lists every problem."""
        try:
            message = parse_message(raw, self.defaults)
        except InvalidMessage as invalid:
            text = json.dumps(raw) if isinstance(raw, Mapping) else raw
            reject(self.store, source, text, invalid.errors)
            log.warning("dispatch: rejected a message from %s: %s", source, "; ".join(invalid.errors))
            raise
        for warning in message.warnings:
            log.warning("dispatch %s: %s", message.request_id, warning)
        accepted = accept(self.store, self.runtime.outbox, message, source, self.config.default_channel)
        if accepted.new:
            log.info("dispatch %s: %s accepted from %s", message.request_id, message.type, source)
            self.runtime.outbox.on_enqueue()
        else:
            log.info("dispatch %s: already received; not routed again", message.request_id)
        return accepted, message

    def submit_http(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            accepted, message = self.submit(body, "http")
        except InvalidMessage as invalid:
            return 400, {"errors": invalid.errors}
        answer: dict[str, Any] = {"requestId": accepted.request_id}
        if not accepted.new:
            answer["duplicate"] = True
        if message.warnings:
            answer["warnings"] = list(message.warnings)
        return 202, answer

    # --- answers ----------------------------------------------------------------------------------
    def _may_answer(self, user_id: str, addressee: str | None) -> bool:
        return user_id == addressee or self.runtime.is_admin(user_id)

    def answer(
        self, alert_id: int, action: str, user_id: str, user_name: str, channel: str, message_ts: str, respond: Respond
    ) -> None:
        """A Yes, No or Acknowledge click (after the ack, on the runtime's pool)."""
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
            respond(self._already_answered(alert))
            return
        # NOTIFYING too: the buttons are live as soon as Slack has the prompt, a moment before its ts is recorded.
        if recipient is None or alert["state"] not in (NOTIFYING, AWAITING):
            respond(f"This alert is not waiting for an answer (it is {ui.state_label(alert)}). Nothing was changed.")
            return
        if not self._may_answer(user_id, recipient["slack_id"]):
            respond(f"Only {mention(recipient['slack_id'])} (or a Switchboard admin) can answer this alert.")
            return
        answer = YES if action == ui.YES else NO
        now = time.time()
        with self.store.write() as db:
            changed = db.conn.execute(
                "UPDATE dispatch_alerts SET answer = ?, answered_by = ?, answered_at = ?, state = ?, updated_at = ? "
                "WHERE id = ? AND answer IS NULL AND state IN (?, ?)",
                [answer, user_id, now, CLOSING if answer == YES else ESCALATING, now, alert_id, NOTIFYING, AWAITING],
            ).rowcount
            if changed:
                record(db, alert_id, f"answered {answer.capitalize()}", actor=user_id, now=now)
                fresh = self.alerts.alert(alert_id) or alert
                self.steps.queue_answer(db, fresh, recipient, answer, user_name or user_id)
        if not changed:
            respond(self._already_answered(self.alerts.alert(alert_id) or alert))
            return
        log.info("dispatch %s: %s answered %s", alert["request_id"], user_id, answer)
        self.runtime.outbox.on_enqueue()

    @staticmethod
    def _already_answered(alert: dict[str, Any]) -> str:
        if alert["answer"] == NO_RESPONSE:
            return f"This alert was already escalated at {ui.utc(alert['answered_at'])}: nobody answered in time."
        return (
            f"This alert was already answered by {mention(alert['answered_by'])} at {ui.utc(alert['answered_at'])} "
            f"({alert['answer']}). Nothing was changed."
        )

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
        if not self._may_answer(user_id, recipient["slack_id"]):
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
                key = f"dispatch:{alert['id']}:{{}}:{recipient['id']}"
                payload = {"recipient": recipient["id"]}
                self.runtime.outbox.enqueue(key.format("update_ack"), "dispatch.update_ack", payload, db=db)
                ack = {"alert": alert["id"]}
                self.runtime.outbox.enqueue(key.format("ack_comment"), "dispatch.ack_comment", ack, db=db)
        if not changed:
            fresh = self.alerts.recipient(recipient["id"]) or recipient
            respond(
                f"Already acknowledged by {mention(fresh['acknowledged_by'])} at {ui.utc(fresh['acknowledged_at'])}."
            )
            return
        self.runtime.outbox.on_enqueue()

    # --- no answer in time ------------------------------------------------------------------------
    def check_timeouts(self, now: float | None = None) -> None:
        """One reminder halfway through DISPATCH_CONFIRM_TIMEOUT_MINUTES; at the end, escalate as if they said No."""
        now = time.time() if now is None else now
        due = self.store.query(
            "SELECT * FROM dispatch_alerts WHERE state = ? AND (escalate_at <= ? OR (reminded_at IS NULL AND "
            "remind_at <= ?)) ORDER BY id",
            [AWAITING, now, now],
        )
        queued = False
        for alert in due:
            recipients = self.alerts.recipients(alert["id"])
            if not recipients:
                continue
            recipient = recipients[0]
            with self.store.write() as db:
                if alert["escalate_at"] <= now:
                    queued |= self._escalate_unanswered(db, alert, recipient, now)
                else:
                    queued |= self._remind(db, alert, recipient, now)
        if queued:
            self.runtime.outbox.on_enqueue()

    def _escalate_unanswered(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], now: float) -> bool:
        changed = db.conn.execute(
            "UPDATE dispatch_alerts SET answer = ?, answered_at = ?, state = ?, updated_at = ? "
            "WHERE id = ? AND answer IS NULL AND state = ?",
            [NO_RESPONSE, now, ESCALATING, now, alert["id"], AWAITING],
        ).rowcount
        if changed:
            record(db, alert["id"], "escalated: no response", now=now)
            fresh = self.alerts.alert(alert["id"]) or alert
            self.steps.queue_answer(
                db, fresh, recipient, NO_RESPONSE, recipient["slack_handle"] or recipient["slack_id"]
            )
            log.info("dispatch %s: no answer in time; escalating", alert["request_id"])
        return bool(changed)

    def _remind(self, db: Any, alert: dict[str, Any], recipient: dict[str, Any], now: float) -> bool:
        changed = db.conn.execute(
            "UPDATE dispatch_alerts SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL AND state = ?",
            [now, alert["id"], AWAITING],
        ).rowcount
        if changed:
            content = ui.reminder(alert["id"], recipient["id"], self.alerts.message(alert), float(alert["escalate_at"]))
            self.steps.post_later(db, alert["id"], "reminder", recipient["channel"], content)
            record(db, alert["id"], "reminder sent", actor=recipient["slack_id"], now=now)
        return bool(changed)

    # --- /dispatch helpers ------------------------------------------------------------------------
    def status(self, request_id: str | None) -> str:
        if not request_id:
            recent = self.alerts.recent(10)
            if not recent:
                return "No dispatch alerts yet. `/dispatch help` shows how to send one."
            return "*Latest dispatch alerts*\n" + "\n".join(f"• {ui.summary_line(a)}" for a in recent)
        alert = self.alerts.by_request_id(request_id)
        if alert is None:
            return f"No dispatch alert has requestId `{request_id}`. `/dispatch status` lists the latest ones."
        return ui.status_text(alert, self.alerts.recipients(alert["id"]), self.alerts.history(alert["id"]))

    def may_use(self, user_id: str) -> bool:
        """DISPATCH_ALLOWED_USERS (users and usergroups) when set; admins always may."""
        allowed = self.config.allowed
        if not allowed or user_id in allowed or self.runtime.is_admin(user_id):
            return True
        return any(user_id in self.group_members(group) for group in allowed if group.startswith("S"))

    def group_members(self, group_id: str) -> frozenset[str]:
        cached = self._groups.get(group_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            users = frozenset(self.runtime.slack.usergroups_users_list(usergroup=group_id).get("users") or [])
        except SlackApiError as error:
            log.warning("dispatch: could not read usergroup %s: %s", group_id, slack_error(error))
            return frozenset()
        self._groups[group_id] = (time.monotonic() + USERGROUP_CACHE_SECONDS, users)
        return users


def create(runtime: Foundation) -> DispatchService:
    return DispatchService(runtime, load_config(runtime.settings))
