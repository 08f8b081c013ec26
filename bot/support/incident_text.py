"""What the support desk says about a PagerDuty incident: in a support thread (Slack mrkdwn, vendor text escaped)
and in its Zendesk ticket (an internal note, plain text). Pure functions of a stored incident link."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.text import escape, link

_SLACK_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>|<([^<>|]+)>")


def _label(incident: Mapping[str, Any]) -> str:
    title = str(incident.get("title") or "").strip()
    return f"#{incident['number']} {title}".strip()


def _slack_incident(incident: Mapping[str, Any]) -> str:
    label = _label(incident)
    return link(incident["html_url"], label) if incident.get("html_url") else escape(label)


def _service(incident: Mapping[str, Any]) -> str:
    return str(incident.get("service_name") or incident.get("service_id") or "its service")


def thread_note(incident: Mapping[str, Any], related: list[str]) -> str:
    """In the thread of a request that came in while the incident was open; `related` are other capabilities'
    links for it (the status page incident), Slack mrkdwn already."""
    text = (
        f"🚨 PagerDuty incident {_slack_incident(incident)} is open on *{escape(_service(incident))}*, which this "
        "channel watches: this request may be part of it."
    )
    if related:
        text += "\n" + "\n".join(f"• {line}" for line in related)
    return text


def thread_resolved(incident: Mapping[str, Any]) -> str:
    return f"✅ The incident {_slack_incident(incident)} is resolved."


def plain_links(text: str) -> str:
    """Slack links as plain text for Zendesk: `label (url)`, or the url alone."""

    def replace(match: re.Match[str]) -> str:
        if match[3]:
            return match[3]
        url, label = match[1], match[2].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return url if not label or label == url else f"{label} ({url})"

    return _SLACK_LINK.sub(replace, text)


def ticket_note(incident: Mapping[str, Any], related: list[str]) -> str:
    lines = [
        f"This request came in while PagerDuty incident {_label(incident)} was open on {_service(incident)}: "
        f"{incident.get('html_url') or ''}".rstrip(": "),
    ]
    lines += [plain_links(line).replace("*", "") for line in related]
    return "\n".join(lines)


def ticket_resolved(incident: Mapping[str, Any]) -> str:
    return f"PagerDuty incident {_label(incident)} is resolved: {incident.get('html_url') or ''}".rstrip(": ")


def tag(incident: Mapping[str, Any]) -> str:
    return f"pd-incident-{incident['number']}"
