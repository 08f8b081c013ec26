"""Jira sync settings, validated at startup (a bad value stops the bot with a one-line reason).

The Jira credentials and JIRA_PROJECT are core settings; the poller's (INCIDENT_*, PAGERDUTY_ACCOUNT_<NAME>) are
declared in `bot/incidents/config.py`. The incident process (severity, question sub-tasks, links, timeline) is
off until its settings are given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.incidents.config import parse_channel, parse_positive_int
from bot.settings import ROOT, Setting, Settings, SettingsError, choice, parse_text

DEFAULT_PRIORITY_MAP = "P1=Highest,P2=High,P3=Medium,P4=Low,P5=Lowest"
DEFAULT_TRANSITIONS = "acknowledged=In Progress,resolved=Done"
PD_STATUSES = ("triggered", "acknowledged", "resolved")


def parse_pairs(name: str, text: str) -> dict[str, str]:
    """`A=B,C=D` as a dict; raises SettingsError naming the setting."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        key, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or not key or not value:
            raise SettingsError(f"{name} must be comma-separated KEY=VALUE pairs, got {item!r}")
        pairs[key] = value
    return pairs


def parse_priorities(name: str, text: str) -> frozenset[str]:
    priorities = frozenset(p.strip() for p in text.split(",") if p.strip())
    if not priorities:
        raise SettingsError(f"{name} must name at least one PagerDuty priority, such as P1")
    return priorities


def parse_transitions(name: str, text: str) -> dict[str, str]:
    transitions = parse_pairs(name, text)
    unknown = [status for status in transitions if status not in PD_STATUSES]
    if unknown:
        raise SettingsError(f"{name} keys must be PagerDuty statuses ({', '.join(PD_STATUSES)}), got {unknown[0]!r}")
    return transitions


PRIORITIES = Setting(
    "JIRA_PRIORITIES",
    "P1",
    parse_priorities,
    "PagerDuty priorities that get a Jira issue, comma-separated",
    capability="jira_sync",
)
ISSUE_TYPE = Setting(
    "JIRA_ISSUE_TYPE", "Incident", parse_text, "Issue type of the created issues", capability="jira_sync"
)
PRIORITY_MAP = Setting(
    "JIRA_PRIORITY_MAP",
    DEFAULT_PRIORITY_MAP,
    parse_pairs,
    "PagerDuty → Jira priority (read backwards for Jira → PagerDuty; the first match wins)",
    capability="jira_sync",
)
TRANSITIONS = Setting(
    "JIRA_TRANSITIONS",
    DEFAULT_TRANSITIONS,
    parse_transitions,
    "PagerDuty status (triggered, acknowledged, resolved) → Jira transition name (or target status name)",
    capability="jira_sync",
)
NOTIFY_CHANNEL = Setting(
    "JIRA_NOTIFY_CHANNEL",
    None,
    parse_channel,
    "Channel ID where each new issue's link is posted",
    capability="jira_sync",
)
POLL_SECONDS = Setting(
    "JIRA_POLL_SECONDS", "60", parse_positive_int, "How often Jira is searched for changes", capability="jira_sync"
)


# --- the incident process --------------------------------------------------------------------------------------
MAX_SUMMARY = 255  # Jira refuses a longer summary
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class Question:
    summary: str
    description: str = ""


def parse_questions_file(name: str, value: str) -> tuple[Question, ...]:
    """The question checklist: one question per line (blank lines and `#` comments skipped), or the original
    tool's JSON list of `{"summary", "description"}` objects. A relative path is relative to the checkout."""
    path = Path(value.strip())
    path = path if path.is_absolute() else ROOT / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{name} cannot be read ({path}): {type(error).__name__}") from None
    if text.lstrip().startswith("["):
        questions = _json_questions(name, text)
    else:
        lines = (line.strip() for line in text.splitlines())
        questions = [Question(line) for line in lines if line and not line.startswith("#")]
    for number, question in enumerate(questions, start=1):
        if len(question.summary) > MAX_SUMMARY:
            raise SettingsError(f"{name}: question {number} is longer than {MAX_SUMMARY} characters")
    if not questions:
        raise SettingsError(f"{name} has no questions ({path})")
    unique = {q.summary.casefold(): q for q in reversed(questions)}  # a repeated question is asked once (the first)
    return tuple(q for q in questions if unique[q.summary.casefold()] is q)


