"""The Jira sync capability: P1 PagerDuty incidents become Jira issues; status and priority flow both ways.

Built from the foundation: PagerDuty → Jira decides from the shared incident poller's windows
(pagerduty_to_jira.py), Jira → PagerDuty polls Jira on its own job (jira_to_pagerduty.py), and both queue their
writes as outbox effects (effects.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.capability import CapabilityService, Finding, Foundation, Job
from bot.clients.common import profile
from bot.clients.jira import build_jira
from bot.incidents.poller import shared_poller
from bot.jira_sync import config, workflow_check
from bot.jira_sync.effects import CREATE, MISSING_TRANSITION, JiraEffects
from bot.jira_sync.jira_to_pagerduty import JiraPoll
from bot.jira_sync.pagerduty_to_jira import PagerDutyToJira
from bot.jira_sync.process_effects import ProcessEffects
from bot.outbox import Handler

JOB = "jira_sync.poll"


class JiraSyncService(CapabilityService):
    def __init__(self, foundation: Foundation):
        self.config = config.load(foundation.settings)
        self.store = foundation.store
        self.shadow = foundation.shadow
        self.outbox = foundation.outbox
        self.jira = build_jira(foundation.settings)
        # Searches go to /rest/api/3/search/jql (the replacement of the removed /search); the fields read
        # back (status, priority, updated) are the same in v2 and v3, unlike bodies, which v3 wants in ADF.
        searcher = build_jira(foundation.settings, rest_api_version="3")
        self.poller = shared_poller(foundation)
        self.poller.add_consumer(PagerDutyToJira(self.store, self.outbox, self.config))
        self.poller.claim_incident_digest(self)
        self.jira_poll = JiraPoll(self.store, self.outbox, self.jira, searcher, self.config, self.poller)
        timeout = profile(foundation.settings).timeout
        self.writes = JiraEffects(self.store, self.outbox, self.jira, self.config, self.poller, timeout)
        self.process = ProcessEffects(self.writes)  # severity, question sub-tasks, links, timeline

    # --- CapabilityService -----------------------------------------------------------------------
    def start(self) -> None:
        if not self.shadow.active("jira_sync"):
            # Incidents whose issue was only recorded in shadow mode were the old tool's: never acted on later.
            self.store.execute(
                "UPDATE jira_links SET state = 'shadowed' WHERE state = 'creating' AND id IN "
                "(SELECT json_extract(payload, '$.link_id') FROM outbox WHERE state = 'shadowed' AND kind = ?)",
                [CREATE],
            )

    def jobs(self) -> tuple[Job, ...]:
        return (self.poller.job, Job(JOB, self.config.poll_seconds, self.jira_poll.poll))

    def effects(self) -> Mapping[str, Handler]:
        return {**self.poller.effects(), **self.writes.by_kind(), **self.process.by_kind()}

    def digest(self, since: float, until: float) -> list[str]:
        """Incidents opened and resolved, unless the status page (which claimed the figure first) reports them."""
        if not self.poller.reports_incidents(self):
            return []
        return self.poller.incident_digest(since, until)

    def doctor(self) -> list[Finding]:
        """JIRA_TRANSITIONS names the project's workflow does not have."""
        return workflow_check.findings(self.jira, self.config, self.store)

    def prune(self, before: float) -> int:
        """Notes forwarded long ago (their PagerDuty log entries are no longer read)."""
        return self.store.execute("DELETE FROM jira_forwarded_notes WHERE at < ?", [before])

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


def create(foundation: Foundation) -> JiraSyncService:
    return JiraSyncService(foundation)
