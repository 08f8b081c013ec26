"""`/dispatch`: confirm, broadcast, page, status, json and help, turned into MESSAGE-SPEC messages.

The slash command builds the same message a producer would send and hands it to the same `submit()`, so
validation, dedupe and routing are one code path whatever the source.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.capability import ActionRequest, CommandRequest
from bot.dispatch.message_spec import BROADCAST, HIGH, MAX_TITLE, SELF_SERVICE, InvalidMessage
from bot.dispatch.slack_people import USER
from bot.text import escape, for_github

if TYPE_CHECKING:
    from bot.dispatch.service import DispatchService

log = logging.getLogger(__name__)

HELP = "\n".join(
    [
        "*Dispatch* — alarms as DMs with Yes/No buttons, a GitHub audit issue, or a PagerDuty page.",
        "• `/dispatch confirm @user <text>` — ask someone to confirm (Yes closes the audit issue, No pages)",
        "• `/dispatch broadcast @a @b @team <text>` — DM each person (and each member of a @usergroup) "
        "with an Acknowledge button",
        "• `/dispatch page <title>` — open a PagerDuty incident",
        "• `/dispatch status [requestId]` — where an alert stands (or the latest alerts)",
        "• `/dispatch json {…}` — send a raw MESSAGE-SPEC message",
        "Paging, broadcasting and raw messages are for Switchboard admins and DISPATCH_ALLOWED_USERS.",
        "Monitoring systems send messages with `python app.py dispatch FILE` or the HTTP intake.",
    ]
)

DENIED = "Only Switchboard admins and DISPATCH_ALLOWED_USERS can page or broadcast."
WITH_REACH = ("page", "broadcast", "json")  # subcommands that reach many people or page someone

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>")
_HANDLE = re.compile(r"@([\w.'-]+)")
_TITLE_ROOM = MAX_TITLE - 20  # leaves room for " (<requestId>)"

# A typed handle (without @) -> (USER or GROUP, ID), or None when nobody has it.
Resolve = Callable[[str], tuple[str, str] | None]


def take_recipients(words: list[str], resolve: Resolve) -> tuple[list[str], list[str], str]:
    """Leading recipients, then the message. Only mentions are recipients: `<@U…>` and `<!subteam^S…>` as Slack
    escapes them, and a typed `@name` that resolves to a member or usergroup. The first other word (`URGENT`, an
    unknown `@name`) starts the message."""
    users: list[str] = []
    groups: list[str] = []
    for index, word in enumerate(words):
        user, group, handle = _USER.fullmatch(word), _GROUP.fullmatch(word), _HANDLE.fullmatch(word)
        found = resolve(handle.group(1)) if handle else None
        if user:
            users.append(user.group(1))
        elif group:
            groups.append(group.group(1))
        elif found:
            (users if found[0] == USER else groups).append(found[1])
        else:
            return users, groups, " ".join(words[index:])
    return users, groups, ""


def _title(text: str, request_id: str) -> str:
    """Slack-made alerts carry their requestId in the title: the same words sent twice are two alerts, not a dedupe."""
    short = text if len(text) <= _TITLE_ROOM else text[: _TITLE_ROOM - 1] + "…"
    return f"{short} ({request_id})"


def confirm_message(user_id: str, user_name: str, target: str, text: str, request_id: str) -> dict[str, Any]:
    return {
        "type": SELF_SERVICE,
        "requestId": request_id,
        "users": [{"slackId": target}],
        "body": {
            "github": {
                "title": _title(text, request_id),
                "body": for_github(f"{text}\n\nAsked in Slack by {user_name} ({user_id}) with /dispatch confirm."),
            },
            "slack": {
                "message": f"<@{user_id}> asked me to check with you: {text}",
                "prompt": "Can you confirm this?",
                "actions": {"yes": "Yes", "no": "No"},
            },
        },
    }


def broadcast_message(user_id: str, user_name: str, users: list[str], text: str, request_id: str) -> dict[str, Any]:
    return {
        "type": BROADCAST,
        "requestId": request_id,
        "users": [{"slackId": user} for user in users],
        "body": {
            "github": {
                "title": _title(text, request_id),
                "body": for_github(f"{text}\n\nBroadcast from Slack by {user_name} ({user_id})."),
            },
            "slack": {"message": f":mega: Broadcast from <@{user_id}>: {text}"},
        },
    }


def page_message(user_id: str, user_name: str, title: str, request_id: str) -> dict[str, Any]:
    return {
        "type": HIGH,
        "requestId": request_id,
        "body": {
            "pagerduty": {"title": title, "body": f"Paged from Slack by {user_name} ({user_id}) with /dispatch page."}
        },
    }


def _plain_json(text: str) -> str:
    """Undo what Slack does to typed JSON: HTML entities (escaped commands) and smart quotes."""
    for fancy, plain in (("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'")):
        text = text.replace(fancy, plain)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _accepted(service: DispatchService, message: Any, user_id: str, what: str) -> str:
    try:
        accepted, parsed = service.submit(message, f"slack:{user_id}")
    except InvalidMessage as invalid:
        return "I couldn't send that:\n" + "\n".join(f"• {escape(error)}" for error in invalid.errors)
    rid = escape(accepted.request_id)
    if not accepted.new:
        return f"Dispatch `{rid}` was already received; it was not sent again. `/dispatch status {rid}` shows it."
    notes = "".join(f"\n• note: {escape(w)}" for w in parsed.warnings)
    return f"Dispatch `{rid}` accepted: {what}. `/dispatch status {rid}` shows how it goes.{notes}"


def request_id_for(trigger_id: str | None) -> str:
    """12 hex digits; derived from the command's trigger_id, so a redelivered command is the same alert, not two."""
    if not trigger_id:
        return secrets.token_hex(6)
    return hashlib.sha256(trigger_id.encode()).hexdigest()[:12]


