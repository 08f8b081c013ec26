"""Dispatch's pure decisions: an alert's states and steps, what follows an answer or a timeout, who may answer,
use `/dispatch` or see an alert, how an alert ends once its messages are out, and when the HTTP intake turns an
address away. No I/O: lookups that need Slack are passed in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.dispatch.message_spec import GITHUB_TYPES, HIGH, LOW, NAG, SELF_SERVICE

# Alert states, in the order an alert usually moves through them.
RECEIVED = "received"
NOTIFYING = "notifying"  # the GitHub issue exists (or failed for good); messages are going out
AWAITING = "awaiting_answer"  # self-service: the Yes/No prompt is out
CLOSING, CLOSED = "closing", "closed"  # Yes: the issue is being / has been closed
ESCALATING, ESCALATED = "escalating", "escalated"  # No, no answer in time, or high priority
NOTIFIED = "notified"  # broadcast / nag delivered (or self-service that could not be prompted)
FILED = "filed"  # low priority: the issue is the whole alert
SKIPPED = "skipped"  # an issue with the same title already exists
FAILED = "failed"
FINAL_STATES = (CLOSED, ESCALATED, NOTIFIED, FILED, SKIPPED, FAILED)

# Answers to a self-service prompt, as stored on the alert row.
YES, NO, NO_RESPONSE = "yes", "no", "no response"
HIGH_PRIORITY = "high"  # why a high-priority alert pages: no answer involved
EVERYONE = "*"  # in DISPATCH_ALLOWED_USERS: every member may page and broadcast, said explicitly

# The outbox kinds of an alert's steps.
ISSUE_STEP = "dispatch.issue"
PAGE_STEP = "dispatch.page"
MESSAGE_STEP = "dispatch.message"
PROMPT_STEP = "dispatch.prompt"
POST_STEP = "dispatch.post"
UPDATE_PROMPT_STEP = "dispatch.update_prompt"
UPDATE_ACK_STEP = "dispatch.update_ack"
COMMENT_STEP = "dispatch.comment"
CLOSE_STEP = "dispatch.close"
ACK_COMMENT_STEP = "dispatch.ack_comment"


def first_step(message_type: str) -> tuple[str, dict[str, Any]]:
    """The alert's first step and what its payload adds to the alert id: types with an audit issue start there,
    high priority pages at once."""
    if message_type in GITHUB_TYPES:
        return ISSUE_STEP, {}
    return PAGE_STEP, ({"reason": HIGH_PRIORITY} if message_type == HIGH else {})


def reuses_existing_issue(message_type: str) -> bool:
    """An issue with the same title already exists: a nag reminds again on it, every other type is skipped."""
    return message_type == NAG


def messages_people(message_type: str) -> bool:
    """Low priority is the issue alone; every other type with an issue messages its recipients next."""
    return message_type != LOW


def state_after_issue(message_type: str) -> str:
    return NOTIFYING if messages_people(message_type) else FILED


def state_after_failed_issue(message_type: str) -> str:
    """GitHub refused the issue for good: the alarm still goes out to people; low priority has nothing left."""
    return NOTIFYING if messages_people(message_type) else FAILED


def wants_prompt(message_type: str, slack_id: str | None, prompt: str | None) -> bool:
    """Self-service asks its user Yes/No once the alert message is out, if it can: a Slack user and a prompt."""
    return message_type == SELF_SERVICE and bool(slack_id) and bool(prompt)


def settled(
    message_type: str, has_prompt: bool, deliveries: Sequence[tuple[str, str | None]]
) -> tuple[str, str | None] | None:
    """The alert's (state, outcome) once every message is out or failed, from each recipient's (delivery state,
    Slack ID); None while one is pending, or while a self-service prompt is on its way (the alert will await it)."""
    if any(state == "pending" for state, _ in deliveries):
        return None
    failed = sum(1 for state, _ in deliveries if state == "failed")
    outcome = f"{len(deliveries) - failed} of {len(deliveries)} delivered" if failed else None
    if message_type == SELF_SERVICE:
        if failed:
            outcome = "could not message the user"
        elif deliveries and deliveries[0][1] and has_prompt:
            return None
        else:
            outcome = "no prompt: users[0] has no Slack user ID"
    return (FAILED if failed == len(deliveries) else NOTIFIED), outcome


def answer_deadlines(prompt_sent_at: float, timeout_seconds: float) -> tuple[float, float]:
    """(remind_at, escalate_at): one reminder halfway through the timeout, escalation at its end."""
    return prompt_sent_at + timeout_seconds / 2, prompt_sent_at + timeout_seconds


def timeout_check_seconds(timeout_seconds: float) -> float:
    """How often the timeout job looks anyway (it is also woken at each deadline): often enough for short
    timeouts, at most every 30 seconds."""
    return min(30.0, max(0.5, timeout_seconds / 4))


def escalation_due(escalate_at: float, now: float) -> bool:
    """At a due moment of an awaiting alert: escalate if its deadline has passed, else it is the reminder's turn."""
    return escalate_at <= now


