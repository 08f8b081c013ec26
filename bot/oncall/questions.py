"""Questions asked in Slack rather than by slash command: `@Switchboard who is on call [for <schedule>]` in a
channel (an `app_mention` event) or "who is on call" in a DM with the bot (a `message` event of `channel_type` im).

The answer is the one `/oncall [<schedule>]` gives in that conversation, posted for everybody to see through the
outbox: in the thread of the question in a channel, in the conversation itself in a DM (unless asked in a thread).
One answer per question, however often Slack delivers the event: the outbox key is the question's channel and ts.
Like slash commands, questions are paced per person (SWITCHBOARD_COMMANDS_PER_MINUTE); one past that is not answered.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.oncall.commands import CommandHandler
from bot.oncall.effects import MENTION_ANSWER, mention_answer_payload
from bot.oncall.parse import CommandError, OncallCommand, parse_question

if TYPE_CHECKING:
    from bot.oncall.service import OncallService

log = logging.getLogger(__name__)


def answer_key(channel: str, ts: str) -> str:
    return f"oncall:answer:{channel}:{ts}"


def answer_question(service: OncallService, event: dict[str, Any], in_thread: bool) -> bool:
    """Answer the event's question, if it asks one; True when an answer was queued."""
    foundation = service.foundation
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (user and channel and ts) or event.get("subtype") or event.get("bot_id") or user == foundation.bot_user_id:
        return False  # edits, joins, other bots and our own answers ask nothing
    try:
        question = parse_question(str(event.get("text") or ""), foundation.bot_user_id)
    except CommandError as error:  # a question, but one we cannot answer (too many schedules): say why
        question, refusal = OncallCommand("who"), str(error)
    else:
        refusal = None
    if question is None:
        return False
    key = answer_key(channel, ts)
    if foundation.outbox.get(key) is not None:  # a redelivered event: the answer is queued or posted already
        return False
    wait = service.question_pacer.admit(user)
    if wait:  # more questions than SWITCHBOARD_COMMANDS_PER_MINUTE: not answered (each answer costs vendor calls)
        log.info("question from %s not answered: asked too often (again in %.0f s)", user, wait)
        return False
    text = refusal or CommandHandler(service).handle(user, channel, "", question=question)
    thread_ts = event.get("thread_ts") or (ts if in_thread else None)
    new = foundation.outbox.enqueue(key, MENTION_ANSWER, mention_answer_payload(channel, thread_ts, text, key))
    if new:
        log.info("answered who is on call for %s in %s", user, channel)
    return new
