"""Send an answer of any size. A slash command's `response_url` takes five messages at most (Slack's rule), so an
answer longer than that continues in a DM from the bot, which always reaches the person who asked."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Respond

from bot.blocks import answer_messages
from bot.capability import Answer
from bot.clients.slack import SlackApiError, WebClient, slack_error

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5


def reply(respond: Respond, slack: WebClient, user_id: str, answer: Answer) -> None:
    if isinstance(answer, dict):
        respond(**answer)
        return
    messages = answer_messages(answer)
    if len(messages) == 1 and len(answer) <= 3000:
        respond(answer)  # short answers stay plain text, as Slack shows them best
        return
    spill = messages[RESPONSE_URL_USES - 1 :] if len(messages) > RESPONSE_URL_USES else []
    shown = messages[: RESPONSE_URL_USES - 1] if spill else messages
    for message in shown:
        respond(**message, response_type="ephemeral")
    if spill:
        respond(
            text=f"The answer continues in a direct message from me ({len(spill)} more part(s)).",
            response_type="ephemeral",
        )
        _direct(slack, user_id, spill)


def _direct(slack: WebClient, user_id: str, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        try:
            slack.chat_postMessage(channel=user_id, unfurl_links=False, **message)
        except SlackApiError as error:
            log.warning("could not send the rest of an answer to %s: %s", user_id, slack_error(error))
            return
