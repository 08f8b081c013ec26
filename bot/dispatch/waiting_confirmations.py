"""Dispatch's part of the hand-off brief: self-service confirmations still waiting for their Yes/No.

They are personal DMs, tied to no channel or service the incoming person owns, so every one is listed whatever
channels and services are asked about: a confirmation nobody answers escalates (pages) when its time is up, and
the person taking over should know it may come. Each line links the DM prompt (its permalink), else the GitHub
issue of the alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dispatch import rules
from bot.dispatch import slack_messages as ui
from bot.store import Store
from bot.text import escape, link, mention

MAX_LISTED = 20  # a brief, not a report: the rest are counted


def permalink(workspace_url: str, channel: str, ts: str) -> str:
    """A Slack message's permalink, as Slack builds it (`/archives/<channel>/p<ts without the dot>`)."""
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def open_work(store: Store, workspace_url: Callable[[], str | None]) -> list[str]:
    rows = store.query(
        "SELECT a.*, r.slack_id AS recipient, r.channel AS prompt_channel, r.prompt_ts FROM dispatch_alerts a "
        "LEFT JOIN dispatch_recipients r ON r.alert_id = a.id AND r.position = 0 "
        "WHERE a.state = ? AND a.answer IS NULL ORDER BY a.escalate_at, a.id",
        [rules.AWAITING],
    )
    if not rows:
        return []
    workspace = workspace_url() if any(r["prompt_ts"] and r["prompt_channel"] for r in rows) else None
    lines = [line(row, workspace) for row in rows[:MAX_LISTED]]
    if len(rows) > MAX_LISTED:
        lines.append(f"… and {len(rows) - MAX_LISTED} more dispatch confirmations waiting (`/dispatch status`)")
    return lines


def line(row: dict[str, Any], workspace: str | None) -> str:
    who = mention(row["recipient"]) if row["recipient"] else "its recipient"
    escalates = f", escalates at {ui.utc(row['escalate_at'])}" if row["escalate_at"] else ""
    text = f"Dispatch `{escape(row['request_id'])}` waits for {who}'s Yes/No: {escape(row['title'][:80])}{escalates}"
    if workspace and row["prompt_channel"] and row["prompt_ts"]:
        return f"{text} — {link(permalink(workspace, row['prompt_channel'], row['prompt_ts']), 'the prompt')}"
    if row["issue_url"]:
        label = f"{row['repo'] or 'issue'}#{row['issue_number']}"
        return f"{text} — {link(row['issue_url'], label)}"
    return text
