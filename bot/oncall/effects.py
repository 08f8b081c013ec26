"""The on-call capability's outbox effects: the hand-off DM (queued by a sync cycle when ONCALL_HANDOFF_DM is on)
and the answer to a question asked by @mention or DM ("who is on call"), posted in the question's thread."""

from __future__ import annotations

from typing import Any

from bot.blocks import MAX_SECTION_TEXT, chunks
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import GiveUp, Handler, Outbox, RetryLater, vendor_retry_after

HANDOFF_DM = "oncall.handoff_dm"
MENTION_ANSWER = "oncall.mention_answer"
# Slack will never deliver these DMs (the person left, or is a bot): give up rather than retry.
DM_REFUSALS = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "not_allowed_token_type"}
# Nor an answer to a conversation the bot can no longer post in.
ANSWER_REFUSALS = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "thread_not_found"}


def handoff_dm_payload(user: str, text: str, key: str) -> dict[str, Any]:
    """The payload of the hand-off DM queued under `key`. A text too long for one message (someone taking over
    hundreds of schedules) is sent as several, in order, each queued only once the one before it is posted."""
    parts = chunks(text) if len(text) > MAX_SECTION_TEXT else [text]
    if len(parts) == 1:
        return {"user": user, "text": text}
    return {"user": user, "text": parts[0], "key": key, "part": 0, "rest": parts[1:]}


def mention_answer_payload(channel: str, thread_ts: str | None, text: str, key: str) -> dict[str, Any]:
    """The payload of an answer queued under `key`: in `thread_ts`'s thread (None: in the conversation itself),
    in several messages, in order, when it is too long for one (each part queued once the one before is posted)."""
    payload: dict[str, Any] = {"channel": channel, "text": text}
    if thread_ts:
        payload["thread_ts"] = thread_ts
    parts = chunks(text) if len(text) > MAX_SECTION_TEXT else [text]
    if len(parts) > 1:
        payload.update(text=parts[0], key=key, part=0, rest=parts[1:])
    return payload


class OncallEffects:
    def __init__(self, slack: WebClient, outbox: Outbox):
        self.slack = slack
        self.outbox = outbox

    def handlers(self) -> dict[str, Handler]:
        return {HANDOFF_DM: self.send_handoff_dm, MENTION_ANSWER: self.send_mention_answer}

    def send_handoff_dm(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload`: {"user": Slack user id, "text": the message}; a part of a longer DM also carries "key" (the
        first part's outbox key), "part" (its number, 0 first) and "rest" (the texts of the parts after it)."""
        return self._post(HANDOFF_DM, payload, {"channel": payload["user"]}, DM_REFUSALS)

    def send_mention_answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload`: {"channel", "text", optional "thread_ts"}, and "key", "part", "rest" for a longer answer."""
        where = {"channel": payload["channel"]}
        if payload.get("thread_ts"):
            where["thread_ts"] = payload["thread_ts"]
        return self._post(MENTION_ANSWER, payload, where, ANSWER_REFUSALS)

    def _post(self, kind: str, payload: dict[str, Any], where: dict[str, str], refusals: set[str]) -> dict[str, Any]:
        """Post one part; the next one (its own outbox row) is queued only once this one is posted: in order."""
        try:
            answer = self.slack.chat_postMessage(**where, text=payload["text"])
        except SlackApiError as error:
            code = slack_error(error)
            if code == "ratelimited":
                raise RetryLater(code, vendor_retry_after(error)) from error
            if code in refusals:
                raise GiveUp(code) from error
            raise
        rest = payload.get("rest") or []
        if rest:
            part = int(payload["part"]) + 1  # the first part keeps the key; the next ones are `<key>:<part>`
            follow_up = {**payload, "text": rest[0], "part": part, "rest": rest[1:]}
            self.outbox.enqueue(f"{payload['key']}:{part}", kind, follow_up)
        return {"channel": answer.get("channel"), "ts": answer.get("ts")}