def _json_questions(name: str, text: str) -> list[Question]:
    try:
        items = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"{name} is not a valid JSON list: {error}") from None
    questions: list[Question] = []
    for number, item in enumerate(items if isinstance(items, list) else [None], start=1):
        if isinstance(item, str):
            item = {"summary": item}
        summary = " ".join(str(item.get("summary") or "").split()) if isinstance(item, dict) else ""
        if not summary:
            raise SettingsError(f'{name}: item {number} needs a "summary" (a list of questions is expected)')
        questions.append(Question(summary, str(item.get("description") or "")))
    return questions


def parse_issue_keys(name: str, value: str) -> tuple[str, ...]:
    keys = tuple(k.strip().upper() for k in value.split(",") if k.strip())
    bad = [k for k in keys if not _ISSUE_KEY.fullmatch(k)]
    if bad:
        raise SettingsError(f"{name} must be comma-separated Jira issue keys such as PERSON-12, got {bad[0]!r}")
    return keys


def parse_project_key(name: str, value: str) -> str:
    key = value.strip().upper()
    if not _PROJECT_KEY.fullmatch(key):
        raise SettingsError(f"{name} must be a Jira project key such as PERSON, got {value!r}")
    return key


SEVERITY_FIELD = Setting(
    "JIRA_SEVERITY_FIELD",
    None,
    parse_text,
    "Field set on every created issue, by ID (customfield_10042) or name (Severity); needs JIRA_SEVERITY_VALUE",
    capability="jira_sync",
)
SEVERITY_VALUE = Setting(
    "JIRA_SEVERITY_VALUE",
    None,
    parse_text,
    "Value of JIRA_SEVERITY_FIELD on created issues, such as SEV-0 (an option's name for a select list)",
    capability="jira_sync",
)
QUESTIONS_FILE = Setting(
    "JIRA_QUESTIONS_FILE",
    None,
    parse_questions_file,
    "File of questions, one per line (# comments): each becomes a sub-task of every created issue",
    capability="jira_sync",
)
SUBTASK_TYPE = Setting(
    "JIRA_SUBTASK_TYPE",
    "Sub-task",
    parse_text,
    "Issue type of the question sub-tasks (team-managed projects call it Subtask)",
    capability="jira_sync",
)
LINK_TYPE = Setting(
    "JIRA_LINK_TYPE",
    None,
    parse_text,
    "Issue link type (such as Relates) from each created issue to its incident manager's and stakeholders' issues",
    capability="jira_sync",
)
STAKEHOLDERS = Setting(
    "JIRA_ISSUE_STAKEHOLDERS",
    "",
    parse_issue_keys,
    "Issues of the stakeholders (comma-separated keys such as PERSON-3) linked to every created issue",
    capability="jira_sync",
)
PERSON_PROJECT = Setting(
    "JIRA_PERSON_PROJECT",
    None,
    parse_project_key,
    "Project with one issue per person, named after them: the PagerDuty assignee's issue is linked as incident manager",
    capability="jira_sync",
)
TIMELINE = Setting(
    "JIRA_TIMELINE",
    None,
    choice("comments", "issue"),
    "PagerDuty's log (acknowledge, escalate, reassign, notes, resolve) as comments: `comments` on each issue, "
    "`issue` on a linked timeline issue",
    capability="jira_sync",
)
TIMELINE_PROJECT = Setting(
    "JIRA_TIMELINE_PROJECT",
    None,
    parse_project_key,
    "Project of the timeline issues (JIRA_TIMELINE=issue); default JIRA_PROJECT",
    capability="jira_sync",
)
TIMELINE_ISSUE_TYPE = Setting(
    "JIRA_TIMELINE_ISSUE_TYPE",
    "Task",
    parse_text,
    "Issue type of the timeline issue (JIRA_TIMELINE=issue)",
    capability="jira_sync",
)
SETTINGS: tuple[Setting, ...] = (
    PRIORITIES,
    ISSUE_TYPE,
    PRIORITY_MAP,
    TRANSITIONS,
    NOTIFY_CHANNEL,
    POLL_SECONDS,
    SEVERITY_FIELD,
    SEVERITY_VALUE,
    QUESTIONS_FILE,
    SUBTASK_TYPE,
    LINK_TYPE,
    STAKEHOLDERS,
    PERSON_PROJECT,
    TIMELINE,
    TIMELINE_PROJECT,
    TIMELINE_ISSUE_TYPE,
)
DEFAULT_TIMELINE_LINK_TYPE = "Relates"


