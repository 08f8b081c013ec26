"""Jira → PagerDuty: the Jira poll (every JIRA_POLL_SECONDS).

`/search/jql` for issues updated since the persisted cursor minus an overlap, all pages, with recently written
issues passed in `reconcileIssues` (search is eventually consistent); a linked issue that became done resolves its
incident, one that left done adds a note, a priority change re-prioritises the incident. The link row's remembered
values and the recorded writes keep the bot's own changes from bouncing back.
"""

from __future__ import annotations

import threading
import time
from datetime import tzinfo
from typing import Any

from bot.clients.jira import JIRA
from bot.incidents.poller import IncidentPoller
from bot.incidents.writes import is_own_write, recently_written, record_seen
from bot.jira_sync import rules
from bot.jira_sync.config import JiraConfig
from bot.jira_sync.effects import CREATE, PRIORITY, TRANSITION
from bot.jira_sync.links import apply_decision, links_by_key, links_with_pending
from bot.outbox import Outbox
from bot.store import Store

CURSOR = "jira_sync.cursor"
OVERLAP_SECONDS = 120.0  # JQL dates have minute resolution; search is eventually consistent
RECONCILE_SECONDS = 600.0  # issues the bot wrote to this recently are passed in reconcileIssues
PAGE_SIZE = 100
SEARCH_FIELDS = ["status", "priority", "updated"]


class JiraPoll:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        jira: JIRA,
        searcher: JIRA,
        config: JiraConfig,
        poller: IncidentPoller,
    ):
        self.store = store
        self.outbox = outbox
        self.jira = jira
        self.searcher = searcher  # the same site through /rest/api/3 (search/jql); `jira` asks for the time zone
        self.config = config
        self.poller = poller
        self.lookback_seconds = poller.config.lookback_hours * 3600
        self._zone: tzinfo | None = None
        self._zone_lock = threading.Lock()

    def poll(self) -> int:
        """One Jira poll; returns how many linked issues changed."""
        started = time.time()
        cursor = float(self.store.get_state(CURSOR) or started - self.lookback_seconds)
        jql = rules.jql_since(self.config.project, cursor - OVERLAP_SECONDS, self._user_zone())
        issues = [rules.IssueSnapshot.from_api(i) for i in self._search(jql)]
        changed = 0
        next_cursor = started
        with self.store.write() as db:
            keys = [i.key for i in issues]
            links = {r["issue_key"]: dict(r) for r in links_by_key(db, keys)}
            busy = links_with_pending(db, (CREATE, PRIORITY, TRANSITION))
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
                apply_decision(db, self.outbox, link, decision)
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
        ids = [int(r["issue_id"]) for r in links_by_key(self.store.db, keys) if str(r["issue_id"] or "").isdigit()]
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
