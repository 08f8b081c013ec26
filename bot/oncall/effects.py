"""The on-call capability's outbox effects: the hand-off DM (queued by a sync cycle when ONCALL_HANDOFF_DM is on)."""

from __future__ import annotations

from typing import Any

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import GiveUp, Handler, RetryLater, vendor_retry_after

HANDOFF_DM = "oncall.handoff_dm"
# Slack will never deliver these DMs (the person left, or is a bot): give up rather than retry.
DM_REFUSALS = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "not_allowed_token_type"}


class OncallEffects:
    def __init__(self, slack: WebClient):
        self.slack = slack

    def handlers(self) -> dict[str, Handler]:
        return {HANDOFF_DM: self.send_handoff_dm}

    def send_handoff_dm(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload`: {"user": Slack user id, "text": the message}."""
        try:
            answer = self.slack.chat_postMessage(channel=payload["user"], text=payload["text"])
        except SlackApiError as error:
            code = slack_error(error)
            if code == "ratelimited":
                raise RetryLater(code, vendor_retry_after(error)) from error
            if code in DM_REFUSALS:
                raise GiveUp(code) from error
            raise
        return {"channel": answer.get("channel"), "ts": answer.get("ts")}
