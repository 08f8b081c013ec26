"""The on-call capability's outbox effects: the hand-off DM (queued by a sync cycle when ONCALL_HANDOFF_DM is on)."""

from __future__ import annotations

from typing import Any

from bot.blocks import MAX_SECTION_TEXT, chunks
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import GiveUp, Handler, Outbox, RetryLater, vendor_retry_after

HANDOFF_DM = "oncall.handoff_dm"
# Slack will never deliver these DMs (the person left, or is a bot): give up rather than retry.
DM_REFUSALS = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "not_allowed_token_type"}


def handoff_dm_payload(user: str, text: str, key: str) -> dict[str, Any]:
    """The payload of the hand-off DM queued under `key`. A text too long for one message (someone taking over
    hundreds of schedules) is sent as several, in order, each queued only once the one before it is posted."""
    parts = chunks(text) if len(text) > MAX_SECTION_TEXT else [text]
    if len(parts) == 1:
        return {"user": user, "text": text}
    return {"user": user, "text": parts[0], "key": key, "part": 0, "rest": parts[1:]}


class OncallEffects:
    def __init__(self, slack: WebClient, outbox: Outbox):
        self.slack = slack
        self.outbox = outbox

    def handlers(self) -> dict[str, Handler]:
        return {HANDOFF_DM: self.send_handoff_dm}

    def send_handoff_dm(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload`: {"user": Slack user id, "text": the message}; a part of a longer DM also carries "key" (the
        first part's outbox key), "part" (its number, 0 first) and "rest" (the texts of the parts after it)."""
        try:
            answer = self.slack.chat_postMessage(channel=payload["user"], text=payload["text"])
        except SlackApiError as error:
            code = slack_error(error)
            if code == "ratelimited":
                raise RetryLater(code, vendor_retry_after(error)) from error
            if code in DM_REFUSALS:
                raise GiveUp(code) from error
            raise
        rest = payload.get("rest") or []
        if rest:
            part = int(payload["part"]) + 1  # the first part keeps the key; the next ones are `<key>:<part>`
            follow_up = {**payload, "text": rest[0], "part": part, "rest": rest[1:]}
            self.outbox.enqueue(f"{payload['key']}:{part}", HANDOFF_DM, follow_up)
        return {"channel": answer.get("channel"), "ts": answer.get("ts")}
