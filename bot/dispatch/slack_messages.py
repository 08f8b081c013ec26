"""What Dispatch shows in Slack, as pure functions: alert DMs, Yes/No prompts, outcomes, notes and status text.

Text from a message (written by a producer outside Slack) keeps its mrkdwn but goes through `producer_text`: its
links show their real target when the label says something else, `<!channel>`, `<!here>` and `<!everyone>` never
ping, and user and usergroup mentions work only when `allow_mentions` (see rules.mentions_allowed). Everything
else shown from an alert (titles, IDs, errors) is escaped.

Every message carries a `block_id` marker unique to (alert, purpose, recipient), so a retry after an interrupted
post can recognise the message that did arrive instead of posting it twice.

Whatever a producer sends, what is posted stays within Block Kit's limits (bot/blocks.py): long text is split into
sections at line ends, and content past 50 blocks is spread over continued messages (`spread`), each with its own
marker. Nothing is cut.
"""

from __future__ import annotations

import time
from typing import Any

from bot.blocks import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, NOTIFICATION_TEXT, button, chunks, clip, messages
from bot.dispatch.message_spec import BROADCAST, NAG, Message
from bot.text import escape, mention, producer_text

YES, NO, ACK = "dispatch_yes", "dispatch_no", "dispatch_ack"
ACTION_IDS = (YES, NO, ACK)
GREEN, RED = "#008E00", "#CC0000"  # the original's colours for "acknowledged" and "escalated"

Blocks = list[dict[str, Any]]


def utc(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts))


def when(ts: float) -> str:
    """A time Slack shows in each reader's own time zone (UTC where it cannot)."""
    return f"<!date^{int(ts)}^{{date_short_pretty}} at {{time}}|{utc(ts)}>"


def marker(alert_id: int, purpose: str, recipient_id: int | None = None) -> str:
    return f"dispatch:{alert_id}:{purpose}" + (f":{recipient_id}" if recipient_id is not None else "")


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
    if block_id:
        block["block_id"] = block_id
    return block


def _button(label: str, action_id: str, alert_id: int, style: str | None = None) -> dict[str, Any]:
    # Only the alert id travels in the value (the row holds repo, service and user). The meaning is the action_id,
    # so a label past Block Kit's 75 characters can be clipped without changing what the button does.
    element = button(label, action_id, str(alert_id), style)
    element["text"]["emoji"] = True
    return element


def sections(text: str, first_block_id: str | None) -> Blocks:
    """Text of any length as consecutive sections within Block Kit's 3,000 characters each, cut at line ends
    (never inside a link or an entity); the first carries the marker."""
    pieces = [piece for piece in chunks(text) if piece] or [" "]  # Slack refuses an empty section
    return [_section(piece, first_block_id if n == 0 else None) for n, piece in enumerate(pieces)]


def notification(text: str) -> str:
    """A message's top-level `text` (notifications, screen readers) within Slack's 40,000 characters: the whole
    text when it fits, else its start; the blocks always hold all of it."""
    return text if len(text) <= MAX_MESSAGE_TEXT else clip(text, NOTIFICATION_TEXT)


def spread(text: str, blocks: Blocks) -> list[tuple[str, Blocks]]:
    """A message's content as the (text, blocks) of the posts it takes: one when it fits Block Kit's 50 blocks,
    else continued messages, each starting with a marker of its own (the first block's, plus `:partN`)."""
    if len(blocks) <= MAX_BLOCKS_PER_MESSAGE:
        return [(notification(text), blocks)]
    first_marker = blocks[0].get("block_id")
    parts = messages(blocks, fallback=text)
    for number, part in enumerate(parts[1:], start=2):
        if first_marker:
            part["blocks"][0]["block_id"] = f"{first_marker}:part{number}"
    return [(part["text"], part["blocks"]) for part in parts]


def issue_link(repo: str | None, number: int | None, url: str | None) -> str:
    return f"<{url}|{escape(repo or '')}#{number}>" if url else ""


