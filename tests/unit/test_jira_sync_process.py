"""The Jira incident process's settings and pure decisions: severity, question checklist, links, timeline texts."""

from __future__ import annotations

import calendar

import pytest

from bot.incidents.model import LogEntry, PdIncident
from bot.jira_sync import rules
from bot.jira_sync.config import Question
from bot.jira_sync.config import load as load_jira_config
from bot.settings import SettingsError, load_settings

BASE = {"JIRA_PROJECT": "ops", "JIRA_URL": "https://acme.atlassian.net", "PAGERDUTY_API_TOKEN": "x"}
AT = float(calendar.timegm((2026, 11, 25, 10, 4, 5)))


def config(**env: str):
    return load_jira_config(load_settings({**BASE, **env}, dotenv_path=None))


def entry(type_: str, summary: str, agent: str = "Bob Baker") -> LogEntry:
    return LogEntry("R1", type_, AT, summary, "PABC123", agent, None)


# --- settings --------------------------------------------------------------------------------------------------
def test_every_part_is_off_until_configured():
    process = config().process
    assert process.severity_field is None and process.severity_value is None
    assert process.questions == () and process.link_type is None and process.stakeholders == ()
    assert process.person_project is None and process.timeline is None and process.timeline_project is None


def test_questions_file_one_per_line_skipping_blanks_comments_and_repeats(tmp_path):
    path = tmp_path / "questions.txt"
    path.write_text("# asked on every P1\n\nWho is affected?\n  What changed?  \n# later\nwho is affected?\n")
    process = config(JIRA_QUESTIONS_FILE=str(path)).process
    assert process.questions == (Question("Who is affected?"), Question("What changed?"))
    assert process.subtask_type == "Sub-task"


def test_questions_file_in_the_original_tools_json_format(tmp_path):
    path = tmp_path / "questions.json"
    path.write_text('[{"summary": "Customer impact?", "description": "Who and how many"}, "Workaround?"]')
    assert config(JIRA_QUESTIONS_FILE=str(path)).process.questions == (
        Question("Customer impact?", "Who and how many"),
        Question("Workaround?"),
    )


def test_everything_on():
    process = config(
        JIRA_SEVERITY_FIELD="customfield_10042",
        JIRA_SEVERITY_VALUE="SEV-0",
        JIRA_LINK_TYPE="Relates",
        JIRA_ISSUE_STAKEHOLDERS="person-3, PERSON-4",
        JIRA_PERSON_PROJECT="person",
        JIRA_TIMELINE="issue",
        JIRA_TIMELINE_ISSUE_TYPE="Timeline",
        JIRA_TIMELINE_PROJECT="timeline",
        JIRA_SUBTASK_TYPE="Subtask",
    ).process
    assert (process.severity_field, process.severity_value) == ("customfield_10042", "SEV-0")
    assert process.stakeholders == ("PERSON-3", "PERSON-4") and process.person_project == "PERSON"
    assert (process.timeline, process.timeline_project) == ("issue", "TIMELINE")
    assert process.timeline_issue_type == "Timeline"
    assert process.timeline_link_type == "Relates"
    assert process.subtask_type == "Subtask"
    assert config(JIRA_TIMELINE="comments").process.timeline_link_type == "Relates"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JIRA_SEVERITY_FIELD": "Severity"}, "JIRA_SEVERITY_VALUE is needed too"),
        ({"JIRA_SEVERITY_VALUE": "SEV-0"}, "JIRA_SEVERITY_FIELD is needed too"),
        ({"JIRA_ISSUE_STAKEHOLDERS": "PERSON-3"}, "JIRA_LINK_TYPE is needed"),
        ({"JIRA_PERSON_PROJECT": "PERSON"}, "JIRA_LINK_TYPE is needed"),
        ({"JIRA_LINK_TYPE": "Relates", "JIRA_ISSUE_STAKEHOLDERS": "PERSON3"}, "JIRA_ISSUE_STAKEHOLDERS must be"),
        ({"JIRA_LINK_TYPE": "Relates", "JIRA_PERSON_PROJECT": "two words"}, "JIRA_PERSON_PROJECT must be"),
        ({"JIRA_TIMELINE": "yes"}, "JIRA_TIMELINE must be one of comments, issue"),
        ({"JIRA_QUESTIONS_FILE": "/nonexistent/questions.txt"}, "JIRA_QUESTIONS_FILE cannot be read"),
    ],
)
def test_bad_process_settings_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message):
        config(**env)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("# only comments\n\n", "has no questions"),
        ("x" * 256 + "\n", "question 1 is longer than 255"),
        ('[{"description": "no summary"}]', "item 1 needs a"),
        ("[not json", "is not a valid JSON list"),
    ],
)
def test_bad_questions_files_name_the_setting(tmp_path, content, message):
    path = tmp_path / "questions.txt"
    path.write_text(content)
    with pytest.raises(SettingsError, match=f"JIRA_QUESTIONS_FILE.*{message}"):
        config(JIRA_QUESTIONS_FILE=str(path))


