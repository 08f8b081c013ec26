"""The support desk's decisions, pure (no I/O, no SQLite, no clock): unit-tested.

- which Slack `message` events are support messages, and what they are (a new request, a reply, an edit);
- what a thread reply asks for (`help`, `resolve`, or a comment for the ticket), and whether that comment is
  public (seen by the requester) or an internal note;
- whether someone may post the support report now (`/support report`);
- who the on-call notice names, and whether a request came in out of hours;
- which emailed tickets come to Slack, and what a ticket's status change means for its thread;
- which open PagerDuty incidents a new request's channel watches, and which linked incidents were resolved;
- what counts as a first response, and the digest's median.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.incidents.model import OPEN_STATUSES as PD_OPEN_STATUSES
from bot.incidents.model import PdIncident
from bot.support.config import SupportConfig
from bot.support.hours import OfficeHours
from bot.support.ticket_events import NewEmailTicket, StatusChange

# --- Slack messages -------------------------------------------------------------------------------------------
# Subtypes that carry content; everything else (joins, topic changes, pins, …) is not a support message.
CONTENT_SUBTYPES = {None, "file_share", "thread_broadcast", "bot_message"}


@dataclass(frozen=True)
class Inbound:
    """A support-channel message: a new request (top level), a reply in a thread, or an edit of either."""

    channel: str
    ts: str
    thread_ts: str | None  # the parent's ts for a reply; None at top level
    user: str | None
    bot_id: str | None
    bot_name: str | None
    text: str
    files: list[dict[str, str]] = field(default_factory=list)
    edit_ts: str | None = None  # set for an edit: when it was edited

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None

    @property
    def is_edit(self) -> bool:
        return self.edit_ts is not None


def _files(message: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": str(f.get("name") or f.get("title") or "file"), "permalink": str(f.get("permalink") or "")}
        for f in message.get("files") or []
        if isinstance(f, dict)
    ]


def _thread_of(message: dict[str, Any]) -> str | None:
    thread_ts = message.get("thread_ts")
    return thread_ts if thread_ts and thread_ts != message.get("ts") else None


def classify(event: dict[str, Any], config: SupportConfig, bot_user_id: str) -> Inbound | None:
    """The support message in a `message` event, or None when the desk should ignore it.

    Other channels and bots are ruled out first, then subtypes."""
    if event.get("channel") not in config.channels or config.processing_disabled:
        return None
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _edit(event, config, bot_user_id)
    if subtype not in CONTENT_SUBTYPES:
        return None  # deletions, joins, topic/name/purpose changes, pins, me_message, …
    bot_id = event.get("bot_id")
    if bot_id and bot_id not in config.allowed_bot_ids:
        return None
    if subtype == "bot_message" and not bot_id:
        return None
    user = event.get("user")
    if user == bot_user_id or not (user or bot_id):
        return None
    text, files = str(event.get("text") or ""), _files(event)
    if not text.strip() and not files:
        return None
    bot_name = (
        (event.get("username") or (event.get("bot_profile") or {}).get("name") or "Unnamed bot") if bot_id else None
    )
    return Inbound(
        event["channel"],
        str(event["ts"]),
        _thread_of(event),
        user if not bot_id else None,
        bot_id,
        bot_name,
        text,
        files,
    )


def _edit(event: dict[str, Any], config: SupportConfig, bot_user_id: str) -> Inbound | None:
    message = event.get("message") or {}
    previous = event.get("previous_message") or {}
    if message.get("bot_id") or message.get("user") in (None, bot_user_id):
        return None  # the bot's own edits, other bots' edits
    if str(message.get("text") or "") == str(previous.get("text") or ""):
        return None  # Slack also sends message_changed for link previews and thread bookkeeping
    edit_ts = str((message.get("edited") or {}).get("ts") or event.get("ts") or event.get("event_ts"))
    return Inbound(
        event["channel"],
        str(message["ts"]),
        _thread_of(message),
        message.get("user"),
        None,
        None,
        str(message.get("text") or ""),
        _files(message),
        edit_ts=edit_ts,
    )


# --- thread replies -------------------------------------------------------------------------------------------
HELP_WORDS = {"help"}
RESOLVE_WORDS = {"resolve", "resolve ticket", "✅", "🆗", ":white_check_mark:", ":ok:"}


def thread_command(text: str) -> str | None:
    """`help` or `resolve` when a thread reply is one of the commands (case-insensitive, trimmed), else None."""
    word = " ".join(text.strip().lower().split())
    if word in HELP_WORDS:
        return "help"
    if word in RESOLVE_WORDS or word.replace("\ufe0f", "") in RESOLVE_WORDS:
        return "resolve"
    return None


@dataclass(frozen=True)
class TicketComment:
    """A thread reply as it goes to Zendesk: its text and whether the requester sees it."""

    text: str
    public: bool


_REPLY_PREFIX = re.compile(r"\s*reply\s*:\s*", re.IGNORECASE)


def comment_for(origin: str, text: str) -> TicketComment:
    """A reply in a Slack-originated thread is a public comment, as the requester is the Slack author. On an
    emailed ticket the requester is outside Slack, so a reply is an internal note unless it starts with `reply:`
    (any case, spaces allowed), which is sent publicly without the prefix."""
    if origin != "email":
        return TicketComment(text, True)
    prefix = _REPLY_PREFIX.match(text)
    if prefix is None:
        return TicketComment(text, False)
    return TicketComment(text[prefix.end() :], True)


# --- /support report ------------------------------------------------------------------------------------------
REPORT_COMMAND_INTERVAL_SECONDS = 600.0  # one `/support report` per channel in this time, except for admins


def report_command_wait(last_runs: Iterable[float | None], now: float, *, admin: bool) -> float:
    """Seconds until `/support report` may post in all of these channels again (0: now), given when it last did
    in each (None: never). Admins are never held back."""
    if admin:
        return 0.0
    latest = max((at for at in last_runs if at is not None), default=None)
    if latest is None:
        return 0.0
    return max(0.0, latest + REPORT_COMMAND_INTERVAL_SECONDS - now)


# --- new tickets: who is on call, office hours ------------------------------------------------------------------
@dataclass(frozen=True)
class OnCallPerson:
    user_id: str
    name: str
    email: str | None


def people_on_call(oncalls: list[dict[str, Any]]) -> list[OnCallPerson]:
    """Distinct people of PagerDuty's on-call entries, ordered by escalation level (several schedules on one level
    repeat people)."""
    ordered = sorted(oncalls, key=lambda entry: int(entry.get("escalation_level") or 99))
    people: dict[str, OnCallPerson] = {}
    for entry in ordered:
        user = entry.get("user") or {}
        user_id = str(user.get("id") or "")
        if user_id and user_id not in people:
            name = str(user.get("name") or user.get("summary") or user_id)
            people[user_id] = OnCallPerson(user_id, name, user.get("email"))
    return list(people.values())


def oncall_notice(people: list[OnCallPerson], render: Callable[[OnCallPerson], str]) -> str:
    """`📧 Primary on call: …\\nℹ️ Secondary on call: ….` — coping with nobody or only one person."""
    if not people:
        return "📧 Nobody is on call for support right now."
    primary = f"📧 Primary on call: {render(people[0])}"
    if len(people) == 1:
        return primary + "."
    return f"{primary}\nℹ️ Secondary on call: {render(people[1])}."


def out_of_hours(hours: OfficeHours | None, asked_at: float) -> bool:
    """A request gets the out-of-hours notice only when office hours are set and it came outside them."""
    return hours is not None and not hours.contains(asked_at)


# --- Zendesk -> Slack -------------------------------------------------------------------------------------------
OPEN_STATUSES = ("new", "open", "pending", "hold")
DONE_STATUSES = ("solved", "closed")


def wants_email_ticket(config: SupportConfig, ticket: NewEmailTicket) -> bool:
    """An emailed ticket gets a Slack thread when it is open and in the support group (no group set: none do)."""
    return config.group_id is not None and ticket.group_id == config.group_id and ticket.status in OPEN_STATUSES


@dataclass(frozen=True)
class StatusOutcome:
    """What a ticket's status change means for its thread."""

    closed_at: float | None  # since when the ticket is done (solved or closed); None while it is open
    notice: str | None  # "solved" or "reopened" when people changed it in Zendesk; None: nothing to say