@dataclass(frozen=True)
class ProcessConfig:
    """The incident process of the original tool; every part is off (None or empty) until configured."""

    severity_field: str | None = None  # a field ID or name
    severity_value: str | None = None
    questions: tuple[Question, ...] = ()
    subtask_type: str = "Sub-task"
    link_type: str | None = None
    stakeholders: tuple[str, ...] = ()
    person_project: str | None = None
    timeline: str | None = None  # comments | issue
    timeline_project: str | None = None  # None: the incident's project
    timeline_issue_type: str = "Task"

    @property
    def timeline_link_type(self) -> str:
        return self.link_type or DEFAULT_TIMELINE_LINK_TYPE


def load_process(settings: Settings) -> ProcessConfig:
    severity_field, severity_value = settings.read(SEVERITY_FIELD), settings.read(SEVERITY_VALUE)
    if bool(severity_field) != bool(severity_value):
        missing = SEVERITY_VALUE if severity_field else SEVERITY_FIELD
        raise SettingsError(f"{missing.name} is needed too: set both JIRA_SEVERITY_FIELD and JIRA_SEVERITY_VALUE")
    link_type = settings.read(LINK_TYPE)
    stakeholders, person_project = settings.read(STAKEHOLDERS), settings.read(PERSON_PROJECT)
    if (stakeholders or person_project) and not link_type:
        raise SettingsError("JIRA_LINK_TYPE is needed to link JIRA_ISSUE_STAKEHOLDERS or JIRA_PERSON_PROJECT issues")
    return ProcessConfig(
        severity_field=severity_field or None,
        severity_value=severity_value or None,
        questions=settings.read(QUESTIONS_FILE) or (),
        subtask_type=settings.read(SUBTASK_TYPE),
        link_type=link_type or None,
        stakeholders=stakeholders,
        person_project=person_project,
        timeline=settings.read(TIMELINE),
        timeline_project=settings.read(TIMELINE_PROJECT),
        timeline_issue_type=settings.read(TIMELINE_ISSUE_TYPE),
    )


@dataclass(frozen=True)
class JiraConfig:
    project: str
    issue_type: str
    priorities: frozenset[str]  # PagerDuty priorities that get a Jira issue
    priority_map: dict[str, str]  # PagerDuty priority -> Jira priority
    transitions: dict[str, str]  # PagerDuty status -> Jira transition name
    notify_channel: str | None
    poll_seconds: int
    browse_url: str  # JIRA_URL + /browse/
    process: ProcessConfig = ProcessConfig()

    @property
    def reverse_priority_map(self) -> dict[str, str]:
        """Jira priority -> PagerDuty priority (the first PagerDuty priority mapped to it wins)."""
        reverse: dict[str, str] = {}
        for pd_name, jira_name in self.priority_map.items():
            reverse.setdefault(jira_name, pd_name)
        return reverse


def load(settings: Settings) -> JiraConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return JiraConfig(
        project=str(settings.jira_project).strip().upper(),
        issue_type=settings.read(ISSUE_TYPE),
        priorities=settings.read(PRIORITIES),
        priority_map=settings.read(PRIORITY_MAP),
        transitions=settings.read(TRANSITIONS),
        notify_channel=settings.read(NOTIFY_CHANNEL),
        poll_seconds=settings.read(POLL_SECONDS),
        browse_url=f"{settings.jira_url}/browse/",
        process=load_process(settings),
    )
