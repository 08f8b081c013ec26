"""Posting to Slack at most once per step, and updating posted messages.

chat.postMessage is not idempotent and a request can fail after Slack posted: every post first records an attempt;
a retry of an attempt with an unknown outcome looks for the message it may have posted (recognised by its block_id
marker) before posting again.
"""

from __future__ import annotations

import logging

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.dispatch.alerts import AlertStore
from bot.store import Store

log = logging.getLogger(__name__)

# Slack errors worth retrying; any other error is Slack's final answer (user_not_found, channel_not_found, …).
TRANSIENT_SLACK = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackRejected(Exception):
    """Slack refused the post for good; nothing was posted."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class SlackPoster:
    def __init__(self, store: Store, slack: WebClient, alerts: AlertStore):
        self.store = store
        self.slack = slack
        self.alerts = alerts

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

    def post(
        self, key: str, destination: str, text: str, blocks: list, attachments: list | None = None
    ) -> tuple[str, str]:
        """chat.postMessage at most once per key; returns (channel, ts). The caller clears the attempt on record;
        raises SlackRejected when Slack refused for good."""
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

    def update(self, channel: str, ts: str, text: str, blocks: list, attachments: list | None = None) -> None:
        """chat.update (idempotent); a message that cannot be updated any more is logged, not retried."""
        try:
            self.slack.chat_update(channel=channel, ts=ts, text=text, blocks=blocks, attachments=attachments or [])
        except SlackApiError as error:
            if slack_error(error) in TRANSIENT_SLACK:
                raise
            log.warning("dispatch: could not update message %s in %s: %s", ts, channel, slack_error(error))
