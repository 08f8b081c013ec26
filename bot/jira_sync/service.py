"""The Jira sync capability: PagerDuty → Jira from the shared poller's windows, Jira → PagerDuty by polling Jira.

PagerDuty side (inside the poller's transaction, per account): an incident at a priority in JIRA_PRIORITIES gets a
link row and a queued create (the row's unique (account, incident) key makes that once per incident); linked
incidents carry priority and status changes over; PagerDuty notes become Jira comments once each. Jira side (every
JIRA_POLL_SECONDS): `/search/jql` for issues updated since the persisted cursor minus an overlap, all pages, with
recently written issues passed in `reconcileIssues`; a linked issue that became done resolves its incident, one
that left done adds a note, a priority change re-prioritises the incident. The link row's remembered values and
the recorded writes keep either side from bouncing the bot's own changes back.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import tzinfo
from typing import Any

import sqlite_utils

from bot.capability import CapabilityService, Foundation, Job
from bot.clients.common import profile
from bot.clients.jira import build_jira
from bot.incidents.model import PdIncident, Window
from bot.incidents.pagerduty_api import PagerDutyAccount
from bot.incidents.poller import shared_poller
from bot.incidents.writes import is_own_write, recently_written, record_seen
from bot.jira_sync import rules
from bot.jira_sync.config import load_jira_config
from bot.jira_sync.effects import (
    COMMENT,
    CREATE,
    MISSING_TRANSITION,
    PD_NOTE,
    PD_PRIORITY,
    PD_RESOLVE,
    PRIORITY,
    TRANSITION,
    JiraEffects,
    effect_kind,
)

log = logging.getLogger(__name__)

JOB = "jira_sync.poll"
CURSOR = "jira_sync.cursor"
OVERLAP_SECONDS = 120.0  # JQL dates have minute resolution; search is eventually consistent
RECONCILE_SECONDS = 600.0  # issues the bot wrote to this recently are passed in reconcileIssues
PAGE_SIZE = 100
SEARCH_FIELDS = ["status", "priority", "updated"]
LINK_COLUMNS = ("pd_status", "pd_priority", "jira_priority", "jira_status", "jira_category", "jira_updated")


class JiraSyncService(CapabilityService):
    needs_log_entries = True

    def __init__(self, runtime: Foundation):
        self.config = load_jira_config(runtime.settings)
        self.store = runtime.store
        self.outbox = runtime.outbox
        self.scheduler = runtime.scheduler
        self.jira = build_jira(runtime.settings)
        # Searches go to /rest/api/3/search/jql (the replacement of the removed /search); the fields read
        # back (status, priority, updated) are the same in v2 and v3, unlike bodies, which v3 wants in ADF.
        self.searcher = build_jira(runtime.settings, rest_api_version="3")
        self.poller = shared_poller(runtime)
        self.poller.add_consumer(self)
        timeout = profile(runtime.settings).timeout
        self.effects = JiraEffects(self.store, self.outbox, self.jira, self.config, self.poller, timeout)
        self.lookback_seconds = self.poller.config.lookback_hours * 3600
        self._zone: tzinfo | None = None
        self._zone_lock = threading.Lock()

    # --- CapabilityService -----------------------------------------------------------------------
    def jobs(self) -> tuple[Job, ...]:
        return (self.poller.job, Job(JOB, self.config.poll_seconds, self.poll_jira))

    def counts(self) -> dict[str, int]:
        counts = {
            "linked issues": int(self.store.scalar("SELECT COUNT(*) FROM jira_links WHERE issue_key IS NOT NULL") or 0),
            "open linked incidents": int(
                self.store.scalar(
                    "SELECT COUNT(*) FROM jira_links WHERE issue_key IS NOT NULL AND pd_status != 'resolved'"
                )
                or 0
            ),
            "issues failed to create": int(
                self.store.scalar("SELECT COUNT(*) FROM jira_links WHERE state = 'failed'") or 0
            ),
        }
        for row in self.store.query(
            "SELECT name, COUNT(*) AS n FROM jira_problems WHERE kind = ? GROUP BY name ORDER BY name LIMIT 5",
            [MISSING_TRANSITION],
        ):
            counts[f"issues missing transition “{row['name']}”"] = int(row["n"])
        return {**counts, **self.poller.health_counts()}

    # --- IncidentConsumer: PagerDuty → Jira ------------------------------------------------------
    def fetch_extra(self, account: PagerDutyAccount, window: Window) -> None:
        """Notes of linked incidents that have new notes (the log entry alone does not reliably carry the text)."""
        noted = {e.incident_id for e in window.entries if e.type == "annotate_log_entry"}
        if not noted:
            return
        marks = ", ".join("?" for _ in noted)
        linked = {
            r["pd_incident_id"]
            for r in self.store.query(
                f"SELECT pd_incident_id FROM jira_links WHERE account = ? AND pd_incident_id IN ({marks})",
                [account.name, *noted],
            )
        }
        wanted = {i for i in noted if i in linked or self._qualifies(window.incidents.get(i), window)}
        window.extra["jira_notes"] = {incident_id: account.notes(incident_id) for incident_id in sorted(wanted)}

    def handle_window(self, db: sqlite_utils.Database, window: Window) -> None:
        links = _links_of(db, window)
        # A PagerDuty write of ours still pending means PagerDuty's state is not final for that link: look next time.
        busy = _links_with_pending(db, (PD_RESOLVE, PD_PRIORITY, PD_NOTE))
        busy |= {link["id"] for link in links.values() if link["state"] == "failed"}  # no issue to sync with
        for incident in window.incidents.values():
            link = links.get(incident.id)
            if link is None:
                if self._qualifies(incident, window):
                    links[incident.id] = self._start_link(db, incident)
            elif link["id"] not in busy:
                self._carry_over(db, link, incident)
        for link in links.values():
            # Not open and not in the log window: it was resolved (the open list is complete).
            gone = link["pd_incident_id"] not in window.incidents and link["pd_status"] != "resolved"
            if gone and link["id"] not in busy:
                resolved = PdIncident(window.account, link["pd_incident_id"], 0, "", "resolved", None, "", "", "")
                self._carry_over(db, link, resolved)
        self._forward_notes(db, window, links)

    def after_poll(self) -> None:
        pass

    def _qualifies(self, incident: PdIncident | None, window: Window) -> bool:
        if incident is None:
            return False
        if "jira_raised" not in window.extra:  # incidents raised to a qualifying priority in this window
            window.extra["jira_raised"] = {
                e.incident_id
                for e in window.entries
                if e.type == "priority_change_log_entry" and e.new_priority in self.config.priorities
            }
        return incident.priority in self.config.priorities or incident.id in window.extra["jira_raised"]

    def _start_link(self, db: sqlite_utils.Database, incident: PdIncident) -> dict[str, Any]:
        row = {
            "account": incident.account,
            "pd_incident_id": incident.id,
            "incident_number": incident.number,
            "title": incident.title,
            "html_url": incident.html_url,
            "service_name": incident.service_name,
            "state": "creating",
            "pd_status": incident.status,
            "pd_priority": incident.priority,
            "jira_priority": self.config.priority_map.get(incident.priority or ""),
            "created_at": time.time(),
        }
        cursor = db.conn.execute(
            f"INSERT INTO jira_links ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
        )
        link_id = int(cursor.lastrowid or 0)
        self.outbox.enqueue(f"jira:create:{incident.account}:{incident.id}", CREATE, {"link_id": link_id}, db=db)
        log.info("PagerDuty #%s (%s) qualifies for a Jira issue", incident.number, incident.priority)
        return {**row, "id": link_id, "issue_key": None, "changes": 0}

    def _carry_over(self, db: sqlite_utils.Database, link: dict[str, Any], incident: PdIncident) -> None:
        ref = f"{link['account']}/{link['pd_incident_id']}"
        decision = rules.pagerduty_changed(
            link, incident, self.config, lambda field, value: is_own_write(db, "pagerduty", ref, field, value)
        )
        self._apply(db, link, decision)
        for field, value in decision.seen:
            record_seen(db, "pagerduty", ref, field, value)

    def _forward_notes(self, db: sqlite_utils.Database, window: Window, links: dict[str, dict[str, Any]]) -> None:
        for incident_id, notes in (window.extra.get("jira_notes") or {}).items():
            link = links.get(incident_id)
            if link is None or link["state"] == "failed":
                continue
            ref = f"{window.account}/{incident_id}"
            for note in notes:
                content = str(note.get("content") or "")
                new = db.conn.execute(
                    "INSERT OR IGNORE INTO jira_forwarded_notes (account, note_id, link_id, at) VALUES (?, ?, ?, ?)",
                    [window.account, str(note.get("id")), link["id"], time.time()],
                ).rowcount
                if not new or not content or _own_note(db, ref, content):
                    continue
                payload = {"link_id": link["id"], "body": rules.note_comment(note)}
                self.outbox.enqueue(f"jira:comment:{window.account}:{note.get('id')}", COMMENT, payload, db=db)

    def _apply(self, db: sqlite_utils.Database, link: dict[str, Any], decision: rules.Decision) -> None:
        """Remember the new values and queue the effects, in the caller's transaction."""
        if not decision.updates and not decision.effects:
            return
        updates = {k: v for k, v in decision.updates.items() if k in LINK_COLUMNS}
        link.update(updates)
        link["changes"] = int(link.get("changes") or 0) + 1
        assignments = ", ".join(f"{column} = ?" for column in updates)
        db.conn.execute(
            f"UPDATE jira_links SET {assignments + ', ' if assignments else ''}changes = ? WHERE id = ?",
            [*updates.values(), link["changes"], link["id"]],
        )
        for name, extra in decision.effects:
            key = f"jira:{name}:{link['id']}:{link['changes']}"  # the key format predates kind names; kept for dedupe
            self.outbox.enqueue(key, effect_kind(name), {"link_id": link["id"], **extra}, db=db)

    # --- Jira → PagerDuty ------------------------------------------------------------------------
    def poll_jira(self) -> int:
        """One Jira poll; returns how many linked issues changed."""
        started = time.time()
        cursor = float(self.store.get_state(CURSOR) or started - self.lookback_seconds)
        jql = rules.jql_since(self.config.project, cursor - OVERLAP_SECONDS, self._user_zone())
        issues = [rules.IssueSnapshot.from_api(i) for i in self._search(jql)]
        changed = 0
        next_cursor = started
        with self.store.write() as db:
            keys = [i.key for i in issues]
            links = {r["issue_key"]: dict(r) for r in _links_by_key(db, keys)}
            busy = _links_with_pending(db, (CREATE, PRIORITY, TRANSITION))
            for issue in issues:
                link = links.get(issue.key)
                if link is None or issue.updated == link["jira_updated"]:
                    continue  # not ours, or this exact version was handled (the overlap re-reads it)
                if link["id"] in busy:  # a write of ours to it is pending: read it again next time
                    next_cursor = min(next_cursor, rules.jira_time(issue.updated) or started)
                    continue
                decision = rules.jira_changed(
                    link,
                    issue,
                    self.config,
                    lambda field, value, key=issue.key: is_own_write(db, "jira", key, field, value),
                )
                changed += bool(decision.effects)
                self._apply(db, link, decision)
                for field, value in decision.seen:
                    record_seen(db, "jira", issue.key, field, value)
            db.conn.execute(
                "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                [CURSOR, str(next_cursor), time.time()],
            )
        if changed:
            self.poller.kick_outbox()
        return changed

    def _search(self, jql: str) -> list[dict[str, Any]]:
        self._ensure_cloud()
        keys = recently_written(self.store, "jira", RECONCILE_SECONDS)
        ids = [int(r["issue_id"]) for r in _links_by_key(self.store.db, keys) if str(r["issue_id"] or "").isdigit()]
        issues: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.searcher.enhanced_search_issues(
                jql,
                nextPageToken=token,
                maxResults=PAGE_SIZE,
                fields=list(SEARCH_FIELDS),
                reconcileIssues=ids[:50] or None,
                json_result=True,
            )
            issues += page.get("issues") or []
            token = page.get("nextPageToken")
            if page.get("isLast", not token) or not token:
                return issues

    def _ensure_cloud(self) -> None:
        """`enhanced_search_issues` is Cloud-only and the client skips serverInfo at construction: ask once."""
        if self.searcher.deploymentType is None:
            self.searcher.deploymentType = self.searcher.server_info().get("deploymentType") or "Cloud"

    def _user_zone(self) -> tzinfo:
        with self._zone_lock:
            if self._zone is None:
                self._zone = rules.user_zone(self.jira.myself().get("timeZone"))
            return self._zone


