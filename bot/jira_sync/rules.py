"""Pure rules of the Jira sync (no I/O, unit-tested): what an issue looks like, what a change on one side means
for the other, and the JQL that polls Jira.

A link row remembers the last value seen or written on each side (pd_status, pd_priority, jira_category,
jira_priority). A side's value that differs from its remembered one is a change to carry over, unless the bot
wrote that value itself (`own`): that is the echo guard, and it is why nothing ever bounces back.

PagerDuty's text (titles, service names, notes and their authors) is written by people outside Switchboard: in
Jira descriptions and comments (wiki markup, REST v2) it is escaped with `for_jira`, in Slack with `escape`, and
links into Slack are built by `link`, so none of it can mention, link, run macros or broadcast.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.incidents.config import DEFAULT_ACCOUNT
from bot.incidents.model import LogEntry, PdIncident
from bot.jira_sync.config import JiraConfig, Question
from bot.text import escape, for_jira, link

OwnWrite = Callable[[str, str | None], bool]  # (field, value) -> did the bot write exactly this?
MAX_SUMMARY = 255
# A URL Jira's wiki markup shows as a link to itself; anything else is escaped like text.
_PLAIN_URL = re.compile(r"https?://[^\s\[\]{}|<>\\!^~*+]+")


def issue_label(account: str, number: int) -> str:
    """A label with the incident number: `pagerduty-123`, or `pagerduty-<account>-123` for extra accounts."""
    return f"pagerduty-{number}" if account == DEFAULT_ACCOUNT else f"pagerduty-{account}-{number}"


def raised_to(entries: Iterable[LogEntry], priorities: frozenset[str]) -> set[str]:
    """Incidents whose priority was raised to one of `priorities` in these log entries."""
    return {e.incident_id for e in entries if e.type == "priority_change_log_entry" and e.new_priority in priorities}


def qualifies(incident: PdIncident, priorities: frozenset[str], raised: set[str]) -> bool:
    """Whether an incident gets a Jira issue: it is at a priority of JIRA_PRIORITIES, or was raised to one."""
    return incident.priority in priorities or incident.id in raised


def issue_summary(incident: PdIncident) -> str:
    prefix = (
        f"[PD #{incident.number}]"
        if incident.account == DEFAULT_ACCOUNT
        else f"[PD {incident.account} #{incident.number}]"
    )
    summary = " ".join(f"{prefix} {incident.title}".split())  # Jira refuses newlines in a summary
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1] + "…"


def issue_description(incident: PdIncident) -> str:
    """Jira wiki markup (the issue is created through REST v2): every value from PagerDuty is escaped."""
    lines = [
        f"PagerDuty incident #{incident.number}: {for_jira(incident.title)}",
        jira_url(incident.html_url),
        "",
        f"Service: {for_jira(incident.service_name or incident.service_id)}",
        f"Priority: {for_jira(incident.priority or 'none')}",
        f"Status: {for_jira(incident.status)}",
    ]
    if incident.account != DEFAULT_ACCOUNT:
        lines.append(f"PagerDuty account: {for_jira(incident.account)}")
    lines += ["", "Opened by Switchboard; status and priority stay in sync with PagerDuty."]
    return "\n".join(lines)


def jira_url(url: str) -> str:
    """PagerDuty's link to the incident as Jira wiki markup: a plain http(s) URL (Jira links it to itself), else
    escaped text."""
    return url if _PLAIN_URL.fullmatch(url) else for_jira(url)


def issue_fields(config: JiraConfig, incident: PdIncident, jira_priority: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": config.project},  # a dict, so the library does not GET the project first
        "issuetype": {"name": config.issue_type},
        "summary": issue_summary(incident),
        "description": issue_description(incident),
        "labels": [issue_label(incident.account, incident.number)],
    }
    if jira_priority:
        fields["priority"] = {"name": jira_priority}
    return fields


def jql_since(project: str, since: float, zone: tzinfo) -> str:
    """JQL dates have minute resolution in the API user's time zone; the caller subtracts an overlap."""
    stamp = datetime.fromtimestamp(since, zone).strftime("%Y-%m-%d %H:%M")
    return f'project = "{project}" AND updated >= "{stamp}" ORDER BY updated ASC'


