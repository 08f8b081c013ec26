"""Slack announcements of the incident sync, as outbox effects (one per change, never lost, never doubled).

`announce` posts its text as given: callers build it from Slack-safe parts (`bot.text.escape` for vendor text,
`bot.text.link` for every link), since a message posted here may carry PagerDuty, Jira or Statuspage text.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlite_utils

from bot.blocks import MAX_SECTION_TEXT, chunks
from bot.clients.common import retry_after_seconds
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import GiveUp, Handler, Outbox, RetryLater

log = logging.getLogger(__name__)

SLACK_POST = "incidents.slack_post"
PERMANENT_SLACK_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "missing_scope"}


def slack_poster(slack: WebClient) -> Handler:
    """The handler of `incidents.slack_post`. The poller builds it once; both capabilities list that object."""

    def post(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = slack.chat_postMessage(channel=payload["channel"], text=payload["text"], unfurl_links=False)
        except SlackApiError as error:
            code = slack_error(error)
            if code in PERMANENT_SLACK_ERRORS:
                # `code` is one of PERMANENT_SLACK_ERRORS here: a known word, safe in a log line
                log.error("cannot post to %s: %s (invite the bot or fix the setting)", payload["channel"], code)
                raise GiveUp(code) from error
            if code == "ratelimited":
                raise RetryLater(code, retry_after_seconds(error.response.headers, 1.0)) from error
            raise
        return {"ts": answer.get("ts"), "channel": answer.get("channel")}

    return post


def announce(outbox: Outbox, db: sqlite_utils.Database, key: str, channel: str | None, text: str) -> None:
    """Queue one Slack message (no-op without a channel). `key` makes a replayed change announce once. A text too
    long for one message is queued as several, in order, each its own effect (so a retry never repeats a part)."""
    if not channel:
        return
    parts = chunks(text) if len(text) > MAX_SECTION_TEXT else [text]
    for number, part in enumerate(parts):
        suffix = f":{number}" if number else ""  # the first part keeps the key every earlier version used
        outbox.enqueue(f"slack:{key}{suffix}", SLACK_POST, {"channel": channel, "text": part}, db=db)