def _links_by_key(db: sqlite_utils.Database, keys: list[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows += db.conn.execute(f"SELECT * FROM jira_links WHERE issue_key IN ({marks})", chunk).fetchall()
    return rows


def _links_of(db: sqlite_utils.Database, window: Window) -> dict[str, dict[str, Any]]:
    """The account's links still open in PagerDuty, and those of any incident in the window (history stays out)."""
    rows = db.conn.execute(
        "SELECT * FROM jira_links WHERE account = ? AND (pd_status IS NULL OR pd_status != 'resolved')",
        [window.account],
    ).fetchall()
    ids = list(window.incidents)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows += db.conn.execute(
            f"SELECT * FROM jira_links WHERE account = ? AND pd_incident_id IN ({marks})", [window.account, *chunk]
        ).fetchall()
    return {r["pd_incident_id"]: dict(r) for r in rows}


def _links_with_pending(db: sqlite_utils.Database, kinds: tuple[str, ...]) -> set[int]:
    marks = ", ".join("?" for _ in kinds)
    rows = db.conn.execute(
        f"SELECT DISTINCT json_extract(payload, '$.link_id') FROM outbox WHERE state = 'pending' AND kind IN ({marks})",
        list(kinds),
    ).fetchall()
    return {int(r[0]) for r in rows if r[0] is not None}


def _own_note(db: sqlite_utils.Database, ref: str, content: str) -> bool:
    return bool(
        db.conn.execute(
            "SELECT 1 FROM incident_sync_writes WHERE system = 'pagerduty' AND ref = ? AND field = 'note' "
            "AND value = ?",
            [ref, content],
        ).fetchone()
    )


def create(runtime: Foundation) -> JiraSyncService:
    return JiraSyncService(runtime)
