"""Jira and PagerDuty writes of the Jira sync, as outbox handlers.

Every write is first recorded in the echo guard (`incident_sync_writes`) so the other side's poller recognises it.
A create remembers that it was attempted; a retry after a crash searches for the issue by its label before
creating another. A transition missing from the workflow is reported once and not retried. The incident process's
follow-ups of a create (question sub-tasks, links, the timeline issue) are queued with it and handled in
process_effects.py.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlite_utils

from bot.clients.jira import JIRA, JIRAError, JiraNetworkError
from bot.incidents.model import PdIncident
from bot.incidents.notify import announce
from bot.incidents.poller import IncidentPoller
from bot.incidents.writes import record_write
from bot.jira_sync import rules
from bot.jira_sync.config import JiraConfig
from bot.outbox import GiveUp, Handler, Outbox, RetryLater, vendor_retry_after
from bot.store import Store
from bot.text import quoted

log = logging.getLogger(__name__)

CREATE, PRIORITY, TRANSITION, COMMENT = (
    "jira_sync.create",
    "jira_sync.priority",
    "jira_sync.transition",
    "jira_sync.comment",
)
PD_RESOLVE, PD_PRIORITY, PD_NOTE = "jira_sync.pd_resolve", "jira_sync.pd_priority", "jira_sync.pd_note"
# The incident process (process_effects.py): question sub-tasks, links, the timeline issue, a timeline comment.
QUESTIONS, LINKS, TIMELINE_ISSUE, TIMELINE = (
    "jira_sync.questions",
    "jira_sync.links",
    "jira_sync.timeline_issue",
    "jira_sync.timeline",
)


def timeline_issue_key(link_id: int) -> str:
    """The outbox key of a link's timeline issue (queued at the create, or by the first comment waiting for it)."""
    return f"jira:timeline_issue:{link_id}"


def wake_waiting(db: sqlite_utils.Database, kind: str, link_id: int) -> None:
    """Effects of a link that were told to wait for an issue: due now, so they run at the next pass, in order."""
    db.conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE state = 'pending' AND kind = ? "
        "AND json_extract(payload, '$.link_id') = ?",
        [time.time(), kind, link_id],
    )


def incident_of(link: dict[str, Any]) -> PdIncident:
    """The PagerDuty incident as its link row remembers it (what the issue texts need)."""
    return PdIncident(
        link["account"],
        link["pd_incident_id"],
        int(link["incident_number"] or 0),
        link["title"] or "",
        link["pd_status"] or "",
        link["pd_priority"],
        "",
        link["service_name"] or "",
        link["html_url"] or "",
    )


def refused_fields(error: JIRAError) -> set[str]:
    """The fields a 400 answer names in its `errors` (Jira's shape: {"errorMessages": [], "errors": {field: …}})."""
    if getattr(error, "status_code", None) != 400:
        return set()
    try:
        body = error.response.json()
    except Exception:  # no JSON body: nothing named
        return set()
    errors = body.get("errors") if isinstance(body, dict) else None
    return set(errors) if isinstance(errors, dict) else set()


def effect_kind(decision: str) -> str:
    """The outbox kind of a decision of rules.py (`jira_priority`, `pd_note`, …)."""
    return "jira_sync." + decision.removeprefix("jira_")


MISSING_TRANSITION = "missing_transition"


def jira_failure(error: Exception) -> Exception:
    status = getattr(error, "status_code", None)
    if isinstance(error, JIRAError) and status in (400, 401, 403, 404, 422):
        return GiveUp(f"Jira refused ({status}): {str(getattr(error, 'text', '') or error)[:200]}")
    return RetryLater(f"Jira: {status or type(error).__name__}: {str(error)[:200]}", vendor_retry_after(error))