def alert_message(
    alert_id: int,
    recipient_id: int,
    message: Message,
    issue: str | None,
    acknowledged: str | None = None,
    interactive: bool = True,
    *,
    allow_mentions: bool = False,
) -> tuple[str, Blocks]:
    """Message 1: the alert text, the issue link (not for broadcast, as the original), and for broadcast (or a
    nag with a prompt) an Acknowledge button — replaced by `acknowledged` once someone acknowledged. A message
    for the default channel (a user without Slack ID) is not `interactive`: nobody there is asked."""
    text = producer_text(message.slack_message, allow_mentions=allow_mentions)
    blocks = sections(text, marker(alert_id, "message", recipient_id))
    if issue and message.type != BROADCAST:
        blocks.append(_context(f"GitHub issue: {issue}"))
    wants_ack = interactive and (message.type == BROADCAST or (message.type == NAG and message.prompt))
    if wants_ack:
        if message.prompt:
            blocks += sections(producer_text(message.prompt, allow_mentions=allow_mentions), None)
        if acknowledged:
            blocks.append(_context(acknowledged))
        else:
            label = message.yes_label if message.prompt and message.yes_label != "Yes" else "Acknowledge"
            blocks.append({"type": "actions", "elements": [_button(label, ACK, alert_id, "primary")]})
    return text, blocks


def prompt_message(
    alert_id: int, recipient_id: int, message: Message, *, allow_mentions: bool = False
) -> tuple[str, Blocks]:
    """Message 2 (self-service): the prompt with Yes (primary) and No (danger) buttons."""
    prompt = producer_text(message.prompt or "", allow_mentions=allow_mentions)
    actions = {
        "type": "actions",
        "block_id": f"dispatch-answer-{alert_id}",
        "elements": [
            _button(message.yes_label, YES, alert_id, "primary"),
            _button(message.no_label, NO, alert_id, "danger"),
        ],
    }
    return prompt, [*sections(prompt, marker(alert_id, "prompt", recipient_id)), actions]


def answered_prompt(
    alert_id: int,
    recipient_id: int,
    message: Message,
    answer: str,
    by: str | None,
    at: float,
    issue_url: str | None,
    timeout_minutes: float,
    *,
    allow_mentions: bool = False,
) -> tuple[str, Blocks, list[dict[str, Any]]]:
    """The prompt after the answer: buttons gone, who answered and when, and the yes/no response."""
    prompt = producer_text(message.prompt or "", allow_mentions=allow_mentions)
    yes_response = message.yes_response and producer_text(message.yes_response, allow_mentions=allow_mentions)
    no_response = message.no_response and producer_text(message.no_response, allow_mentions=allow_mentions)
    if answer == "yes":
        line = f":white_check_mark: *{escape(message.yes_label)}* — answered by {mention(by or '')} {when(at)}"
        response = yes_response or (f"Thanks, closed {issue_url}" if issue_url else "Thanks, noted.")
        color, footer = GREEN, "Dispatch alert acknowledged"
    elif answer == "no":
        line = f":rotating_light: *{escape(message.no_label)}* — answered by {mention(by or '')} {when(at)}"
        response = no_response or "Thanks, this alert has been escalated to PagerDuty."
        color, footer = RED, "Dispatch alert escalated"
    else:
        line = f":alarm_clock: No answer within {timeout_minutes:g} minutes — escalated {when(at)}"
        response = "Nobody answered in time, so this alert has been escalated to PagerDuty."
        color, footer = RED, "Dispatch alert escalated"
    attachment = {
        "color": color,
        "text": response,
        "footer": footer,
        "ts": int(at),
        "fallback": f"Could not load Slack response, {message.request_id}: {answer}",
    }
    blocks = [*sections(prompt, marker(alert_id, "prompt", recipient_id)), _context(line)]
    label = {"yes": message.yes_label, "no": message.no_label}.get(answer)
    summary = f"{label} (answered by {mention(by or '')})" if label else "no answer in time: escalated"
    return f"{prompt} — {summary}", blocks, [attachment]


