"""A post's text, however long, as Slack messages within Block Kit's limits (the limits live in bot/blocks.py).

A Zendesk comment can be 45,000 characters and the report lists every open ticket, so a post may be longer than
one message can hold. When it is queued, its text is split into parts (`post_parts`), each queued as its own post
with its own outbox effect: the parts go out in order, and a restart between two parts sends the rest, never one
twice. When a part is sent, `slack_messages` gives its chat.postMessage content: short text as it always was,
longer text as Block Kit sections of at most 3,000 characters, which one message holds.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from bot import blocks

SECTIONS_PER_POST = blocks.MAX_BLOCKS_PER_MESSAGE - 1  # room for the "continued" line of a later part
CONTINUED = "_(continued, part {number})_"


def post_parts(text: str) -> list[str]:
    """The texts of the consecutive posts that show all of `text`; `[text]` itself when one message holds it.

    `text` is cut where `blocks.chunks` cuts it into sections (at line ends, or at spaces within a very long
    line), at most `SECTIONS_PER_POST` sections a part, and each part keeps the original text; a later part
    starts with a "continued" line. Cutting a part into sections again gives the same sections (plus at most
    one for that line), so every part is one message when it is sent."""
    sections = blocks.chunks(text)
    if len(sections) <= SECTIONS_PER_POST:
        return [text]
    starts, position = [], 0
    for section in sections:  # each section is a piece of `text`, in order: find where each one starts
        position = text.index(section, position)
        starts.append(position)
        position += len(section)
    cuts = [*starts[::SECTIONS_PER_POST], len(text)]
    parts = [text[begin:end].rstrip("\n ") for begin, end in pairwise(cuts)]
    return [parts[0], *(f"{CONTINUED.format(number=n)}\n{part}" for n, part in enumerate(parts[1:], start=2))]


def continuation_source(source: str, number: int) -> str:
    """The unique source of a post's later part (the first part keeps the post's own source)."""
    return f"{source}#{number}"


def slack_messages(text: str) -> list[dict[str, Any]]:
    """chat.postMessage content (`text`, and `blocks` when needed) showing all of a post's `text`: one message for
    a part made by `post_parts`; more only for text that was not split when queued (the on-call notice, written
    when it is sent, or a post queued by an older version)."""
    if len(text) <= blocks.MAX_SECTION_TEXT:
        return [{"text": text}]  # plain text, as short posts always were
    return blocks.answer_messages(text)