# --- severity --------------------------------------------------------------------------------------------------
FIELDS = [
    {"id": "summary", "name": "Summary", "schema": {"type": "string"}},
    {"id": "customfield_10042", "name": "Severity", "schema": {"type": "option"}},
    {"id": "customfield_10043", "name": "Impact", "schema": {"type": "array", "items": "option"}},
    {"id": "customfield_10044", "name": "Cost", "schema": {"type": "number"}},
    {"id": "customfield_10045", "name": "Incident code", "schema": {"type": "string"}},
]


def test_the_severity_field_is_found_by_id_or_name_and_shaped_for_its_type():
    assert rules.find_field(FIELDS, "customfield_10042")["name"] == "Severity"
    assert rules.find_field(FIELDS, "severity")["id"] == "customfield_10042"
    assert rules.find_field(FIELDS, "Nope") is None
    shaped = [rules.severity_value(rules.find_field(FIELDS, name), "1") for name in ("Severity", "Impact", "Cost")]
    assert shaped == [{"value": "1"}, [{"value": "1"}], 1.0]
    assert rules.severity_value(rules.find_field(FIELDS, "Incident code"), "SEV-0") == "SEV-0"


# --- questions and links ---------------------------------------------------------------------------------------
def test_only_missing_questions_are_created_as_sub_tasks():
    questions = (Question("Who is affected?"), Question("What changed?", "Deploys, flags"))
    existing = [{"key": "OPS-2", "fields": {"summary": "who is  affected?"}}]
    assert rules.missing_questions(questions, existing) == [Question("What changed?", "Deploys, flags")]
    fields = rules.subtask_fields("OPS", "OPS-1", "Sub-task", "What changed?", "Deploys, flags")
    assert fields == {
        "project": {"key": "OPS"},
        "parent": {"key": "OPS-1"},
        "issuetype": {"name": "Sub-task"},
        "summary": "What changed?",
        "description": "Deploys, flags",
    }


def test_the_incident_manager_is_the_issue_named_exactly_after_the_assignee():
    assert rules.person_jql("PERSON", 'Ada "The Admin" Lovelace-King') == (
        'project = "PERSON" AND summary ~ "Ada The Admin Lovelace King" ORDER BY created ASC'
    )
    assert rules.person_jql("PERSON", '"*"') is None
    assert rules.is_person("  ada  LOVELACE ", "Ada Lovelace")
    assert not rules.is_person("Ada Lovelace (former)", "Ada Lovelace")


def test_linked_keys_reads_both_directions_of_one_link_type():
    issue_links = [
        {"type": {"name": "Relates"}, "outwardIssue": {"key": "PERSON-1"}},
        {"type": {"name": "relates"}, "inwardIssue": {"key": "PERSON-2"}},
        {"type": {"name": "Blocks"}, "outwardIssue": {"key": "OPS-9"}},
    ]
    assert rules.linked_keys(issue_links, "Relates") == {"PERSON-1", "PERSON-2"}


# --- timeline --------------------------------------------------------------------------------------------------
def test_timeline_comments_say_when_and_what_with_pagerduty_text_escaped():
    assert rules.timeline_comment(entry("acknowledge_log_entry", "Acknowledged by Bob Baker")) == (
        "PagerDuty, 2026-11-25 10:04:05 UTC: Acknowledged by Bob Baker"
    )
    assert rules.timeline_comment(entry("resolve_log_entry", "Resolved through the API", agent="Payments")) == (
        "PagerDuty, 2026-11-25 10:04:05 UTC: Resolved through the API (Payments)"
    )
    assert rules.timeline_comment(entry("escalate_log_entry", "Escalated to level 2 [~admin]")) == (
        r"PagerDuty, 2026-11-25 10:04:05 UTC: Escalated to level 2 \[\~admin\] (Bob Baker)"
    )
    assert rules.timeline_comment(entry("assign_log_entry", "", agent="")) == (
        "PagerDuty, 2026-11-25 10:04:05 UTC: assign"
    )
    assert rules.timeline_comment(entry("notify_log_entry", "Notified Bob Baker by SMS")) is None
    assert rules.timeline_comment(entry("annotate_log_entry", "Note added")) is None  # from the notes instead


def test_timeline_note_and_issue_texts():
    note = {"user": {"summary": "Bob {Baker}"}, "content": "Rolled back [release|https://evil.example]"}
    assert rules.timeline_note(note, AT) == (
        r"PagerDuty, 2026-11-25 10:04:05 UTC: note by Bob \{Baker\}: Rolled back \[release\|https://evil.example\]"
    )
    assert rules.timeline_note({"content": "x"}, None) == "PagerDuty: note by someone: x"
    incident = PdIncident("default", "PABC123", 7, "Payments failing", "triggered", "P1", "PSVC", "Payments", "")
    fields = rules.timeline_issue_fields(config(JIRA_TIMELINE="issue"), incident, "OPS-1")
    assert fields["summary"] == "Timeline of OPS-1: [PD #7] Payments failing"
    assert fields["issuetype"] == {"name": "Task"} and fields["labels"] == ["pagerduty-7-timeline"]
    assert fields["project"] == {"key": "OPS"}
    other_project = config(JIRA_TIMELINE="issue", JIRA_TIMELINE_PROJECT="tl")
    elsewhere = rules.timeline_issue_fields(other_project, incident, "OPS-1")
    assert elsewhere["project"] == {"key": "TL"}
    assert rules.timeline_label("b", 7) == "pagerduty-b-7-timeline" != rules.issue_label("b", 7)
