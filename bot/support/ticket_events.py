"""What a page of Zendesk's incremental ticket-event export means for Slack: pure interpretation, unit-tested.

One export request per poll returns every change to every ticket since the cursor, so the cost of a poll does
not grow with the number of open tickets. `zendesk_poll.py` applies these findings in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELDS = ("status", "subject", "group_id", "requester_id", "assignee_id")
EMAIL_VIAS = {"mail", "email"}


@dataclass(frozen=True)
class ZendeskComment:
    """A public comment someone other than the bot wrote in Zendesk."""

    ticket_id: int
    comment_id: int
    author_id: int
    body: str
    via: str


@dataclass(frozen=True)
class StatusChange:
    ticket_id: int
    event_id: int
    previous: str | None
    status: str
    by_bot: bool


@dataclass(frozen=True)
class NewEmailTicket:
    ticket_id: int
    subject: str
    body: str
    requester_id: int | None
    group_id: int | None
    status: str


@dataclass(frozen=True)
class Audit:
    """One ticket event of the export: its dedupe key (id, timestamp) and what it means."""

    audit_id: int
    timestamp: int
    ticket_id: int
    findings: list[ZendeskComment | StatusChange | NewEmailTicket] = field(default_factory=list)


def _field(child: dict[str, Any]) -> tuple[str | None, Any]:
    """(field name, new value) of a Create/Change child event, in either of Zendesk's two shapes."""
    name = child.get("field_name")
    if name:
        return str(name), child.get("value", child.get(name))
    for candidate in FIELDS:
        if candidate in child:
            return candidate, child[candidate]
    return None, None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _via_channel(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("channel") or "").lower()
    return str(value or "").lower()


def interpret(events: list[dict[str, Any]], bot_agent_id: int) -> list[Audit]:
    audits = []
    for event in events:
        children = event.get("child_events") or []
        ticket_id = int(event["ticket_id"])
        created = {name: value for name, value in map(_field, (c for c in children if c.get("event_type") == "Create"))}
        comments = [c for c in children if c.get("event_type") == "Comment" and "body" in c]
        findings: list[ZendeskComment | StatusChange | NewEmailTicket] = []
        if created:
            # A new ticket: its first comment is the description, never forwarded on its own.
            first_body = str(comments[0].get("body") or "") if comments else ""
            by_email = _via_channel(event.get("via")) in EMAIL_VIAS or any(
                _via_channel(c.get("via")) == "email" for c in comments
            )
            if by_email:
                findings.append(
                    NewEmailTicket(
                        ticket_id,
                        str(created.get("subject") or "(no subject)"),
                        first_body,
                        _int_or_none(created.get("requester_id")),
                        _int_or_none(created.get("group_id")),
                        str(created.get("status") or "new"),
                    )
                )
        else:
            for comment in comments:
                author = _int_or_none(comment.get("author_id"))
                if not comment.get("public", True) or author == bot_agent_id or not str(comment.get("body")).strip():
                    continue  # private notes stay in Zendesk; the bot's own comments never echo back
                findings.append(
                    ZendeskComment(
                        ticket_id,
                        int(comment["id"]),
                        author or 0,
                        str(comment["body"]),
                        _via_channel(comment.get("via")),
                    )
                )
        for child in children:
            name, value = _field(child)
            if child.get("event_type") == "Change" and name == "status" and value:
                by_bot = _int_or_none(event.get("updater_id")) == bot_agent_id
                findings.append(
                    StatusChange(ticket_id, int(child["id"]), child.get("previous_value"), str(value), by_bot)
                )
        audits.append(Audit(int(event["id"]), int(event.get("timestamp") or 0), ticket_id, findings))
    return audits
