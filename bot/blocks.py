"""Block Kit within Slack's limits, whatever the data size: the one place that knows them.

Slack refuses (`invalid_blocks`, `msg_too_long`) a message with more than 50 blocks, a Home tab or modal with more
than 100, a section text over 3,000 characters, a header over 150, a button label over 75 or a button value over
2,000 (https://api.slack.com/reference/block-kit/blocks, https://api.slack.com/reference/block-kit/block-elements).
An answer here never loses what it promises: long text is split at line ends into sections, sections into as many
messages as it takes ("continued"), and a caller that can send only so many messages gets the rest back to send
another way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_BLOCKS_PER_MESSAGE = 50
MAX_BLOCKS_PER_VIEW = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40000  # a message's top-level `text`; Slack truncates past it
NOTIFICATION_TEXT = 3000  # the `text` that goes with blocks (notifications, screen readers): kept short

Block = dict[str, Any]
Message = dict[str, Any]


def chunks(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at line ends where possible, never mid-entity."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a section: cut it, at a space if there is one
            cut = _cut_point(line, limit)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [""]


def _cut_point(line: str, limit: int) -> int:
    space = line.rfind(" ", limit // 2, limit)
    cut = space if space > 0 else limit
    entity = line.rfind("&", max(cut - 8, 0), cut)  # `&amp;`, `&lt;`, `&gt;` must not be cut in two
    if entity >= 0 and ";" not in line[entity:cut]:
        cut = entity
    markup = line.rfind("<", max(cut - 300, 0), cut)  # nor a `<url|label>` link or mention
    if markup >= 0 and ">" not in line[markup:cut]:
        cut = markup or cut
    return max(cut, 1)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER_TEXT)}}


def context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": t[:MAX_SECTION_TEXT]} for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    if len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"a button value is at most {MAX_BUTTON_VALUE} characters; store the rest and pass its id")
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT)},
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def clip(text: str, limit: int) -> str:
    """For labels only (a header, a button), where Slack allows no continuation: cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_blocks(text: str) -> list[Block]:
    """Sections holding all of `text`, each within the section limit."""
    return [section(piece) for piece in chunks(text)]


def messages(blocks: Iterable[Block], *, fallback: str = "", limit: int = MAX_BLOCKS_PER_MESSAGE) -> list[Message]:
    """Blocks spread over as many messages as it takes, each within `limit` blocks; every message after the
    first says it continues the one before."""
    pending = list(blocks)
    if not pending:
        return [{"text": fallback[:NOTIFICATION_TEXT] or " "}]
    result: list[Message] = []
    while pending:
        room = limit if not result else limit - 1  # a continued message starts with a context line
        batch, pending = pending[:room], pending[room:]
        if result:
            batch = [context(f"_(continued, part {len(result) + 1})_"), *batch]
        result.append({"text": _fallback(batch, fallback), "blocks": batch})
    return result


def answer_messages(text: str) -> list[Message]:
    """A text answer of any length as Block Kit messages within every limit."""
    return messages(text_blocks(text), fallback=text)


def _fallback(blocks: list[Block], fallback: str) -> str:
    if fallback and len(fallback) <= NOTIFICATION_TEXT:
        return fallback
    for block in blocks:
        text = (block.get("text") or {}).get("text")
        if text:
            return text[: NOTIFICATION_TEXT - 1] + ("…" if len(text) >= NOTIFICATION_TEXT else "")
    return fallback[:NOTIFICATION_TEXT] or " "


def view_blocks(blocks: list[Block], *, more: str) -> list[Block]:
    """A Home tab or modal within 100 blocks: past it, the last block says what was left out and where to see it."""
    if len(blocks) <= MAX_BLOCKS_PER_VIEW:
        return blocks
    kept = blocks[: MAX_BLOCKS_PER_VIEW - 1]
    return [*kept, context(f"…and {len(blocks) - len(kept)} more: {more}")]


def violations(payload: Message, *, view: bool = False) -> list[str]:
    """What in a message or view payload breaks Block Kit's limits (empty when it is within them). For tests and
    for a last check before sending."""
    problems: list[str] = []
    blocks = payload.get("blocks") or []
    limit = MAX_BLOCKS_PER_VIEW if view else MAX_BLOCKS_PER_MESSAGE
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks (at most {limit})")
    if len(payload.get("text") or "") > MAX_MESSAGE_TEXT:
        problems.append(f"text of {len(payload['text'])} characters (at most {MAX_MESSAGE_TEXT})")
    for index, block in enumerate(blocks):
        kind = block.get("type")
        text = (block.get("text") or {}).get("text") or ""
        if kind == "section" and len(text) > MAX_SECTION_TEXT:
            problems.append(f"block {index}: section text of {len(text)} characters")
        if kind == "header" and len(text) > MAX_HEADER_TEXT:
            problems.append(f"block {index}: header of {len(text)} characters")
        for field in block.get("fields") or []:
            if len(field.get("text") or "") > 2000:
                problems.append(f"block {index}: a field over 2000 characters")
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                if len((element.get("text") or {}).get("text") or "") > MAX_BUTTON_TEXT:
                    problems.append(f"block {index}: button label over {MAX_BUTTON_TEXT}")
                if len(element.get("value") or "") > MAX_BUTTON_VALUE:
                    problems.append(f"block {index}: button value over {MAX_BUTTON_VALUE}")
            elif kind == "context" and len(element.get("text") or "") > MAX_SECTION_TEXT:
                problems.append(f"block {index}: context text over {MAX_SECTION_TEXT}")
        if kind == "context" and len(block.get("elements") or []) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {index}: more than {MAX_CONTEXT_ELEMENTS} context elements")
    return problems
