"""PagerDuty → Jira: the Jira sync's consumer of the shared incident poller's windows.

Inside the poller's transaction, per account: an incident at a priority in JIRA_PRIORITIES (when first seen, or
raised to one in this window) gets a link row and a queued create (the row's unique (account, incident) key makes
that once per incident); linked incidents carry priority and status changes over; PagerDuty notes become Jira
comments once each. A change the bot made itself (the echo guard) is not carried back. With JIRA_TIMELINE on, each
log entry of a linked incident (and each note, on a timeline issue) queues one timeline comment, keyed by its id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlite_utils

from bot.incidents.model import PdIncident, Window, parse_time
from bot.incidents.pagerduty_api import PagerDutyAccount
from bot.incidents.writes import is_own_write, record_seen
from bot.jira_sync import rules
from bot.jira_sync.config import JiraConfig
from bot.jira_sync.effects import COMMENT, CREATE, PD_NOTE, PD_PRIORITY, PD_RESOLVE, TIMELINE
from bot.jira_sync.links import apply_decision, links_with_pending
from bot.outbox import Outbox
from bot.store import Store
from bot.text import quoted

log = logging.getLogger(__name__)


# Links with no Jira issue to sync with: its create failed for good, or was only recorded in shadow mode (the old
# tool created that issue; Switchboard never acts on it later).
NO_ISSUE = ("failed", "shadowed")


class PagerDutyToJira:
    needs_log_entries = True  # priority raises and notes are only in the log

    def __init__(self, store: Store, outbox: Outbox, config: JiraConfig):
        self.store = store
        self.outbox = outbox
        self.config = config

    # --- IncidentConsumer ------------------------------------------------------------------------
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
        busy = links_with_pending(db, (PD_RESOLVE, PD_PRIORITY, PD_NOTE))
        busy |= {link["id"] for link in links.values() if link["state"] in NO_ISSUE}  # no issue to sync with
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
        self._queue_timeline(db, window, links)
        self._forward_notes(db, window, links)

    def after_poll(self) -> None:
        pass

    # --- decisions in the poll transaction ---------------------------------------------------------
    def _qualifies(self, incident: PdIncident | None, window: Window) -> bool:
        if incident is None:
            return False
        if "jira_raised" not in window.extra:  # incidents raised to a qualifying priority in this window
            window.extra["jira_raised"] = rules.raised_to(window.entries, self.config.priorities)
        return rules.qualifies(incident, self.config.priorities, window.extra["jira_raised"])

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
        log.info("PagerDuty #%s (%s) qualifies for a Jira issue", incident.number, quoted(incident.priority))
        return {**row, "id": link_id, "issue_key": None, "changes": 0}

    def _carry_over(self, db: sqlite_utils.Database, link: dict[str, Any], incident: PdIncident) -> None:
        ref = f"{link['account']}/{link['pd_incident_id']}"
        decision = rules.pagerduty_changed(
            link, incident, self.config, lambda field, value: is_own_write(db, "pagerduty", ref, field, value)
        )
        apply_decision(db, self.outbox, link, decision)
        for field, value in decision.seen:
            record_seen(db, "pagerduty", ref, field, value)

    def _queue_timeline(self, db: sqlite_utils.Database, window: Window, links: dict[str, dict[str, Any]]) -> None:
        """One timeline comment per new log entry of a linked incident, oldest first (the poller has already left
        out entries handled by an earlier poll; the key keeps a replayed window from queueing one twice)."""
        if not self.config.process.timeline:
            return
        for entry in window.entries:
            link = links.get(entry.incident_id)
            body = rules.timeline_comment(entry)
            if link is None or link["state"] in NO_ISSUE or body is None:
                continue
            payload = {"link_id": link["id"], "body": body}
            self.outbox.enqueue(f"jira:timeline:{window.account}:{entry.id}", TIMELINE, payload, db=db)

    def _forward_notes(self, db: sqlite_utils.Database, window: Window, links: dict[str, dict[str, Any]]) -> None:
        for incident_id, notes in (window.extra.get("jira_notes") or {}).items():
            link = links.get(incident_id)
            if link is None or link["state"] in NO_ISSUE:
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
                if self.config.process.timeline == "issue":  # on the issue itself, the comment above is its entry
                    body = rules.timeline_note(note, parse_time(str(note.get("created_at") or "")))
                    timeline = {"link_id": link["id"], "body": body}
                    key = f"jira:timeline:{window.account}:note:{note.get('id')}"
                    self.outbox.enqueue(key, TIMELINE, timeline, db=db)


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


def _own_note(db: sqlite_utils.Database, ref: str, content: str) -> bool:
    """A note the bot itself added to PagerDuty (from a Jira change) is not copied back as a comment."""
    return bool(
        db.conn.execute(
            "SELECT 1 FROM incident_sync_writes WHERE system = 'pagerduty' AND ref = ? AND field = 'note' "
            "AND value = ?",
            [ref, content],
        ).fetchone()
    )