def jira_time(value: str | None) -> float | None:
    """Jira's `2026-11-25T10:00:00.000+0000` as epoch seconds."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def user_zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


@dataclass(frozen=True)
class IssueSnapshot:
    key: str
    id: str
    status: str
    category: str  # new | indeterminate | done
    priority: str | None
    updated: str

    @classmethod
    def from_api(cls, issue: dict[str, Any]) -> IssueSnapshot:
        fields = issue.get("fields") or {}
        status = fields.get("status") or {}
        priority = fields.get("priority") or {}
        return cls(
            key=str(issue.get("key")),
            id=str(issue.get("id")),
            status=str(status.get("name") or ""),
            category=str((status.get("statusCategory") or {}).get("key") or ""),
            priority=priority.get("name") if isinstance(priority, dict) else None,
            updated=str(fields.get("updated") or ""),
        )


@dataclass
class Decision:
    """Column updates for the link row, and effects to queue: (kind, payload extras)."""

    updates: dict[str, Any] = field(default_factory=dict)
    effects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (field, value) changed by someone else


def pagerduty_changed(link: dict[str, Any], incident: PdIncident, config: JiraConfig, own: OwnWrite) -> Decision:
    """PagerDuty's current state against the link: Jira priority and transitions to carry over."""
    decision = Decision()
    linked = bool(link.get("issue_key"))
    if incident.priority and incident.priority != link.get("pd_priority"):
        decision.updates["pd_priority"] = incident.priority
        target = config.priority_map.get(incident.priority)
        if not own("priority", incident.priority):
            decision.seen.append(("priority", incident.priority))
            if target and target != link.get("jira_priority"):
                decision.updates["jira_priority"] = target
                if linked:  # otherwise the create uses the row's priority
                    decision.effects.append(("jira_priority", {"priority": target}))
    if incident.status and incident.status != link.get("pd_status"):
        decision.updates["pd_status"] = incident.status
        if not own("status", incident.status):
            decision.seen.append(("status", incident.status))
            if config.transitions.get(incident.status) and linked:
                decision.effects.append(("jira_transition", {"pd_status": incident.status}))
    return decision


def jira_changed(link: dict[str, Any], issue: IssueSnapshot, config: JiraConfig, own: OwnWrite) -> Decision:
    """Jira's current state against the link: resolve, note or re-prioritise the PagerDuty incident."""
    decision = Decision(updates={"jira_updated": issue.updated, "jira_status": issue.status})
    before = link.get("jira_category")
    if issue.category and issue.category != before:
        decision.updates["jira_category"] = issue.category
        if not own("status", issue.category):
            decision.seen.append(("status", issue.category))
            if issue.category == "done" and link.get("pd_status") != "resolved":
                decision.updates["pd_status"] = "resolved"
                decision.effects.append(("pd_resolve", {}))
            elif before == "done" and issue.category != "done":
                decision.effects.append(("pd_note", {"content": reopened_note(issue)}))
    if issue.priority and issue.priority != link.get("jira_priority"):
        decision.updates["jira_priority"] = issue.priority
        target = config.reverse_priority_map.get(issue.priority)
        if not own("priority", issue.priority):
            decision.seen.append(("priority", issue.priority))
            if target and target != link.get("pd_priority"):
                decision.updates["pd_priority"] = target
                decision.effects.append(("pd_priority", {"priority": target}))
    return decision


def reopened_note(issue: IssueSnapshot) -> str:
    return (
        f"Jira issue {issue.key} was moved back to “{issue.status}”. A resolved PagerDuty incident cannot be "
        "re-opened: trigger a new one if the problem is back."
    )


def note_comment(note: dict[str, Any]) -> str:
    """A PagerDuty note as a Jira comment body (wiki markup, REST v2): the note and its author stay text."""
    author = (note.get("user") or {}).get("summary") or "someone"
    return f"PagerDuty note by {for_jira(str(author))}: {for_jira(str(note.get('content') or ''))}"


def created_notice(browse_url: str, key: str, html_url: str, number: int, title: str, priority: str | None) -> str:
    """The Slack notice of a new issue: links built by `link` (a label never shows another target than its own),
    PagerDuty's title and priority escaped (no links, mentions or broadcasts)."""
    incident = link(html_url, f"#{number}") if html_url else f"#{number}"
    return (
        f":ticket: Jira {link(f'{browse_url}{key}', key)} opened for PagerDuty {incident} {escape(title)} "
        f"({escape(priority or 'no priority')})"
    )


# --- the incident process: severity, question sub-tasks, links, timeline ------------------------------------------
# PagerDuty log entry types copied to the timeline. Notes (`annotate_log_entry`) come from the incident's notes
# instead, whose text is complete; `notify_log_entry` (who was paged how) is left out as noise.
TIMELINE_TYPES = frozenset(
    {
        "trigger_log_entry",
        "acknowledge_log_entry",
        "unacknowledge_log_entry",
        "assign_log_entry",
        "delegate_log_entry",
        "escalate_log_entry",
        "priority_change_log_entry",
        "urgency_change_log_entry",
        "snooze_log_entry",
        "resolve_log_entry",
    }
)
# Characters with a meaning in JQL text search (Lucene syntax): left out of a name searched for.
_TEXT_SEARCH_SYNTAX = re.compile(r'[+\-&|!(){}\[\]^~*?\\:"\'/]')


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def timeline_label(account: str, number: int) -> str:
    """The timeline issue's label; not the incident's own, which the create's retry searches for."""
    return f"{issue_label(account, number)}-timeline"