def reminder(
    alert_id: int, recipient_id: int, message: Message, escalate_at: float, *, allow_mentions: bool = False
) -> tuple[str, Blocks]:
    asked = producer_text(message.prompt or message.slack_message, allow_mentions=allow_mentions)
    text = (
        f":alarm_clock: Reminder: {asked} — please answer with the buttons "
        f"above. Without an answer by {when(escalate_at)} this alert is escalated to PagerDuty."
    )
    return text, sections(text, marker(alert_id, "reminder", recipient_id))


def fallback_note(alert_id: int, recipient_id: int, channel: str, request_id: str) -> tuple[str, Blocks]:
    text = f"Slack user ID was missing, fell back to {channel} for requestId {escape(request_id)}"
    return text, sections(text, marker(alert_id, "fallback", recipient_id))


def delivery_error(alert_id: int, recipient_id: int, destination: str, request_id: str, error: str) -> tuple:
    """The original's report of a failed post, to the default channel: text, blocks and the error attachment."""
    text = f"Error sending message to `{destination}` for requestId {escape(request_id)}"
    attachment = {"title": "Slack error message", "text": f'{{"ok": false, "error": "{escape(error)}"}}'}
    return text, sections(text, marker(alert_id, "delivery-error", recipient_id)), [attachment]


def error_notice(alert_id: int, purpose: str, text: str) -> tuple[str, Blocks]:
    return text, sections(escape(text), marker(alert_id, purpose))


def state_label(alert: dict[str, Any]) -> str:
    label = alert["state"].replace("_", " ")
    return f"{label}: {alert['outcome']}" if alert.get("outcome") else label


def summary_line(alert: dict[str, Any]) -> str:
    return (
        f"`{escape(alert['request_id'])}` {alert['type']} — {escape(state_label(alert))} — "
        f"{escape(alert['title'][:80])} ({utc(alert['created_at'])})"
    )


def _recipient_name(row: dict[str, Any]) -> str:
    return mention(row["slack_id"]) if row["slack_id"] else f"{escape(row['destination'])} (no Slack ID)"


def status_text(alert: dict[str, Any], recipients: list[dict[str, Any]], history: list[dict[str, Any]]) -> str:
    """`/dispatch status <requestId>`: where the alert stands, who has and has not acknowledged, and its history,
    all of it whatever the number of recipients (the answer is sent in as many messages as it takes)."""
    lines = [f"*Dispatch `{escape(alert['request_id'])}`* — {alert['type']}, *{escape(state_label(alert))}*"]
    lines.append(f"• Title: {escape(alert['title'])}")
    if alert.get("issue_url"):
        lines.append(f"• GitHub issue: {issue_link(alert['repo'], alert['issue_number'], alert['issue_url'])}")
    if alert.get("incident_id") or alert.get("incident_url"):
        link = alert.get("incident_url")
        ident = escape(alert.get("incident_id") or "incident")
        lines.append(f"• PagerDuty incident: {f'<{link}|{ident}>' if link else ident}")
    if alert.get("answer"):
        who = f" by {mention(alert['answered_by'])}" if alert.get("answered_by") else ""
        lines.append(f"• Answer: {alert['answer']}{who} at {utc(alert['answered_at'])}")
    if alert["type"] in (BROADCAST, NAG) and recipients:
        acked = [r for r in recipients if r["acknowledged_at"]]
        waiting = [r for r in recipients if not r["acknowledged_at"] and r["state"] != "failed" and r["slack_id"]]
        done = ", ".join(f"{_recipient_name(r)} at {utc(r['acknowledged_at'])}" for r in acked) or "nobody yet"
        lines.append(f"• Acknowledged ({len(acked)}/{len(recipients)}): {done}")
        if waiting:
            lines.append(f"• Not yet: {', '.join(_recipient_name(r) for r in waiting)}")
    failed = [r for r in recipients if r["state"] == "failed"]
    if failed:
        lines.append("• Could not message: " + ", ".join(f"{_recipient_name(r)} ({r['error']})" for r in failed))
    lines.append("*History*")
    for entry in history:
        actor = f" ({mention(entry['actor'])})" if entry.get("actor") else ""
        lines.append(f"• {utc(entry['at'])} {escape(entry['event'])}{actor}")
    return "\n".join(lines)
