"""Alarm dispatch (replaces mapbox/dispatch): intake, answers, timeouts, status and counts.

Every intake (CLI, HTTP, SQS, /dispatch) ends in `submit()`; routing then happens step by step in the outbox
(effects.py). Button clicks (answers.py) and the timeout job (timeouts.py) only change the alert's row under a
condition, so of two concurrent answers exactly one wins.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.capability import CapabilityService, Foundation, Job
from bot.clients.sqs import QueueError, connect
from bot.dispatch import daily_figures, rules, waiting_confirmations
from bot.dispatch import slack_messages as ui
from bot.dispatch.alerts import Accepted, AlertStore, accept, reject
from bot.dispatch.answers import Answers
from bot.dispatch.config import DispatchConfig, load
from bot.dispatch.effects import DispatchEffects
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.github_audit import CreationPacer, GitHubAudit
from bot.dispatch.intake_http import IntakeServer
from bot.dispatch.message_spec import SLACK_TYPES, InvalidMessage, Message, parse_message
from bot.dispatch.paging import Pager
from bot.dispatch.slack_people import SlackPeople
from bot.dispatch.sqs_intake import QueueIntake, unwrap_sns
from bot.dispatch.timeouts import Timeouts
from bot.outbox import OUTBOX_JOB, Handler
from bot.settings import SettingsError
from bot.text import escape, quoted

log = logging.getLogger(__name__)

TIMEOUT_JOB = "dispatch.timeouts"


class DispatchService(CapabilityService):
    def __init__(self, foundation: Foundation, config: DispatchConfig):
        self.foundation = foundation
        self.store = foundation.store
        self.config = config
        self.alerts = AlertStore(foundation.store)
        pacer = CreationPacer(foundation.store, config.creates_per_minute, config.creates_per_hour)
        self.github = GitHubAudit(foundation.settings, pacer)
        self.pager = Pager(foundation.settings)
        follow_ups = FollowUps(foundation.outbox, config.default_channel)
        self._effects = DispatchEffects(
            foundation.store, foundation.slack, self.github, self.pager, follow_ups, config, self._kick, self._wake_at
        )
        self.answers = Answers(foundation.store, self.alerts, follow_ups, foundation.is_admin, self._run_outbox)
        self.timeouts = Timeouts(foundation.store, self.alerts, follow_ups, self._run_outbox, config.allow_mentions)
        self.people = SlackPeople(foundation.slack)
        self.intake: IntakeServer | None = None
        if config.http_port is not None and config.http_token:
            self.intake = IntakeServer(
                config.http_host,
                config.http_port,
                config.http_token,
                self.submit_http,
                tls_cert=config.tls_cert,
                tls_key=config.tls_key,
            )
        self.queue_intake: QueueIntake | None = None
        if config.sqs_queue_url is not None:
            self.queue_intake = self._queue_intake(config.sqs_queue_url)

    def _queue_intake(self, queue_url: str) -> QueueIntake:
        """The SQS intake; boto3 is imported only now. A missing boto3 or AWS region stops startup, naming the
        setting."""
        settings, config = self.foundation.settings, self.config
        try:
            queue = connect(
                settings, queue_url, endpoint_url=config.sqs_endpoint_url, wait_seconds=config.sqs_wait_seconds
            )
        except QueueError as error:
            raise SettingsError(f"DISPATCH_SQS_QUEUE_URL cannot be used: {error}") from error
        return QueueIntake(
            queue,
            self.submit_queued,
            wait_seconds=config.sqs_wait_seconds,
            visibility_seconds=config.sqs_visibility_seconds,
            # an unreachable queue is retried like a lost Slack connection: quickly at first, then less often
            backoff_base=settings.retry_profile.reconnect_base,
        )

    # --- the foundation's side --------------------------------------------------------------------
    def jobs(self) -> tuple[Job, ...]:
        seconds = rules.timeout_check_seconds(self.config.confirm_timeout_seconds)
        return (Job(TIMEOUT_JOB, seconds, self.timeouts.check),)

    def effects(self) -> dict[str, Handler]:
        return self._effects.handlers()

    def prune(self, before: float) -> int:
        """Finished alerts older than the retention, with their recipients and history, and old rejects. A
        producer re-sending a requestId after that is taken as new."""
        finished = ", ".join("?" * len(rules.FINAL_STATES))
        old = f"SELECT id FROM dispatch_alerts WHERE state IN ({finished}) AND created_at < ?"
        params = [*rules.FINAL_STATES, before]
        with self.store.write() as db:
            conn = db.conn
            deleted = conn.execute(f"DELETE FROM dispatch_history WHERE alert_id IN ({old})", params).rowcount
            deleted += conn.execute(f"DELETE FROM dispatch_recipients WHERE alert_id IN ({old})", params).rowcount
            deleted += conn.execute(f"DELETE FROM dispatch_alerts WHERE id IN ({old})", params).rowcount
            deleted += conn.execute("DELETE FROM dispatch_rejects WHERE received_at < ?", [before]).rowcount
        return deleted

    def start(self) -> None:
        # After a restart: wake at the exact reminder/escalation moments of alerts still waiting for an answer.
        query = "SELECT remind_at, escalate_at FROM dispatch_alerts WHERE state = ?"
        for row in self.store.query(query, [rules.AWAITING]):
            self._wake_at(row["remind_at"], row["escalate_at"])
        # Only now: a message taken in must find its steps' handlers registered.
        if self.intake is not None:
            self.intake.start()
        if self.queue_intake is not None:
            self.queue_intake.start()

    def counts(self) -> dict[str, int]:
        return self.alerts.counts()

    def digest(self, since: float, until: float) -> list[str]:
        return daily_figures.digest_lines(self.store, since, until)

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        """Every confirmation still waiting, whatever the channels and services: they are personal DMs, and an
        unanswered one escalates (see waiting_confirmations.py)."""
        return waiting_confirmations.open_work(self.store, self.people.workspace_url)

    def close(self) -> None:
        if self.intake is not None:
            self.intake.stop()
        if self.queue_intake is not None:
            self.queue_intake.stop()  # bounded: waits for the batch in hand, not for a long poll

    def _run_outbox(self) -> None:
        self.foundation.outbox.on_enqueue()

    def _kick(self) -> None:
        """Run the outbox again as soon as it is free, so a follow-up step does not wait for the next tick."""
        self.foundation.scheduler.run_at(OUTBOX_JOB, time.time())

    def _wake_at(self, *moments: float | None) -> None:
        now = time.time()
        for moment in moments:
            if moment is not None and moment > now:
                self.foundation.scheduler.run_at(TIMEOUT_JOB, moment)

    # --- intake -----------------------------------------------------------------------------------
    def submit(
        self,
        raw: str | bytes | Mapping[str, Any],
        source: str,
        new_request_id: Callable[[], str] | None = None,
    ) -> tuple[Accepted, Message]:
        """Validate and accept one Dispatch message; InvalidMessage (recorded as a reject) lists every problem.
        `new_request_id` names a message that names no requestId (by default a random one)."""
        try:
            message = parse_message(raw, self.config.message_defaults, new_request_id)
        except InvalidMessage as invalid:
            text = json.dumps(raw) if isinstance(raw, Mapping) else raw
            reject(self.store, source, text, invalid.errors)
            log.warning("dispatch: rejected a message from %s: %s", source, quoted("; ".join(invalid.errors)))
            raise
        request_id = quoted(message.request_id)
        for warning in message.warnings:
            log.warning("dispatch %s: %s", request_id, quoted(warning))
        accepted = accept(self.store, self.foundation.outbox, message, source, self.config.default_channel)
        if accepted.new:
            log.info("dispatch %s: %s accepted from %s", request_id, message.type, source)
            self._run_outbox()
        else:
            log.info("dispatch %s: already received; not routed again", request_id)
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

    def submit_queued(self, body: str, sqs_message_id: str) -> Accepted:
        """One SQS message: an SNS notification or a raw message. One that names no requestId is known by its SNS
        notification's ID (else its SQS message ID), so a redelivery of it is recognised too."""
        try:
            text, notification_id = unwrap_sns(body)
        except InvalidMessage as invalid:
            reject(self.store, "sqs", body, invalid.errors)
            raise
        delivery_id = notification_id or sqs_message_id
        accepted, _ = self.submit(text, "sqs", new_request_id=lambda: delivery_id)
        return accepted

    # --- /dispatch helpers ------------------------------------------------------------------------
    def status(self, user_id: str, request_id: str | None) -> str:
        """An alert, or the latest ten, as far as this user may see them: their own, those sent to them, or (for
        admins) all."""
        if not request_id:
            admin = self.foundation.is_admin(user_id)
            recent = self.alerts.recent(10) if admin else self.alerts.recent_involving(user_id, 10)
            if not recent:
                if admin:
                    return "No dispatch alerts yet. `/dispatch help` shows how to send one."
                return "No dispatch alerts sent by or to you yet. `/dispatch help` shows how to send one."
            return "*Latest dispatch alerts*\n" + "\n".join(f"• {ui.summary_line(a)}" for a in recent)
        alert = self.alerts.by_request_id(request_id)
        recipients = self.alerts.recipients(alert["id"]) if alert else []
        visible = alert is not None and rules.may_see(
            user_id, str(alert["source"]), [r["slack_id"] for r in recipients], self.foundation.is_admin
        )
        if alert is None or not visible:
            # The same answer whether the alert does not exist or is someone else's: its existence is not told.
            return f"No dispatch alert has requestId `{escape(request_id)}`. `/dispatch status` lists the latest ones."
        return ui.status_text(alert, recipients, self.alerts.history(alert["id"]))

    def may_use(self, user_id: str) -> bool:
        """confirm and status: everybody, or DISPATCH_ALLOWED_USERS (users and usergroups) when set; admins always."""
        return rules.may_use(user_id, self.config.allowed, self.foundation.is_admin, self.group_members)

    def may_reach(self, user_id: str) -> bool:
        """page, broadcast and json: admins and DISPATCH_ALLOWED_USERS (`*`: everybody)."""
        return rules.may_reach(user_id, self.config.allowed, self.foundation.is_admin, self.group_members)

    def over_broadcast_cap(self, user_id: str, recipients: int) -> bool:
        return rules.over_broadcast_cap(recipients, self.config.broadcast_max, self.foundation.is_admin, user_id)

    def recipient_count(self, raw: str) -> int:
        """How many people a raw message would message (0 when it is invalid: submitting it reports why)."""
        try:
            message = parse_message(raw, self.config.message_defaults)
        except InvalidMessage:
            return 0
        return len(message.recipients) if message.type in SLACK_TYPES else 0

    def is_admin(self, user_id: str) -> bool:
        return self.foundation.is_admin(user_id)

    def group_members(self, group_id: str) -> frozenset[str]:
        """A usergroup's members, read from Slack at most every few minutes."""
        return self.people.group_members(group_id)


def create(foundation: Foundation) -> DispatchService:
    return DispatchService(foundation, load(foundation.settings))
