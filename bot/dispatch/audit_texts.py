"""What Dispatch writes on GitHub audit issues and PagerDuty incidents, as pure functions, worded as the original.
(What it shows in Slack is in slack_messages.py.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.dispatch.message_spec import BROADCAST, LOW, SELF_SERVICE, Message
from bot.dispatch.rules import HIGH_PRIORITY, NO
from bot.dispatch.slack_messages import utc
from bot.text import for_github


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


def acknowledgements_comment(recipients: Iterable[dict[str, Any]]) -> str:
    """One comment listing acknowledgements not yet written, and who clicked for whom when it was someone else."""
    lines = [
        f"- {r['slack_handle'] or r['slack_id']} (`{r['slack_id']}`) at {utc(r['acknowledged_at'])}"
        + (f", for {r['acknowledged_by']}" if r["acknowledged_by"] != r["slack_id"] else "")
        for r in recipients
    ]
    return "Acknowledged in Slack:\n" + "\n".join(lines)