def is_answerable(state: str) -> bool:
    # NOTIFYING too: the buttons are live as soon as Slack has the prompt, a moment before its ts is recorded.
    return state in (NOTIFYING, AWAITING)


def state_after_answer(answer: str) -> str:
    """Yes closes the issue; No and no answer in time escalate to PagerDuty."""
    return CLOSING if answer == YES else ESCALATING


def may_answer(user_id: str, addressee: str | None, is_admin: Callable[[str], bool]) -> bool:
    """The person asked, or a Switchboard admin (asked only when needed: it may cost a Slack call)."""
    return user_id == addressee or is_admin(user_id)


def may_reach(
    user_id: str,
    allowed: tuple[str, ...],
    is_admin: Callable[[str], bool],
    group_members: Callable[[str], frozenset[str]],
) -> bool:
    """`/dispatch page`, `broadcast` and `json` (actions with reach): admins, the users and usergroup members in
    DISPATCH_ALLOWED_USERS, everybody only with `*`; nobody else, also when the list is empty. The lookups run only
    when the cheaper checks did not decide."""
    if EVERYONE in allowed or user_id in allowed or is_admin(user_id):
        return True
    return any(user_id in group_members(group) for group in allowed if group.startswith("S"))


def may_use(
    user_id: str,
    allowed: tuple[str, ...],
    is_admin: Callable[[str], bool],
    group_members: Callable[[str], frozenset[str]],
) -> bool:
    """The rest of `/dispatch` (confirm, status): everybody when DISPATCH_ALLOWED_USERS is empty, else whoever
    may page and broadcast."""
    return not allowed or may_reach(user_id, allowed, is_admin, group_members)


def over_broadcast_cap(recipients: int, cap: int, is_admin: Callable[[str], bool], user_id: str) -> bool:
    """A Slack-made message for more than DISPATCH_BROADCAST_MAX people is refused, unless an admin sends it."""
    return recipients > cap and not is_admin(user_id)


def may_see(user_id: str, source: str, recipients: Sequence[str | None], is_admin: Callable[[str], bool]) -> bool:
    """`/dispatch status` shows an alert to whoever sent it from Slack, its recipients and admins."""
    return source == f"slack:{user_id}" or user_id in recipients or is_admin(user_id)


def mentions_allowed(source: str, allow_mentions: bool) -> bool:
    """Whether an alert's text may mention users and usergroups in Slack: with DISPATCH_ALLOW_MENTIONS, and always
    for alerts written in Slack by a member (who could mention those people there anyway)."""
    return allow_mentions or source.startswith("slack:")


def intake_lockout(failures: Sequence[float], now: float, allowed: int, window: float) -> float:
    """Seconds an address must wait after wrong tokens: once `allowed` of its failures fall within the last
    `window` seconds, until the oldest of those ages out; 0 otherwise."""
    recent = sorted(at for at in failures if at > now - window)
    if len(recent) < allowed:
        return 0.0
    return recent[-allowed] + window - now


def page_outcome(reason: str, already_open: bool) -> str:
    outcome = {HIGH_PRIORITY: "paged", NO: "escalated", NO_RESPONSE: "escalated: no response"}.get(reason, "escalated")
    return outcome + " (incident was already open)" if already_open else outcome


def comments_escalation(alert_type: str) -> bool:
    """Self-service alerts record on their audit issue why and where they were escalated."""
    return alert_type == SELF_SERVICE