def _over_cap(service: DispatchService, user_id: str, recipients: int) -> str | None:
    """Why a message from Slack may not reach this many people, or None when it may."""
    cap = service.config.broadcast_max
    if not service.over_broadcast_cap(user_id, recipients):
        return None
    return (
        f"A broadcast from Slack may reach at most {cap} people (DISPATCH_BROADCAST_MAX) unless a Switchboard admin "
        f"sends it; this one would reach {recipients}. Nothing was sent."
    )


def run_command(
    service: DispatchService, user_id: str, user_name: str, text: str, trigger_id: str | None = None
) -> str:
    """The ephemeral answer to `/dispatch <text>` (runs after the ack)."""
    words = text.split()
    sub = words[0].lower() if words else "help"
    if sub == "help":
        return HELP
    if sub in WITH_REACH:
        if not service.may_reach(user_id):
            log.info("dispatch: %s may not use /dispatch %s", user_id, sub)
            return DENIED
    elif not service.may_use(user_id):
        return "Sorry, you are not allowed to use `/dispatch` here (see DISPATCH_ALLOWED_USERS). Nothing was sent."
    rest = words[1:]
    request_id = request_id_for(trigger_id)
    if sub == "status":
        return service.status(user_id, rest[0] if rest else None)
    if sub == "confirm":
        users, groups, body = take_recipients(rest, service.people.resolve)
        if len(users) != 1 or groups or not body:
            return "Usage: `/dispatch confirm @user <what to confirm>` — exactly one person, then the text."
        message = confirm_message(user_id, user_name, users[0], body, request_id)
        return _accepted(service, message, user_id, f"<@{users[0]}> is asked to confirm")
    if sub == "broadcast":
        users, groups, body = take_recipients(rest, service.people.resolve)
        for group in groups:
            members = service.group_members(group)
            if not members:
                return f"I couldn't read the members of <!subteam^{group}> (or it is empty). Nothing was sent."
            users += sorted(members)
        users = list(dict.fromkeys(users))
        if not users or not body:
            return "Usage: `/dispatch broadcast @a @b @team <message>` — people or usergroups first, then the text."
        refusal = _over_cap(service, user_id, len(users))
        if refusal:
            return refusal
        message = broadcast_message(user_id, user_name, users, body, request_id)
        return _accepted(service, message, user_id, f"{len(users)} people get a DM with an Acknowledge button")
    if sub == "page":
        title = " ".join(rest)
        if not title:
            return "Usage: `/dispatch page <title>` — the title of the PagerDuty incident."
        return _accepted(service, page_message(user_id, user_name, title, request_id), user_id, "paging PagerDuty")
    if sub == "json":
        raw = _plain_json(text.strip()[len(words[0]) :].strip())
        if not raw:
            return "Usage: `/dispatch json {…}` — a MESSAGE-SPEC message as JSON."
        refusal = _over_cap(service, user_id, service.recipient_count(raw))
        return refusal or _accepted(service, raw, user_id, "routing the message")
    return f"I don't know `{escape(sub)}`.\n{HELP}"


def answer(service: DispatchService, request: CommandRequest) -> str:
    """`/dispatch …` (after the ack, on the foundation's pool)."""
    return run_command(service, request.user_id, request.user_name, request.text, request.trigger_id)


def answer_button(service: DispatchService, request: ActionRequest, reply: Callable[[str], None]) -> None:
    """Yes / No / Acknowledge on a Dispatch message."""
    if not request.value.isdigit():
        reply("This button no longer works here (the button is broken).")
        return
    service.answers.click(
        int(request.value),
        request.action_id,
        request.user_id,
        request.user_name,
        request.channel_id,
        request.message_ts,
        reply,
    )