def subtask_fields(
    project: str, parent_key: str, issue_type: str, summary: str, description: str = ""
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": project},  # a sub-task lives in its parent's project
        "parent": {"key": parent_key},
        "issuetype": {"name": issue_type},
        "summary": _shortened(summary),
    }
    if description:
        fields["description"] = description
    return fields


def timeline_issue_fields(config: JiraConfig, incident: PdIncident, incident_key: str) -> dict[str, Any]:
    return {
        "project": {"key": config.process.timeline_project or config.project},
        "issuetype": {"name": config.process.timeline_issue_type},
        "summary": _shortened(f"Timeline of {incident_key}: {issue_summary(incident)}"),
        "description": "\n".join(
            [
                f"PagerDuty incident #{incident.number}: {jira_url(incident.html_url)}",
                "",
                f"Its log, one comment per entry, copied by Switchboard. The incident's issue is {incident_key}.",
            ]
        ),
        "labels": [timeline_label(incident.account, incident.number)],
    }


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def timeline_comment(entry: LogEntry) -> str | None:
    """A log entry as a timeline comment (wiki markup: PagerDuty's text escaped), or None when not copied."""
    if entry.type not in TIMELINE_TYPES:
        return None
    summary = entry.summary.strip() or entry.type.removesuffix("_log_entry").replace("_", " ")
    text = for_jira(summary)
    if entry.agent and entry.agent not in summary:  # PagerDuty's summaries usually name who did it already
        text += f" ({for_jira(entry.agent)})"
    return f"PagerDuty, {_utc(entry.created_at)}: {text}"


def timeline_note(note: dict[str, Any], noted_at: float | None) -> str:
    """A PagerDuty note as a timeline comment: when, who and what, all escaped."""
    when = f"PagerDuty, {_utc(noted_at)}: " if noted_at is not None else "PagerDuty: "
    author = (note.get("user") or {}).get("summary") or "someone"
    return f"{when}note by {for_jira(str(author))}: {for_jira(str(note.get('content') or ''))}"


def severity_value(field: dict[str, Any], value: str) -> Any:
    """The field's value as Jira's create expects it for the field's type (from `GET /field`): an option as
    `{"value": …}` (a select list, the usual Severity field), a list of those for a multi-select, else as typed."""
    schema = field.get("schema") or {}
    kind, items = schema.get("type"), schema.get("items")
    if kind == "array":
        return [{"value": value}] if items == "option" else [value]
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind in ("string", "date", "datetime"):
        return value
    return {"value": value}


def find_field(fields: Iterable[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    """A field of `GET /field` by ID (customfield_10042) or, failing that, by name (case-insensitive)."""
    fields = list(fields)
    by_id = next((f for f in fields if str(f.get("id")) == wanted), None)
    return by_id or next((f for f in fields if str(f.get("name") or "").casefold() == wanted.casefold()), None)


def person_jql(project: str, name: str) -> str | None:
    """JQL finding a person's issue by its summary; None when the name leaves nothing to search for."""
    words = " ".join(_TEXT_SEARCH_SYNTAX.sub(" ", name).split())
    return f'project = "{project}" AND summary ~ "{words}" ORDER BY created ASC' if words else None


def is_person(summary: str | None, name: str) -> bool:
    """Jira's text search is fuzzy: only an issue named exactly after the person (any case) is theirs."""
    return " ".join(str(summary or "").split()).casefold() == " ".join(name.split()).casefold()


def linked_keys(issue_links: Iterable[dict[str, Any]], link_type: str) -> set[str]:
    """Keys of the issues linked to an issue with this link type (either direction)."""
    keys = set()
    for issue_link in issue_links:
        if str((issue_link.get("type") or {}).get("name") or "").casefold() != link_type.casefold():
            continue
        for side in ("inwardIssue", "outwardIssue"):
            if issue_link.get(side):
                keys.add(str(issue_link[side].get("key")))
    return keys


def missing_questions(questions: Iterable[Question], subtasks: Iterable[dict[str, Any]]) -> list[Question]:
    """Questions without a sub-task of that summary yet (a retry after a crash creates only the rest)."""
    asked = {" ".join(str((s.get("fields") or {}).get("summary") or "").split()).casefold() for s in subtasks}
    return [q for q in questions if _shortened(q.summary).casefold() not in asked]


def missing_transitions(transitions: dict[str, str], workflow_names: Iterable[str]) -> list[tuple[str, str]]:
    """(PagerDuty status, name) for each JIRA_TRANSITIONS name the workflow has neither as a transition nor as a
    status: the transition effect matches either, ignoring case."""
    known = {name.lower() for name in workflow_names}
    return [(status, name) for status, name in transitions.items() if name.lower() not in known]