class JiraEffects:
    def __init__(
        self, store: Store, outbox: Outbox, jira: JIRA, config: JiraConfig, poller: IncidentPoller, timeout: float
    ):
        self.settle_seconds = timeout + 2.0  # after a create whose answer was lost, wait this long for it to show up
        self.store = store
        self.outbox = outbox
        self.jira = jira
        self.config = config
        self.poller = poller
        self._severity: dict[str, Any] | None = None  # {field id: value} once resolved; {} when it cannot be set

    def by_kind(self) -> dict[str, Handler]:
        """Outbox kind -> handler, for the service's `effects()`."""
        return {
            CREATE: self.create,
            PRIORITY: self.set_priority,
            TRANSITION: self.transition,
            COMMENT: self.comment,
            PD_RESOLVE: self.pd_resolve,
            PD_PRIORITY: self.pd_priority,
            PD_NOTE: self.pd_note,
        }

    def link_row(self, link_id: int) -> dict[str, Any]:
        link = self.store.query_one("SELECT * FROM jira_links WHERE id = ?", [link_id])
        if link is None:
            raise GiveUp(f"no Jira link {link_id}")
        return link

    def issue_key(self, link: dict[str, Any]) -> str:
        if not link["issue_key"]:
            if link["state"] == "creating":
                raise RetryLater("the Jira issue is still being created", 2.0)
            raise GiveUp("the Jira issue could not be created")
        return str(link["issue_key"])

    # --- Jira ------------------------------------------------------------------------------------
    def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        if link["issue_key"]:
            return {"skipped": "already created", "key": link["issue_key"]}
        incident = incident_of(link)
        try:
            attempted = link["create_attempted_at"]
            label = rules.issue_label(incident.account, incident.number)
            found = self.find_labelled(label, attempted) if attempted else None
            if found is None:
                fields = rules.issue_fields(self.config, incident, link["jira_priority"])
                severity = self._severity_fields()
                self.store.execute(
                    "UPDATE jira_links SET create_attempted_at = ? WHERE id = ?", [time.time(), link["id"]]
                )
                found = self._create_with_severity(fields, severity)
        except JIRAError as error:
            failure = jira_failure(error)
            if getattr(error, "status_code", None):  # Jira answered: nothing was made, no need to look for it
                self.store.execute("UPDATE jira_links SET create_attempted_at = NULL WHERE id = ?", [link["id"]])
            if isinstance(failure, GiveUp):
                log.error("cannot create a Jira issue for PagerDuty #%s: %s", incident.number, quoted(failure))
                self.store.execute("UPDATE jira_links SET state = 'failed' WHERE id = ?", [link["id"]])
            raise failure from error
        except JiraNetworkError as error:
            raise jira_failure(error) from error
        self._store_created(link["id"], *found)
        return {"key": found[0]}

    def _severity_fields(self) -> dict[str, Any]:
        """JIRA_SEVERITY_FIELD = JIRA_SEVERITY_VALUE, shaped for the field's type (read once from `GET /field`)."""
        process = self.config.process
        if not process.severity_field or not process.severity_value:
            return {}
        if self._severity is None:
            field = rules.find_field(self.jira.fields(), process.severity_field)
            if field is None:
                log.error(
                    "Jira has no field %s (JIRA_SEVERITY_FIELD); issues are created without it",
                    quoted(process.severity_field),
                )
                self._severity = {}
            else:
                self._severity = {str(field["id"]): rules.severity_value(field, process.severity_value)}
        return dict(self._severity)

    def _create_with_severity(self, fields: dict[str, Any], severity: dict[str, Any]) -> tuple[str, str]:
        """Create the issue; if Jira refuses the severity (no such option, not on the screen), log it once and
        create the issue without it: a wrong severity setting must not keep incidents out of Jira."""
        try:
            issue = self.jira.create_issue(fields={**fields, **severity}, prefetch=False)
        except JIRAError as error:
            refused = refused_fields(error) & set(severity)
            if not refused:
                raise
            log.error(
                "Jira refused %s=%s (JIRA_SEVERITY_FIELD, JIRA_SEVERITY_VALUE): %s; issues are created without it",
                quoted(self.config.process.severity_field),
                quoted(self.config.process.severity_value),
                quoted(getattr(error, "text", "") or error),
            )
            self._severity = {}
            issue = self.jira.create_issue(fields=fields, prefetch=False)
        return str(issue.key), str(issue.id)

    def find_labelled(self, label: str, attempted_at: float, project: str | None = None) -> tuple[str, str] | None:
        """After an attempt whose answer was lost, the issue may exist: find it by its label (in JIRA_PROJECT unless
        another project is given)."""
        jql = f'project = "{project or self.config.project}" AND labels = "{label}"'
        if self.jira.deploymentType is None:  # the search below is Cloud-only; the client skipped serverInfo
            self.jira.deploymentType = self.jira.server_info().get("deploymentType") or "Cloud"
        result = self.jira.enhanced_search_issues(jql, maxResults=1, fields=["labels"], json_result=True) or {}
        issues = result.get("issues") or []
        if issues:
            log.info("Jira issue %s was created by an earlier attempt; adopting it", quoted(issues[0].get("key")))
            return str(issues[0]["key"]), str(issues[0]["id"])
        settle = attempted_at + self.settle_seconds - time.time()
        if settle > 0:  # a create that timed out may still be landing (and search lags): look again first
            raise RetryLater("the last create's outcome is unknown yet", settle)
        return None

    def _store_created(self, link_id: int, key: str, issue_id: str) -> None:
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE jira_links SET issue_key = ?, issue_id = ?, state = 'linked', linked_at = ? WHERE id = ?",
                [key, issue_id, time.time(), link_id],
            )
            link = db.conn.execute("SELECT * FROM jira_links WHERE id = ?", [link_id]).fetchone()
            record_write(db, "jira", key, "priority", link["jira_priority"])
            if self.config.transitions.get(link["pd_status"] or ""):  # already acknowledged or resolved
                payload = {"link_id": link_id, "pd_status": link["pd_status"]}
                self.outbox.enqueue(f"jira:transition:{link_id}:created", TRANSITION, payload, db=db)
            self._queue_process(db, link_id)
            text = rules.created_notice(
                self.config.browse_url,
                key,
                link["html_url"] or "",
                link["incident_number"],
                link["title"] or "",
                link["pd_priority"],
            )
            announce(self.outbox, db, f"jira:created:{link_id}", self.config.notify_channel, text)

    def _queue_process(self, db: sqlite_utils.Database, link_id: int) -> None:
        """The incident process's follow-ups of a new issue, each once; timeline comments waiting for it go now."""
        process = self.config.process
        if process.questions:
            self.outbox.enqueue(f"jira:questions:{link_id}", QUESTIONS, {"link_id": link_id}, db=db)
        if process.link_type:
            self.outbox.enqueue(f"jira:links:{link_id}", LINKS, {"link_id": link_id}, db=db)
        if process.timeline == "issue":
            self.outbox.enqueue(timeline_issue_key(link_id), TIMELINE_ISSUE, {"link_id": link_id}, db=db)
        elif process.timeline == "comments":
            wake_waiting(db, TIMELINE, link_id)

    def set_priority(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        key = self.issue_key(link)
        priority = payload["priority"]
        try:
            self.jira.issue(key, fields="priority").update(fields={"priority": {"name": priority}})
        except (JIRAError, JiraNetworkError) as error:
            raise jira_failure(error) from error
        # Recorded once done: while this effect is pending the Jira poller leaves the issue alone anyway.
        with self.store.write() as db:
            record_write(db, "jira", key, "priority", priority)
        return {"priority": priority}

    def transition(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        key = self.issue_key(link)
        name = self.config.transitions.get(payload["pd_status"])
        if not name:
            return {"skipped": "no transition configured"}
        try:
            status = self.jira.issue(key, fields="status").raw["fields"]["status"]
            category = (status.get("statusCategory") or {}).get("key")
            if status.get("name", "").lower() == name.lower() or (
                payload["pd_status"] == "resolved" and category == "done"
            ):
                self._store_status(link["id"], status.get("name"), category)
                return {"skipped": f"already {status.get('name')}"}
            if category == "done":  # closed in Jira meanwhile: never pulled back out of done for a PagerDuty ack
                return {"skipped": "the issue is done; the Jira poll carries that to PagerDuty"}
            available = self.jira.transitions(key)
            chosen = next((t for t in available if t["name"].lower() == name.lower()), None)
            chosen = chosen or next((t for t in available if t["to"]["name"].lower() == name.lower()), None)
            if chosen is None:
                self._report_missing(name, key, [t["name"] for t in available])
                return {"missing": name}
            target = chosen["to"]
            target_category = (target.get("statusCategory") or {}).get("key")
            self.jira.transition_issue(key, chosen["id"])
        except (JIRAError, JiraNetworkError) as error:
            raise jira_failure(error) from error
        with self.store.write() as db:
            record_write(db, "jira", key, "status", target_category)
        self._store_status(link["id"], target.get("name"), target_category)
        return {"status": target.get("name")}

    def _store_status(self, link_id: int, status: str | None, category: str | None) -> None:
        self.store.execute(
            "UPDATE jira_links SET jira_status = ?, jira_category = ? WHERE id = ?", [status, category, link_id]
        )

    def _report_missing(self, name: str, key: str, available: list[str]) -> None:
        first = not self.store.scalar(
            "SELECT 1 FROM jira_problems WHERE kind = ? AND name = ?", [MISSING_TRANSITION, name]
        )
        self.store.insert_ignore(
            "jira_problems", {"kind": MISSING_TRANSITION, "name": name, "issue_key": key, "first_seen_at": time.time()}
        )
        if first:  # reported once per transition name, not once per issue or per retry
            log.warning(
                "Jira workflow of %s has no transition %s (available: %s); fix JIRA_TRANSITIONS. Not retrying.",
                quoted(key),
                quoted(name),
                quoted(", ".join(available) or "none"),
            )

    def comment(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        key = self.issue_key(link)
        try:
            comment = self.jira.add_comment(key, payload["body"])
        except (JIRAError, JiraNetworkError) as error:
            raise jira_failure(error) from error
        return {"comment": str(getattr(comment, "id", ""))}

    # --- PagerDuty -------------------------------------------------------------------------------
    def _account_and_ref(self, link: dict[str, Any]) -> tuple[Any, str]:
        if link["account"] not in self.poller.accounts:
            raise GiveUp(f"PagerDuty account {link['account']} is no longer configured")
        return self.poller.account(link["account"]), f"{link['account']}/{link['pd_incident_id']}"

    def pd_resolve(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        account, ref = self._account_and_ref(link)
        changed = account.resolve(link["pd_incident_id"])
        with self.store.write() as db:  # while this effect is pending the PagerDuty poll leaves the link alone
            record_write(db, "pagerduty", ref, "status", "resolved")
        return {"resolved": changed}

    def pd_priority(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        account, ref = self._account_and_ref(link)
        account.set_priority(link["pd_incident_id"], payload["priority"])
        with self.store.write() as db:
            record_write(db, "pagerduty", ref, "priority", payload["priority"])
        return {"priority": payload["priority"]}

    def pd_note(self, payload: dict[str, Any]) -> dict[str, Any]:
        link = self.link_row(int(payload["link_id"]))
        account, ref = self._account_and_ref(link)
        with self.store.write() as db:  # before: the poll forwards notes whatever is pending, so it must know first
            record_write(db, "pagerduty", ref, "note", payload["content"])
        note_id = account.add_note(link["pd_incident_id"], payload["content"])
        return {"note": note_id}
