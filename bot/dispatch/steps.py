"""Every externally visible Dispatch step, as an outbox handler: issue → messages → prompt → answer effects.

Each handler reads the alert's rows, does one vendor write, and records the result together with the next steps in
one transaction. A handler that runs again (a retry, a restart, a duplicate row) sees the recorded state and does
nothing twice: issues, comments and Slack posts go through the attempt journal (a retry looks for the earlier
result before writing), PagerDuty incidents carry an incident_key, closing and chat.update are idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.dispatch import alerts as states
from bot.dispatch import slack_messages as ui
from bot.dispatch.alerts import AlertStore, record, set_alert, set_recipient
from bot.dispatch.config import DispatchConfig
from bot.dispatch.github_audit import GitHubAudit, GitHubRejected, IssueRef
from bot.dispatch.paging import Pager
from bot.dispatch.spec import LOW, NAG, SELF_SERVICE, Message, issue_body
from bot.outbox import Outbox
from bot.store import Store

log = logging.getLogger(__name__)

# Slack errors worth retrying; any other error is Slack's final answer (user_not_found, channel_not_found, …).
TRANSIENT_SLACK = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackRejected(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Steps:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        slack: WebClient,
        github: GitHubAudit,
        pager: Pager,
        config: DispatchConfig,
        kick: Callable[[], None],
        on_prompt: Callable[[float, float], None],
    ):
        self.store = store
        self.outbox = outbox
        self.slack = slack
        self.github = github
        self.pager = pager
        self.config = config
        self.alerts = AlertStore(store)
        self.kick = kick  # run the outbox again soon: follow-up steps should not wait for its next tick
        self.on_prompt = on_prompt  # (remind_at, escalate_at): wake the timeout job at those moments

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """Outbox kind -> handler, for delivery; outcomes.Outcomes adds the answer effects."""
        return {
            states.ISSUE_STEP: self.open_issue,
            "dispatch.message": self.send_message,
            "dispatch.prompt": self.send_prompt,
            "dispatch.post": self.post,
            "dispatch.update_prompt": self.update_prompt,
            "dispatch.update_ack": self.update_acknowledged,
        }

    def register(self) -> None:
        for kind, handler in self.handlers().items():
            self.outbox.register(kind, handler)

    def _load(self, alert_id: int) -> tuple[dict[str, Any], Message] | None:
        alert = self.alerts.alert(alert_id)
        return (alert, self.alerts.message(alert)) if alert else None

    # --- Slack plumbing ---------------------------------------------------------------------------
    def _conversation(self, destination: str) -> str | None:
        if destination[:1] in ("U", "W"):
            return str(self.slack.conversations_open(users=destination)["channel"]["id"])
        if destination.startswith("#"):
            return self.store.get_state(f"dispatch.channel.{destination}")
        return destination

    def _find_posted(self, destination: str, block_id: str, since: float) -> tuple[str, str] | None:
        """The message an interrupted earlier attempt posted, recognised by its block_id marker."""
        try:
            channel = self._conversation(destination)
            if channel is None:
                return None
            history = self.slack.conversations_history(channel=channel, oldest=f"{since - 5:.6f}", limit=200)
        except SlackApiError as error:
            if slack_error(error) in TRANSIENT_SLACK:
                raise
            return None  # the conversation cannot be read (unknown user, not a member): nothing to find
        for message in history.get("messages", []):
            if any(block.get("block_id") == block_id for block in message.get("blocks") or []):
                return channel, str(message["ts"])
        return None

    def _post(
        self, key: str, destination: str, text: str, blocks: list, attachments: list | None = None
    ) -> tuple[str, str]:
        """chat.postMessage at most once per key; returns (channel, ts). The caller clears the attempt on record."""
        earlier = self.alerts.begin_attempt(key)
        if earlier is not None:
            found = self._find_posted(destination, blocks[0]["block_id"], earlier.started_at)
            if found:
                log.info("dispatch: %s had already been posted; not posting again", key)
                return found
        try:
            response = self.slack.chat_postMessage(
                channel=destination, text=text, blocks=blocks, attachments=attachments, unfurl_links=False
            )
        except SlackApiError as error:
            code = slack_error(error)
            if code == "ratelimited" or error.response.status_code == 429:
                # Refused before anything was posted: the retry needs no history lookup (Tier 3, per recipient).
                self.alerts.clear_attempt(key)
                raise
            if code in TRANSIENT_SLACK or error.response.status_code >= 500:
                raise
            self.alerts.clear_attempt(key)  # Slack answered: nothing was posted
            raise SlackRejected(code) from error
        if destination.startswith("#"):
            self.store.set_state(f"dispatch.channel.{destination}", str(response["channel"]))
        return str(response["channel"]), str(response["ts"])

    def _update(self, channel: str, ts: str, text: str, blocks: list, attachments: list | None = None) -> None:
        try:
            self.slack.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, attachments=attachments or [])
        except SlackApiError as error:
            if slack_error(error) in TRANSIENT_SLACK:
                raise
            log.warning("dispatch: could not update message %s in %s: %s", ts, channel, slack_error(error))

    def post_later(
        self, db: Any, alert_id: int, purpose: str, to: str, content: tuple, attachments: list | None = None
    ) -> None:
        """Queue a note for people (inside the caller's transaction); `content` is (text, blocks)."""
        text, blocks = content
        payload = {"alert": alert_id, "purpose": purpose, "to": to, "text": text, "blocks": blocks}
        if attachments:
            payload["attachments"] = attachments
        self.outbox.enqueue(f"dispatch:{alert_id}:post:{purpose}", "dispatch.post", payload, db=db)

    def notice(self, db: Any, alert: dict[str, Any], purpose: str, text: str, to: str | None = None) -> None:
        """Queue an error for people: to `to`, else the alert's Slack requester, else the default channel."""
        source = str(alert["source"])
        destination = to or (source.split(":", 1)[1] if source.startswith("slack:") else self.config.default_channel)
        if not destination:
            log.error("dispatch %s: %s (no SLACK_DEFAULT_CHANNEL to report it to)", alert["request_id"], text)
            return
        self.post_later(db, alert["id"], purpose, destination, ui.error_notice(alert["id"], purpose, text))

    def post(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A note or error report (the fallback note, a delivery error, a failed close or page)."""
        key = f"dispatch:{payload['alert']}:post:{payload['purpose']}"
        try:
            channel, ts = self._post(key, payload["to"], payload["text"], payload["blocks"], payload.get("attachments"))
        except SlackRejected as error:
            log.error("dispatch: could not post %s to %s: %s", payload["purpose"], payload["to"], error.code)
            return {"error": error.code}
        self.alerts.clear_attempt(key)
        return {"channel": channel, "ts": ts}

    # --- the GitHub issue -------------------------------------------------------------------------
    def open_issue(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        loaded = self._load(payload["alert"])
        if loaded is None or loaded[0]["state"] != states.RECEIVED:
            return None
        alert, message = loaded
        repo = str(alert["repo"])
        key = f"dispatch:{alert['id']}:issue"
        earlier = self.alerts.earlier_attempt(key)
        ref: IssueRef | None = None
        if earlier is not None:  # an earlier create may have reached GitHub: adopt its issue instead of a second one
            ref = self.github.find_created_after(repo, message.github_title, int(earlier.detail or 0))
        else:
            existing = self.github.find_by_title(repo, message.github_title, message.retrigger)
            if existing is not None and message.type != NAG:
                return self._skip(alert, existing)
            if existing is not None:
                return self._issue_ready(alert, message, existing, key, reused=True)
        if ref is None:
            self.github.pacer.reserve()
            if earlier is None:
                self.alerts.begin_attempt(key, str(self.github.newest_number(repo)))
            try:
                ref = self.github.create_issue(repo, message.github_title, issue_body(message), message.labels)
            except GitHubRejected as error:
                self.alerts.clear_attempt(key)
                return self._issue_failed(alert, message, str(error))
        return self._issue_ready(alert, message, ref, key, reused=False)

    def _skip(self, alert: dict[str, Any], existing: IssueRef) -> dict[str, Any]:
        log.info("dispatch %s: issue %d already exists", alert["request_id"], existing.number)
        with self.store.write() as db:
            outcome = f"issue {existing.number} already exists"
            set_alert(db, alert["id"], state=states.SKIPPED, outcome=outcome, issue_number=existing.number)
            set_alert(db, alert["id"], issue_url=existing.url)
            record(db, alert["id"], f"{outcome} ({alert['repo']}, {existing.state}); nothing sent")
        return {"skipped": existing.number}

    def _queue_messages(self, db: Any, alert: dict[str, Any]) -> None:
        for recipient in self.alerts.recipients(alert["id"]):
            key = f"dispatch:{alert['id']}:message:{recipient['id']}"
            self.outbox.enqueue(key, "dispatch.message", {"recipient": recipient["id"]}, db=db)

    def _issue_ready(
        self, alert: dict[str, Any], message: Message, ref: IssueRef, key: str, reused: bool
    ) -> dict[str, Any]:
        with self.store.write() as db:
            state = states.FILED if message.type == LOW else states.NOTIFYING
            set_alert(db, alert["id"], issue_number=ref.number, issue_url=ref.url, state=state)
            verb = "is already open; reminding again (nag)" if reused else "opened"
            record(db, alert["id"], f"GitHub issue {alert['repo']}#{ref.number} {verb}")
            self.alerts.clear_attempt(key, db)
            if message.type != LOW:
                self._queue_messages(db, alert)
        self.kick()
        return {"issue": ref.number}

    def _issue_failed(self, alert: dict[str, Any], message: Message, error: str) -> dict[str, Any]:
        """GitHub refused for good: the alarm still goes out (without the audit link); people are told."""
        with self.store.write() as db:
            record(db, alert["id"], f"could not open a GitHub issue in {alert['repo']}: {error}")
            if message.type == LOW:
                set_alert(db, alert["id"], state=states.FAILED, outcome=f"failed to open GitHub issue: {error}")
            else:
                set_alert(db, alert["id"], state=states.NOTIFYING)
                self._queue_messages(db, alert)
            text = f"Error: dispatch {alert['request_id']} failed to create GitHub issue {alert['repo']}, {error}"
            self.notice(db, alert, "issue-error", text, to=self.config.default_channel)
        self.kick()
        return {"error": error}

    # --- Slack messages ---------------------------------------------------------------------------
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
        text, blocks = ui.alert_message(alert["id"], recipient["id"], message, issue, interactive=interactive)
        key = f"dispatch:{alert['id']}:message:{recipient['id']}"
        try:
            channel, ts = self._post(key, recipient["destination"], text, blocks)
        except SlackRejected as error:
            return self._delivery_failed(alert, recipient, error.code)
        with self.store.write() as db:
            set_recipient(db, recipient["id"], channel=channel, message_ts=ts, state="sent")
            self.alerts.clear_attempt(key, db)
            if recipient["slack_id"]:
                record(db, alert["id"], "message sent", actor=recipient["slack_id"])
            else:
                record(db, alert["id"], f"message posted in {recipient['destination']} (no Slack user ID)")
                note = ui.fallback_note(alert["id"], recipient["id"], recipient["destination"], alert["request_id"])
                self.post_later(db, alert["id"], f"fallback:{recipient['id']}", recipient["destination"], note)
            if message.type == SELF_SERVICE and recipient["slack_id"] and message.prompt:
                prompt = {"recipient": recipient["id"]}
                self.outbox.enqueue(f"dispatch:{alert['id']}:prompt", "dispatch.prompt", prompt, db=db)
            self._settle(db, alert["id"], message)
        self.kick()
        return {"channel": channel, "ts": ts}

    def _delivery_failed(self, alert: dict[str, Any], recipient: dict[str, Any], code: str) -> dict[str, Any]:
        """The original's behaviour, fixed: report to the default channel naming the request, and go on."""
        destination = recipient["destination"] or "(nowhere)"
        with self.store.write() as db:
            set_recipient(db, recipient["id"], state="failed", error=code)
            record(db, alert["id"], f"could not message {destination}: {code}")
            if self.config.default_channel:
                text, blocks, attachments = ui.delivery_error(
                    alert["id"], recipient["id"], destination, alert["request_id"], code
                )
                purpose = f"delivery-error:{recipient['id']}"
                self.post_later(db, alert["id"], purpose, self.config.default_channel, (text, blocks), attachments)
            self._settle(db, alert["id"], self.alerts.message(alert))
        self.kick()
        return {"error": code}

    def _settle(self, db: Any, alert_id: int, message: Message) -> None:
        """Once every message is out (or failed), a broadcast or nag is notified; a self-service alert that cannot
        be prompted ends here too."""
        rows = db.conn.execute(
            "SELECT state, slack_id, prompt_ts FROM dispatch_recipients WHERE alert_id = ?", [alert_id]
        ).fetchall()
        if any(row[0] == "pending" for row in rows):
            return
        failed = sum(1 for row in rows if row[0] == "failed")
        outcome = f"{len(rows) - failed} of {len(rows)} delivered" if failed else None
        if message.type == SELF_SERVICE:
            if failed:
                outcome = "could not message the user"
            elif rows and rows[0][1] and message.prompt:
                return  # the prompt is on its way: the alert will await the answer
            else:
                outcome = "no prompt: users[0] has no Slack user ID"
        state = states.FAILED if failed == len(rows) else states.NOTIFIED
        db.conn.execute(
            "UPDATE dispatch_alerts SET state = ?, outcome = ?, updated_at = ? WHERE id = ? AND state = ?",
            [state, outcome, time.time(), alert_id, states.NOTIFYING],
        )

    def send_prompt(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        recipient = self.alerts.recipient(payload["recipient"])
        if recipient is None or recipient["prompt_ts"] or recipient["state"] == "failed":
            return None
        alert, message = self._load(recipient["alert_id"]) or ({}, None)
        if message is None or alert["state"] != states.NOTIFYING:
            return None
        text, blocks = ui.prompt_message(alert["id"], recipient["id"], message)
        key = f"dispatch:{alert['id']}:prompt"
        try:
            channel, ts = self._post(key, recipient["channel"] or recipient["destination"], text, blocks)
        except SlackRejected as error:
            return self._delivery_failed(alert, recipient, error.code)
        now, timeout = time.time(), self.config.confirm_timeout_seconds
        with self.store.write() as db:
            set_recipient(db, recipient["id"], prompt_ts=ts, channel=channel)
            self.alerts.clear_attempt(key, db)
            # A click may already have answered (the button is live the moment Slack has it): only then wait.
            db.conn.execute(
                "UPDATE dispatch_alerts SET state = ?, prompt_sent_at = ?, remind_at = ?, escalate_at = ?, "
                "updated_at = ? WHERE id = ? AND state = ? AND answer IS NULL",
                [states.AWAITING, now, now + timeout / 2, now + timeout, now, alert["id"], states.NOTIFYING],
            )
            record(db, alert["id"], "asked to confirm (Yes/No)", actor=recipient["slack_id"])
        self.on_prompt(now + timeout / 2, now + timeout)
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
            self.config.confirm_timeout_seconds / 60,
        )
        self._update(recipient["channel"], recipient["prompt_ts"], text, blocks, attachments)

    def update_acknowledged(self, payload: dict[str, Any]) -> None:
        recipient = self.alerts.recipient(payload["recipient"])
        loaded = self._load(recipient["alert_id"]) if recipient else None
        if recipient is None or loaded is None or not recipient["message_ts"]:
            return
        alert, message = loaded
        who, at = recipient["acknowledged_by"], recipient["acknowledged_at"]
        line = f":white_check_mark: Acknowledged by <@{who}> {ui.when(at)}"
        issue = ui.issue_link(alert["repo"], alert["issue_number"], alert["issue_url"])
        text, blocks = ui.alert_message(alert["id"], recipient["id"], message, issue, acknowledged=line)
        self._update(recipient["channel"], recipient["message_ts"], text, blocks)
