"""The `dispatch.issue` step: the alert's GitHub audit issue, opened once (or found), then its messages queued.
A body longer than GitHub allows opens the issue with its first part; the rest follows as comments, in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.dispatch import rules
from bot.dispatch.alerts import AlertStore, record, set_alert
from bot.dispatch.audit_texts import github_parts, issue_body
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.github_audit import GitHubAudit, GitHubRejected, IssueRef
from bot.dispatch.message_spec import Message
from bot.store import Store
from bot.text import quoted

log = logging.getLogger(__name__)


class IssueFiling:
    def __init__(
        self,
        store: Store,
        alerts: AlertStore,
        github: GitHubAudit,
        follow_ups: FollowUps,
        kick: Callable[[], None],
    ):
        self.store = store
        self.alerts = alerts
        self.github = github
        self.follow_ups = follow_ups
        self.kick = kick  # run the outbox again soon: the messages should not wait for its next tick

    def open_issue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        if alert is None or alert["state"] != rules.RECEIVED:
            return None
        message = self.alerts.message(alert)
        repo = str(alert["repo"])
        key = f"dispatch:{alert['id']}:issue"
        earlier = self.alerts.earlier_attempt(key)
        ref: IssueRef | None = None
        if earlier is not None:  # an earlier create may have reached GitHub: adopt its issue instead of a second one
            ref = self.github.find_created_after(repo, message.github_title, int(earlier.detail or 0))
        else:
            existing = self.github.find_by_title(repo, message.github_title, message.retrigger)
            if existing is not None and not rules.reuses_existing_issue(message.type):
                return self._skip(alert, existing)
            if existing is not None:
                return self._issue_ready(alert, message, existing, key, reused=True)
        if ref is None:
            self.github.pacer.reserve()
            if earlier is None:
                self.alerts.begin_attempt(key, str(self.github.newest_number(repo)))
            try:
                first_part = github_parts(issue_body(message))[0]
                ref = self.github.create_issue(repo, message.github_title, first_part, message.labels)
            except GitHubRejected as error:
                self.alerts.clear_attempt(key)
                return self._issue_failed(alert, message, str(error))
        return self._issue_ready(alert, message, ref, key, reused=False)

    def _skip(self, alert: dict[str, Any], existing: IssueRef) -> dict[str, Any]:
        log.info("dispatch %s: issue %d already exists", quoted(alert["request_id"]), existing.number)
        with self.store.write() as db:
            outcome = f"issue {existing.number} already exists"
            set_alert(db, alert["id"], state=rules.SKIPPED, outcome=outcome, issue_number=existing.number)
            set_alert(db, alert["id"], issue_url=existing.url)
            record(db, alert["id"], f"{outcome} ({alert['repo']}, {existing.state}); nothing sent")
        return {"skipped": existing.number}

    def _queue_messages(self, db: Any, alert_id: int) -> None:
        for recipient in self.alerts.recipients(alert_id):
            self.follow_ups.message(db, alert_id, recipient["id"])

    def _issue_ready(
        self, alert: dict[str, Any], message: Message, ref: IssueRef, key: str, reused: bool
    ) -> dict[str, Any]:
        with self.store.write() as db:
            state = rules.state_after_issue(message.type)
            set_alert(db, alert["id"], issue_number=ref.number, issue_url=ref.url, state=state)
            verb = "is already open; reminding again (nag)" if reused else "opened"
            record(db, alert["id"], f"GitHub issue {alert['repo']}#{ref.number} {verb}")
            self.alerts.clear_attempt(key, db)
            rest = [] if reused else github_parts(issue_body(message))[1:]
            if rest:
                self.follow_ups.comment_parts(db, alert["id"], "issue-body", rest, number=2)
            if rules.messages_people(message.type):
                self._queue_messages(db, alert["id"])
        self.kick()
        return {"issue": ref.number}

    def _issue_failed(self, alert: dict[str, Any], message: Message, error: str) -> dict[str, Any]:
        """GitHub refused for good: the alarm still goes out (without the audit link); people are told."""
        with self.store.write() as db:
            record(db, alert["id"], f"could not open a GitHub issue in {alert['repo']}: {error}")
            state = rules.state_after_failed_issue(message.type)
            if rules.messages_people(message.type):
                set_alert(db, alert["id"], state=state)
                self._queue_messages(db, alert["id"])
            else:
                set_alert(db, alert["id"], state=state, outcome=f"failed to open GitHub issue: {error}")
            text = f"Error: dispatch {alert['request_id']} failed to create GitHub issue {alert['repo']}, {error}"
            self.follow_ups.notice(db, alert, "issue-error", text, to=self.follow_ups.default_channel)
        self.kick()
        return {"error": error}
