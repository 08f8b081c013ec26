"""What Dispatch writes on GitHub audit issues and PagerDuty incidents, as pure functions, worded as the original.
(What it shows in Slack is in slack_messages.py.)

GitHub refuses an issue or comment body over 65,536 characters. A longer text (a producer's body has no limit of its
own; a broadcast lists every recipient) is never refused or silently cut: `github_parts` splits it into bodies
within the limit, each saying where it continues, and the parts after the first are posted as comments, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from bot.blocks import clip
from bot.dispatch.message_spec import BROADCAST, LOW, SELF_SERVICE, Message
from bot.dispatch.rules import HIGH_PRIORITY, NO
from bot.dispatch.slack_messages import utc
from bot.text import for_github

MAX_GITHUB_BODY = 65_536  # GitHub: "body is too long (maximum is 65536 characters)"
_NOTE_ROOM = 200  # for the notes saying where a text continues, and a code fence closed or reopened
_FENCE = "```"
MAX_HANDLE_SHOWN = 200  # a producer's Slack handle is shown clipped in acknowledgement lines; the ID is always there


def github_parts(text: str, limit: int = MAX_GITHUB_BODY) -> list[str]:
    """`text` as GitHub bodies of at most `limit` characters: itself when it fits, else parts cut at line ends,
    each but the last saying that the text continues in the next comment and each but the first which part it is.
    A code block cut in two is closed at the end of one part and reopened in the next."""
    if len(text) <= limit:
        return [text]
    pieces = _cut(text, limit - _NOTE_ROOM)
    fenced: list[str] = []
    open_fence = False
    for piece in pieces:
        body = f"{_FENCE}\n{piece}" if open_fence else piece
        open_fence = open_fence != (piece.count(_FENCE) % 2 == 1)
        fenced.append(f"{body}\n{_FENCE}" if open_fence else body)
    total = len(fenced)
    parts = []
    for number, body in enumerate(fenced, start=1):
        if number > 1:
            body = f"_(continued, part {number} of {total})_\n\n{body}"
        if number < total:
            body = f"{body}\n\n_(continued in the next comment: part {number + 1} of {total})_"
        parts.append(body)
    return parts


def _cut(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, each as full as it can be, cut at a line end in its second
    half, else at a space, else anywhere; only the line break or space at a cut is left out."""
    pieces: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", size // 2, size)
        if cut < 0:
            cut = text.rfind(" ", size // 2, size)
        if cut < 0:
            pieces.append(text[:size])
            text = text[size:]
            continue
        pieces.append(text[:cut])
        text = text[cut + 1 :]
    pieces.append(text)
    return pieces


def issue_body(message: Message) -> str:
    """The issue body exactly as the original wrote it for each type."""
    if message.type == BROADCAST:
        listed = ", ".join(r.listed_as for r in message.recipients)
        return f"{message.github_body} \n\n ```\n{listed}\n```"
    if message.type in (SELF_SERVICE, LOW) and message.mention:
        return f"{message.github_body} \n\n @{message.mention}"
    return message.github_body


def yes_comment(name: str, yes_label: str, answered_at: float) -> str:
    """Written on the issue just before a Yes closes it (`name` is the Slack user's: it must not notify anyone)."""
    return f'{for_github(name)} answered "{yes_label}" (yes) in Slack at {utc(answered_at)}; closing this issue.'


def incident_text(alert: dict[str, Any], message: Message, reason: str, name: str) -> tuple[str, str, str | None]:
    """(title, incident_key, details) of the PagerDuty incident, exactly as the original, for each reason."""
    if reason == HIGH_PRIORITY:
        return message.pagerduty_title, message.pagerduty_title, message.pagerduty_body
    rid = alert["request_id"]
    where = f"{alert['repo']}/{alert['issue_number']}" if alert["issue_number"] else f"'{alert['title']}'"
    if reason == NO:
        title = f"dispatch {rid}: user {name} responded 'no' for self-service issue {where}"
    else:
        title = f"dispatch {rid}: user {name} did not respond in time for self-service issue {where}"
    details = f"{title}\n\n {alert['issue_url']}" if alert["issue_url"] else title
    return title, rid, details


def escalation_comment(
    message: Message, reason: str, name: str | None, answered_at: float, timeout_minutes: float, link: str | None
) -> str:
    """Written on a self-service issue when it is escalated: why, and the incident (or that paging failed)."""
    if reason == NO:
        said = f'{for_github(str(name))} answered "{message.no_label}" (no) in Slack at {utc(answered_at)}'
    else:
        said = f"No answer in Slack within {timeout_minutes:g} minutes (escalated: no response, {utc(answered_at)})"
    result = f"escalated to PagerDuty: {link}" if link else "the PagerDuty escalation failed"
    return f"{said}; {result}."


def _acknowledgement_line(row: dict[str, Any]) -> str:
    name = clip(row["slack_handle"] or row["slack_id"], MAX_HANDLE_SHOWN)
    line = f"- {name} (`{row['slack_id']}`) at {utc(row['acknowledged_at'])}"
    return line + (f", for {row['acknowledged_by']}" if row["acknowledged_by"] != row["slack_id"] else "")


def acknowledgements_comment(recipients: Iterable[dict[str, Any]]) -> str:
    """One comment listing acknowledgements not yet written, and who clicked for whom when it was someone else."""
    return "Acknowledged in Slack:\n" + "\n".join(_acknowledgement_line(r) for r in recipients)


def acknowledgements_batch(recipients: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first of `recipients` whose acknowledgements fit one comment within GitHub's limit (at least one): the
    rest go in the next comment, written by the next acknowledgement's step."""
    size = len(acknowledgements_comment([]))
    for count, row in enumerate(recipients):
        size += len(_acknowledgement_line(row)) + 1
        if size > MAX_GITHUB_BODY and count:
            return list(recipients[:count])
    return list(recipients)
