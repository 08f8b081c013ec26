"""The incident process of the original tool, as outbox handlers: what follows the creation of an incident issue.

Each part is off until configured (see config.py) and each handler can run again after a crash mid-call without
doing anything twice: the question sub-tasks and the links are read back from the issue (strongly consistent,
unlike search) before the missing ones are made; the timeline issue is created like the incident issue (an attempt
is remembered; a retry finds it by its label); a timeline comment is one effect per PagerDuty log entry or note
(unique key) and is not posted again when the issue's newest comments already hold it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from bot.clients.jira import JIRAError, JiraNetworkError
from bot.clients.pagerduty import PagerDutyError
from bot.incidents.pagerduty_api import as_outbox_error
from bot.jira_sync import rules
from bot.jira_sync.effects import (
    LINKS,
    QUESTIONS,
    TIMELINE,
    TIMELINE_ISSUE,
    JiraEffects,
    incident_of,
    jira_failure,
    timeline_issue_key,
    wake_waiting,
)
from bot.outbox import GiveUp, Handler, RetryLater
from bot.text import quoted

log = logging.getLogger(__name__)

RECENT_COMMENTS = 100  # a comment whose answer was lost is among the newest ones
PERSON_HITS = 20


class ProcessEffects:
    """Shares the Jira client, the link rows and the label search with the sync's own handlers (`JiraEffects`)."""

    def __init__(self, writes: JiraEffects):
        self.writes = writes
        self.store = writes.store
        self.outbox = writes.outbox
        self.jira = writes.jira
        self.config = writes.config
        self.process = writes.config.process
        self.poller = writes.poller

    def by_kind(self) -> dict[str, Handler]:
        return {
            QUESTIONS: self.questions,
            LINKS: self.links,
            TIMELINE_ISSUE: self.timeline_issue,
            TIMELINE: self.timeline_comment,
        }

    # --- question checklist ----------------------------------------------------------------------
    def questions(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One sub-task of the incident issue per question of JIRA_QUESTIONS_FILE, each once."""
        link = self.writes.link_row(int(payload["link_id"]))
        key = self.writes.issue_key(link)
        if not self.process.questions:
            return {"skipped": "no questions configured"}
        created: list[str] = []
        try:
            subtasks = self.jira.issue(key, fields="subtasks").raw["fields"].get("subtasks") or []
            for question in rules.missing_questions(self.process.questions, subtasks):
                fields = rules.subtask_fields(
                    self.config.project, key, self.process.subtask_type, question.summary, question.description
                )
                created.append(str(self.jira.create_issue(fields=fields, prefetch=False).key))
        except JiraNetworkError as error:  # a create may still land: read the sub-tasks again once it has
            raise RetryLater(f"Jira: {type(error).__name__}: {str(error)[:200]}", self.writes.settle_seconds) from error
        except JIRAError as error:
            failure = jira_failure(error)
            if isinstance(failure, GiveUp):
                log.error("cannot add the question sub-tasks to %s: %s", quoted(key), quoted(failure))
            raise failure from error
        return {"created": created}

    # --- links to the incident manager's and the stakeholders' issues -----------------------------
    def links(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Link the issue (JIRA_LINK_TYPE) to each JIRA_ISSUE_STAKEHOLDERS issue and to the issue named after each
        PagerDuty assignee in JIRA_PERSON_PROJECT. A link Jira refuses is logged and skipped, as in the original."""
        link = self.writes.link_row(int(payload["link_id"]))
        key = self.writes.issue_key(link)
        link_type = self.process.link_type
        if not link_type:
            return {"skipped": "no link type configured"}
        made: list[str] = []
        try:
            targets = list(self.process.stakeholders) + self._incident_managers(link)
            have = self._linked(key, link_type)
            for target in dict.fromkeys(targets):
                if target != key and target not in have and self._post_link(link_type, key, target):
                    made.append(target)
        except (JIRAError, JiraNetworkError) as error:
            raise jira_failure(error) from error
        return {"linked": made}

    def _incident_managers(self, link: dict[str, Any]) -> list[str]:
        """Keys of the person issues named after the incident's PagerDuty assignees (its incident managers)."""
        project = self.process.person_project
        if not project or link["account"] not in self.poller.accounts:
            return []
        try:
            incident = self.poller.account(link["account"]).client.rget(f"/incidents/{link['pd_incident_id']}")
        except PagerDutyError as error:
            raise as_outbox_error(error) from error
        names = [
            str((assignment.get("assignee") or {}).get("summary") or "")
            for assignment in (incident or {}).get("assignments") or []
        ]
        keys = []
        for name in dict.fromkeys(n for n in names if n.strip()):
            found = self._person_issue(project, name)
            if found:
                keys.append(found)
            else:
                log.info("no issue named %s in Jira project %s: no incident manager link", quoted(name), project)
        return keys

    def _person_issue(self, project: str, name: str) -> str | None:
        jql = rules.person_jql(project, name)
        if jql is None:
            return None
        if self.jira.deploymentType is None:  # the search below is Cloud-only; the client skipped serverInfo
            self.jira.deploymentType = self.jira.server_info().get("deploymentType") or "Cloud"
        try:
            result = self.jira.enhanced_search_issues(jql, maxResults=PERSON_HITS, fields=["summary"], json_result=True)
        except JIRAError as error:
            if getattr(error, "status_code", None) != 400:
                raise
            log.warning("cannot search Jira project %s for %s: %s", project, quoted(name), quoted(error.text or error))
            return None
        hits = (result or {}).get("issues") or []
        named = (str(i["key"]) for i in hits if rules.is_person((i.get("fields") or {}).get("summary"), name))
        return next(named, None)

    def _linked(self, key: str, link_type: str) -> set[str]:
        issue_links = self.jira.issue(key, fields="issuelinks").raw["fields"].get("issuelinks") or []
        return rules.linked_keys(issue_links, link_type)

    def _post_link(self, link_type: str, incident_key: str, other_key: str) -> bool:
        """`POST /issueLink` as the original made it (the incident inward, the other issue outward). Posted directly:
        the library's `create_issue_link` reads every link type first and warns whenever given a name. False when
        Jira refuses the link for good (no such issue or link type): logged, not fatal."""
        body = {"type": {"name": link_type}, "inwardIssue": {"key": incident_key}, "outwardIssue": {"key": other_key}}
        try:
            self.jira._session.post(self.jira._get_url("issueLink"), data=json.dumps(body))
        except JIRAError as error:
            if getattr(error, "status_code", None) not in (400, 404):
                raise
            log.warning(
                "Jira refused a %s link from %s to %s: %s",
                quoted(link_type),
                quoted(incident_key),
                quoted(other_key),
                quoted(getattr(error, "text", "") or error),
            )
            return False
        return True

    # --- the timeline ----------------------------------------------------------------------------
    def timeline_issue(self, payload: dict[str, Any]) -> dict[str, Any]:
        """JIRA_TIMELINE=issue: one timeline issue per incident issue, linked to it; waiting comments go then."""
        link = self.writes.link_row(int(payload["link_id"]))
        key = self.writes.issue_key(link)
        if self.process.timeline != "issue":
            return {"skipped": "no timeline issue configured"}
        timeline_key = link["timeline_key"]
        try:
            if not timeline_key:
                timeline_key = self._create_timeline_issue(link, key)
            if timeline_key not in self._linked(key, self.process.timeline_link_type):
                self._post_link(self.process.timeline_link_type, key, timeline_key)
        except JiraNetworkError as error:
            raise jira_failure(error) from error
        except JIRAError as error:
            if getattr(error, "status_code", None) and not link["timeline_key"]:  # answered: nothing was made
                self.store.execute("UPDATE jira_links SET timeline_attempted_at = NULL WHERE id = ?", [link["id"]])
            failure = jira_failure(error)
            if isinstance(failure, GiveUp):
                log.error("cannot create the timeline issue of %s: %s", quoted(key), quoted(failure))
            raise failure from error
        return {"key": timeline_key}

    def _create_timeline_issue(self, link: dict[str, Any], incident_key: str) -> str:
        incident = incident_of(link)
        attempted = link["timeline_attempted_at"]
        label = rules.timeline_label(incident.account, incident.number)
        project = self.process.timeline_project
        found = self.writes.find_labelled(label, attempted, project) if attempted else None
        if found is None:
            self.store.execute(
                "UPDATE jira_links SET timeline_attempted_at = ? WHERE id = ?", [time.time(), link["id"]]
            )
            fields = rules.timeline_issue_fields(self.config, incident, incident_key)
            issue = self.jira.create_issue(fields=fields, prefetch=False)
            found = (str(issue.key), str(issue.id))
        with self.store.write() as db:
            db.conn.execute("UPDATE jira_links SET timeline_key = ? WHERE id = ?", [found[0], link["id"]])
            wake_waiting(db, TIMELINE, link["id"])
        return found[0]

    def timeline_comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One PagerDuty log entry (or note) as a comment on the incident issue or on its timeline issue."""
        link = self.writes.link_row(int(payload["link_id"]))
        target = self.writes.issue_key(link)  # waits while the incident issue is being created
        if self.process.timeline is None:
            return {"skipped": "the timeline is off"}
        if self.process.timeline == "issue":
            target = self._timeline_target(link)
        body = str(payload["body"])
        try:
            recent = self.jira.comments(target, order_by="-created", max_results=RECENT_COMMENTS)
            if any(str(getattr(c, "body", "")) == body for c in recent):
                return {"skipped": "already posted", "issue": target}
            comment = self.jira.add_comment(target, body)
        except JiraNetworkError as error:  # the comment may still land: look for it once it has, before posting
            raise RetryLater(f"Jira: {type(error).__name__}: {str(error)[:200]}", self.writes.settle_seconds) from error
        except JIRAError as error:
            raise jira_failure(error) from error
        return {"issue": target, "comment": str(getattr(comment, "id", ""))}

    def _timeline_target(self, link: dict[str, Any]) -> str:
        """The timeline issue's key. None yet: one is queued (the incident may predate JIRA_TIMELINE=issue) and the
        comment waits for it; if the queued one ended without making an issue (the timeline was off, or shadowed,
        back then) it is made now; if it could not be made, the comment gives up too."""
        if link["timeline_key"]:
            return str(link["timeline_key"])
        key = timeline_issue_key(link["id"])
        queued = self.outbox.get(key)
        if queued is None:
            self.outbox.enqueue(key, TIMELINE_ISSUE, {"link_id": link["id"]})
        elif queued.state == "failed":
            raise GiveUp("the timeline issue could not be created")
        elif queued.state != "pending":
            return str(self.timeline_issue({"link_id": link["id"]})["key"])
        raise RetryLater("the timeline issue is still being created", 2.0)