def after_status_change(
    change: StatusChange, ticket_status: str | None, closed_at: float | None, at: float
) -> StatusOutcome:
    """The bot's own changes (a `resolve` in Slack) were announced when made, so only people's are told."""
    if change.status in DONE_STATUSES:
        notice = "solved" if change.status == "solved" and not change.by_bot else None
        return StatusOutcome(closed_at or at, notice)
    if change.previous in DONE_STATUSES or ticket_status in DONE_STATUSES:
        return StatusOutcome(None, None if change.by_bot else "reopened")
    return StatusOutcome(closed_at, None)


# --- incidents on the services a support channel watches -----------------------------------------------------
def watched_services(pairs: Iterable[tuple[str, str]], channel: str) -> set[str]:
    """The PagerDuty services a support channel watches, from (channel, service) pairs (setting and stored map)."""
    return {service for mapped, service in pairs if mapped == channel}


def incidents_on(open_incidents: Iterable[PdIncident], services: set[str]) -> list[PdIncident]:
    """The open (triggered or acknowledged) incidents on these services, oldest number first."""
    found = [i for i in open_incidents if i.service_id in services and i.status in PD_OPEN_STATUSES]
    return sorted(found, key=lambda incident: (incident.account, incident.number))


def resolved(linked_incident_ids: Iterable[str], open_incident_ids: set[str]) -> list[str]:
    """Linked incidents of one account that left its complete open list: PagerDuty resolved them."""
    return sorted({i for i in linked_incident_ids if i not in open_incident_ids})


# --- first responses and the digest ---------------------------------------------------------------------------
def is_first_response_by(author: str | None, asker: str | None, command: str | None) -> bool:
    """A Slack thread reply answers the request when someone other than the asker wrote it (`help` is a question
    to the bot, not an answer). An emailed ticket's thread has no Slack asker: any reply counts."""
    return command != "help" and (asker is None or author != asker)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def duration_text(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`: short, for the digest."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
