"""The steps that write to an alert's existing GitHub issue: closing it after a Yes, comments (the answer, the
escalation) and the batched acknowledgements. Each comment is written once: a retry after an interrupted attempt
first looks for it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from bot.dispatch import rules
from bot.dispatch.alerts import AlertStore, record, set_alert
from bot.dispatch.audit_texts import acknowledgements_batch, acknowledgements_comment
from bot.dispatch.follow_ups import FollowUps
from bot.dispatch.github_audit import GitHubAudit, GitHubRejected
from bot.store import Store
from bot.text import quoted

log = logging.getLogger(__name__)


class IssueUpdates:
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
        self.kick = kick  # run the outbox again soon: an error report should not wait for its next tick

    def close_issue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        alert = self.alerts.alert(payload["alert"])
        if alert is None or alert["state"] != rules.CLOSING:
            return None
        if alert["issue_number"]:
            try:
                self.github.close_issue(str(alert["repo"]), int(alert["issue_number"]))
            except GitHubRejected as error:
                return self._close_failed(alert, str(error))
        with self.store.write() as db:
            if alert["issue_number"]:
                set_alert(db, alert["id"], state=rules.CLOSED, outcome="closed")
                record(db, alert["id"], f"GitHub issue {alert['repo']}#{alert['issue_number']} closed")
            else:
                set_alert(db, alert["id"], state=rules.CLOSED, outcome="closed (there was no GitHub issue to close)")
        return {"closed": alert["issue_number"]}

    def _close_failed(self, alert: dict[str, Any], error: str) -> dict[str, Any]:
        target = f"{alert['repo']}/{alert['issue_number']}"
        with self.store.write() as db:
            set_alert(db, alert["id"], state=rules.FAILED, outcome=f"failed to close GitHub issue {target}: {error}")
            record(db, alert["id"], f"could not close GitHub issue {target}: {error}")
            text = f"Error: dispatch {alert['request_id']} failed to close GitHub issue {target}, {error}"
            recipient = self.alerts.prompted_recipient(alert["id"])
            self.follow_ups.notice(db, alert, "close-error", text, to=recipient["channel"] if recipient else None)
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
                if payload.get("more"):  # a text longer than GitHub allows: its next part, now that this one is in
                    self.follow_ups.comment_parts(
                        db, alert["id"], payload["series"], payload["more"], int(payload["number"]) + 1
                    )
            if payload.get("more"):
                self.kick()
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
            rows = acknowledgements_batch(rows)  # within GitHub's limit: the next acknowledgement's step takes the rest
            batch = {"ids": [r["id"] for r in rows], "body": acknowledgements_comment(rows)}
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
                log.warning(
                    "dispatch %s: could not comment acknowledgements: %s", quoted(alert["request_id"]), quoted(error)
                )
        with self.store.write() as db:
            marks = ",".join("?" for _ in batch["ids"])
            db.conn.execute(f"UPDATE dispatch_recipients SET ack_commented = 1 WHERE id IN ({marks})", batch["ids"])
            self.alerts.clear_attempt(key, db)
            record(db, alert["id"], f"GitHub comment: {len(batch['ids'])} acknowledgement(s)")
        return {"acknowledgements": len(batch["ids"])}
