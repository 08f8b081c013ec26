"""Jira fake data model: workflow, priorities, fields, ADF conversion and field-value parsing (Jira's wording)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PRIORITY_NAMES = ("Highest", "High", "Medium", "Low", "Lowest")  # ids "1".."5"
DEFAULT_PRIORITY = "3"
CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}
DEFAULT_ISSUE_TYPES = ("Task", "Incident", "Question", "Timeline", "Sub-task")
DEFAULT_SUBTASK_TYPES = ("Sub-task",)  # issue types at the sub-task level: they need a parent, and have no children
DEFAULT_LINK_TYPES = (
    ("Blocks", "is blocked by", "blocks"),
    ("Relates", "relates to", "relates to"),
    ("Duplicate", "is duplicated by", "duplicates"),
    ("Question", "is question of", "has question"),
    ("Stakeholder", "is stakeholder of", "has stakeholder"),
    ("Incident Manager", "is incident manager of", "has incident manager"),
    ("Timeline", "is timeline of", "has timeline"),
)
SEVERITY_FIELD = "customfield_10050"
SEVERITY_OPTIONS = {str(10100 + n): f"SEV-{n}" for n in range(5)}
RESOLUTION_DONE = {"id": "10000", "name": "Done", "description": "Work has been completed on this issue."}
# (id, name, clauseNames, schema type); the order is what GET /field answers
FIELD_CATALOGUE = (
    ("issuekey", "Key", ["id", "issue", "issuekey", "key"], None),
    ("summary", "Summary", ["summary"], "string"),
    ("description", "Description", ["description"], "string"),
    ("issuetype", "Issue Type", ["issuetype", "type"], "issuetype"),
    ("priority", "Priority", ["priority"], "priority"),
    ("status", "Status", ["status"], "status"),
    ("statuscategorychangedate", "Status Category Changed", ["statusCategoryChangedDate"], "datetime"),
    ("resolution", "Resolution", ["resolution"], "resolution"),
    ("resolutiondate", "Resolved", ["resolutiondate", "resolved"], "datetime"),
    ("labels", "Labels", ["labels"], "array"),
    ("project", "Project", ["project"], "project"),
    ("created", "Created", ["created", "createdDate"], "datetime"),
    ("updated", "Updated", ["updated", "updatedDate"], "datetime"),
    ("assignee", "Assignee", ["assignee"], "user"),
    ("reporter", "Reporter", ["reporter"], "user"),
    ("creator", "Creator", ["creator"], "user"),
    ("duedate", "Due date", ["due", "duedate"], "date"),
    ("issuelinks", "Linked Issues", ["issueLink"], "array"),
    ("subtasks", "Sub-tasks", ["subtasks"], "array"),
    ("parent", "Parent", ["parent"], None),
    ("comment", "Comment", ["comment"], "comments-page"),
    (SEVERITY_FIELD, "Severity", ["cf[10050]", "Severity", "Severity[Dropdown]"], "option"),
)
CHANGE_NAMES = {SEVERITY_FIELD: "Severity"}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str  # new | indeterminate | done


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str
    only_from: str | None = None  # None: a global transition, available from every other status


STATUSES = {s.name: s for s in (Status("10000", "To Do", "new"), Status("3", "In Progress", "indeterminate"))}
STATUSES["Done"] = Status("10001", "Done", "done")
TRANSITIONS = (
    Transition("11", "To Do", "To Do"),
    Transition("21", "In Progress", "In Progress"),
    Transition("31", "Done", "Done"),
    Transition("41", "Reopen", "To Do", only_from="Done"),
)


@dataclass
class Comment:
    id: str
    author: str  # accountId
    body: Any  # plain string or an ADF document, as it was sent
    created: float


@dataclass
class Issue:
    id: str
    key: str
    project: str
    issuetype: str
    creator: str
    created: float
    updated: float
    status: str = "To Do"
    status_changed: float = 0.0
    resolved: float | None = None
    parent: str | None = None  # a sub-task's parent issue id
    values: dict[str, Any] = field(default_factory=dict)  # editable fields by id: summary, priority (id), labels...
    comments: list[Comment] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)  # author is an accountId, created a float


class Invalid(ValueError):
    """A field value Jira would refuse; the message is Jira's wording."""


def jira_time(ts: float) -> str:
    """Jira's timestamp format, e.g. 2026-11-25T10:00:00.000+0000 (the fake's users live in UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}+0000"


def text_to_adf(text: str) -> dict[str, Any]:
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []} for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF node (block children on their own lines); strings pass through."""
    if node is None or isinstance(node, str):
        return node or ""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    joiner = "\n" if node.get("type") in ("doc", "bulletList", "orderedList", "blockquote", "panel") else ""
    return joiner.join(adf_to_text(child) for child in node.get("content") or [])


def render_text(value: Any, v: str) -> Any:
    if value is None:
        return None
    if v == "3":
        return value if isinstance(value, dict) else text_to_adf(str(value))
    return adf_to_text(value)


def ref_of(value: Any) -> str | None:
    """A project / issue type reference given as {"key"}, {"id"}, {"name"} or a bare string."""
    if isinstance(value, dict):
        found = value.get("key") or value.get("id") or value.get("name")
        return None if found is None else str(found)
    return None if value is None else str(value)


def parse_summary(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("You must specify a summary of the issue.")
    if "\n" in raw:
        raise Invalid("The summary is invalid because it contains newline characters.")
    if len(raw) > 255:
        raise Invalid("Summary must be less than 255 characters.")
    return raw


def parse_description(raw: Any) -> Any:
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and raw.get("type") == "doc":
        return raw
    raise Invalid("Operation value must be an Atlassian Document (see the Atlassian Document Format)")


def parse_priority(raw: Any) -> str:
    wanted = ref_of(raw)
    for number, name in enumerate(PRIORITY_NAMES, start=1):
        if wanted in (name, str(number)):
            return str(number)
    raise Invalid("Specify a valid 'id' or 'name' for Priority")


def parse_labels(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(label, str) for label in raw):
        raise Invalid("Field 'labels' must be a list of strings.")
    for label in raw:
        if " " in label:
            raise Invalid(f"The label '{label}' contains spaces which is invalid.")
    return list(dict.fromkeys(raw))


def parse_user(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, dict) and raw.get("accountId"):
        return str(raw["accountId"])
    raise Invalid("Specify a valid value for the user (accountId).")


def parse_severity(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        for option_id, value in SEVERITY_OPTIONS.items():
            if raw.get("id") == option_id or raw.get("value") == value:
                return option_id
        raise Invalid(f"Option value '{raw.get('value', raw.get('id'))}' is not valid")
    raise Invalid("Specify a valid 'id' or 'value' for Severity")


def label_op(labels: list[str], verb: str, argument: Any) -> list[str]:
    if verb == "set":
        return parse_labels(argument)
    if verb == "add":
        return labels if argument in labels else [*labels, *parse_labels([argument])]
    return [label for label in labels if label != argument]


FIELD_PARSERS: dict[str, Callable[[Any], Any]] = {
    "summary": parse_summary,
    "description": parse_description,
    "priority": parse_priority,
    "labels": parse_labels,
    "assignee": parse_user,
    "reporter": parse_user,
    "duedate": lambda raw: None if raw in (None, "") else str(raw),
    SEVERITY_FIELD: parse_severity,
}
