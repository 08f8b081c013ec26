"""Which Slack `message` events the support desk acts on, and what they are: pure rules, unit-tested.

Order of the rules follows the original tool (§3.3): other channels and bots out first, then subtypes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.support.config import SupportConfig

# Subtypes that carry content; everything else (joins, topic changes, pins, …) is not a support message.
CONTENT_SUBTYPES = {None, "file_share", "thread_broadcast", "bot_message"}


@dataclass(frozen=True)
class Inbound:
    """A support-channel message: a new request (top level), a reply in a thread, or an edit of either."""

    channel: str
    ts: str
    thread_ts: str | None  # the parent's ts for a reply; None at top level
    user: str | None
    bot_id: str | None
    bot_name: str | None
    text: str
    files: list[dict[str, str]] = field(default_factory=list)
    edit_ts: str | None = None  # set for an edit: when it was edited

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None

    @property
    def is_edit(self) -> bool:
        return self.edit_ts is not None


def _files(message: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": str(f.get("name") or f.get("title") or "file"), "permalink": str(f.get("permalink") or "")}
        for f in message.get("files") or []
        if isinstance(f, dict)
    ]


def _thread_of(message: dict[str, Any]) -> str | None:
    thread_ts = message.get("thread_ts")
    return thread_ts if thread_ts and thread_ts != message.get("ts") else None


def classify(event: dict[str, Any], config: SupportConfig, bot_user_id: str) -> Inbound | None:
    """The support message in a `message` event, or None when the desk should ignore it."""
    if event.get("channel") not in config.channels or config.processing_disabled:
        return None
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _edit(event, config, bot_user_id)
    if subtype not in CONTENT_SUBTYPES:
        return None  # deletions, joins, topic/name/purpose changes, pins, me_message, …
    bot_id = event.get("bot_id")
    if bot_id and bot_id not in config.allowed_bot_ids:
        return None
    if subtype == "bot_message" and not bot_id:
        return None
    user = event.get("user")
    if user == bot_user_id or not (user or bot_id):
        return None
    text, files = str(event.get("text") or ""), _files(event)
    if not text.strip() and not files:
        return None
    bot_name = (
        (event.get("username") or (event.get("bot_profile") or {}).get("name") or "Unnamed bot") if bot_id else None
    )
    return Inbound(
        event["channel"],
        str(event["ts"]),
        _thread_of(event),
        user if not bot_id else None,
        bot_id,
        bot_name,
        text,
        files,
    )


def _edit(event: dict[str, Any], config: SupportConfig, bot_user_id: str) -> Inbound | None:
    message = event.get("message") or {}
    previous = event.get("previous_message") or {}
    if message.get("bot_id") or message.get("user") in (None, bot_user_id):
        return None  # the bot's own edits, other bots' edits
    if str(message.get("text") or "") == str(previous.get("text") or ""):
        return None  # Slack also sends message_changed for link previews and thread bookkeeping
    edit_ts = str((message.get("edited") or {}).get("ts") or event.get("ts") or event.get("event_ts"))
    return Inbound(
        event["channel"],
        str(message["ts"]),
        _thread_of(message),
        message.get("user"),
        None,
        None,
        str(message.get("text") or ""),
        _files(message),
        edit_ts=edit_ts,
    )
