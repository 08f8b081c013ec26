"""The Jira sync's part of the doctor: JIRA_TRANSITIONS names that the project's workflow does not have.

A transition the workflow lacks is found only when an incident first needs it (the effect reports it once and
gives up), so the doctor looks ahead: the statuses of the project's issue type (`GET project/<key>/statuses`) and
the transitions offered on the most recently linked issue (which name transitions, not just their target
statuses). A name found in neither is reported with its fix.
"""

from __future__ import annotations

from typing import Any

from bot.capability import Finding
from bot.clients.jira import JIRA, JIRAError
from bot.jira_sync.config import JiraConfig
from bot.jira_sync.rules import missing_transitions
from bot.store import Store
from bot.text import escape

CAPABILITY = "Jira sync"


def workflow_names(jira: JIRA, config: JiraConfig, store: Store) -> tuple[list[str], list[Finding]]:
    """Statuses of the issue type and transition names of the latest linked issue; findings when the project or
    the issue type cannot be found (then the transitions cannot be checked)."""
    project = escape(config.project)
    try:
        issue_types: list[dict[str, Any]] = [t.raw for t in jira.issue_types_for_project(config.project)]
    except JIRAError as error:
        if error.status_code in (403, 404):
            problem = f"Jira project `{project}` cannot be read ({error.status_code})"
            return [], [Finding(CAPABILITY, problem, "check JIRA_PROJECT and that the Jira user may browse it")]
        raise
    wanted = config.issue_type.lower()
    chosen = [t for t in issue_types if str(t.get("name", "")).lower() == wanted]
    if not chosen:
        offered = ", ".join(escape(str(t.get("name"))) for t in issue_types) or "none"
        problem = f"Jira project `{project}` has no issue type “{escape(config.issue_type)}”"
        return [], [Finding(CAPABILITY, problem, f"set JIRA_ISSUE_TYPE to one of: {offered}")]
    names = [str(s.get("name")) for t in chosen for s in t.get("statuses") or []]
    key = store.scalar("SELECT issue_key FROM jira_links WHERE issue_key IS NOT NULL ORDER BY id DESC LIMIT 1")
    if key:
        try:
            names += [str(t["name"]) for t in jira.transitions(str(key))]
        except JIRAError as error:
            if error.status_code != 404:  # the issue was deleted: the statuses are still worth checking
                raise
    return names, []


def findings(jira: JIRA, config: JiraConfig, store: Store) -> list[Finding]:
    names, problems = workflow_names(jira, config, store)
    if problems or not config.transitions:
        return problems
    offered = ", ".join(f"“{escape(n)}”" for n in sorted(set(names))) or "none"
    result = []
    for status, name in missing_transitions(config.transitions, names):
        problem = (
            f"JIRA_TRANSITIONS moves issues to “{escape(name)}” when a PagerDuty incident is {status}, but the "
            f"workflow of `{escape(config.project)}` ({escape(config.issue_type)}) has no such transition or status"
        )
        fix = f"add a transition “{escape(name)}” to the workflow, or use one of {offered} in JIRA_TRANSITIONS"
        result.append(Finding(CAPABILITY, problem, fix))
    return result
