"""Support desk: support channels ⇄ Zendesk. Slack messages arrive through `on_message`; Zendesk is polled.

Inbound facts (a message, a reply, a Zendesk comment) are written to SQLite under a unique key together with
their outbox effects, in one transaction; the effects (`effects.py`) make the Zendesk writes and the Slack posts.
So a redelivered or concurrent event changes nothing, and a restart resumes whatever was queued. The parts:
`slack_messages.py` (Slack → queue), `zendesk_poll.py` (Zendesk → queue), `report.py` (the daily report),
`posting.py` (queue → Slack) and `message_parts.py` (a long post as several messages within Slack's limits).
With PAGERDUTY_API_TOKEN set, the desk is also fed by the shared PagerDuty incident poller: `incident_links.py`
links requests in mapped channels (`service_map.py`) to open incidents, `incident_effects.py` tells the thread
and the ticket. The foundation's hooks: `digest.py`, `doctor.py`, `open_work.py`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from bot.capability import CapabilityService, Finding, Foundation, Job
from bot.clients.zendesk import ZendeskApi
from bot.incidents.poller import shared_poller
from bot.outbox import OUTBOX_JOB, Handler
from bot.support import doctor, records
from bot.support.config import SupportConfig, load
from bot.support.digest import digest_lines
from bot.support.effects import SupportEffects
from bot.support.identifiers import POLL_JOB, REPORT_JOB
from bot.support.incident_effects import IncidentEffects
from bot.support.incident_links import IncidentLinks
from bot.support.open_work import unanswered_threads
from bot.support.people import SlackPeople
from bot.support.posting import SlackPoster
from bot.support.report import DailyReport
from bot.support.service_map import ServiceMap
from bot.support.slack_messages import SlackMessages
from bot.support.zendesk_poll import ZendeskPoll

KICK_RETRY_SECONDS = 0.05


class SupportService(CapabilityService):
    def __init__(self, foundation: Foundation, config: SupportConfig):
        self.foundation = foundation
        self.config = config
        self.store = foundation.store
        self._next_kick = 0.0
        self.zendesk = ZendeskApi(foundation.settings)
        self.people = SlackPeople(foundation.slack)
        self.poster = SlackPoster(foundation, config)
        self.outbox_effects = SupportEffects(foundation, config, self.zendesk, self.people, self.poster)
        self.service_map = ServiceMap(foundation.store, config)
        # The shared poller's open snapshot says which incidents are open; it runs even with the status page and
        # the Jira sync off, as support lists its job too.
        self.poller = shared_poller(foundation) if config.watches_incidents else None
        self.incident_links = IncidentLinks(foundation.outbox, self.service_map, self.poller)
        if self.poller is not None:
            self.poller.add_consumer(self.incident_links)
        self.incident_effects = IncidentEffects(foundation, self.zendesk, self.poster)
        self.slack_messages = SlackMessages(foundation, config, self.zendesk, self.incident_links, self._kick)
        self.zendesk_poll = ZendeskPoll(foundation, config, self.zendesk, self.poster, self._kick)
        self.daily_report = DailyReport(foundation, config, self.zendesk, self.people, self._kick)

    def jobs(self) -> tuple[Job, ...]:
        jobs = [Job(POLL_JOB, self.config.poll_seconds, self.zendesk_poll.run)]
        if self.config.report_time is not None:
            jobs.append(Job(REPORT_JOB, None, self.daily_report.run))
        if self.poller is not None:
            jobs.append(self.poller.job)  # the same object the status page and the Jira sync list
        return tuple(jobs)

    def effects(self) -> Mapping[str, Handler]:
        return {**self.outbox_effects.handlers(), **self.incident_effects.handlers()}

    def prune(self, before: float) -> int:
        """Delivery records of comments and posts delivered long ago: they hold message text, and their sources (a
        Zendesk comment, a Slack message) will not come again, and links to incidents resolved long ago. Threads stay:
        a late reply still finds its ticket."""
        with self.store.write() as db:
            forwards = db.conn.execute(
                "DELETE FROM support_forwards WHERE done_at IS NOT NULL AND done_at < ?", [before]
            ).rowcount
            posts = db.conn.execute(
                "DELETE FROM support_posts WHERE posted_at IS NOT NULL AND posted_at < ?", [before]
            ).rowcount
            links = db.conn.execute(
                "DELETE FROM support_incident_links WHERE resolved_at IS NOT NULL AND resolved_at < ?", [before]
            ).rowcount
        return forwards + posts + links

    def start(self) -> None:
        if self.config.report_time is not None:
            self.daily_report.schedule(catch_up=True)

    def counts(self) -> dict[str, int]:
        return records.counts(self.store)

    def on_message(self, event: dict[str, Any]) -> None:
        self.slack_messages.handle(event)

    def digest(self, since: float, until: float) -> list[str]:
        return digest_lines(self.store, since, until)

    def doctor(self) -> list[Finding]:
        foundation = self.foundation
        return doctor.examine(self.store, self.zendesk, foundation.directory, foundation.slack, self.config)

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        return unanswered_threads(self.store, self.people, channels)

    def _kick(self) -> None:
        """Our transactions enqueue inside their own write, so the outbox is woken by hand afterwards; when it is
        busy with earlier work, it runs again shortly after rather than at its next one-second tick."""
        scheduler, now = self.foundation.scheduler, time.time()
        if not scheduler.run_now(OUTBOX_JOB) and now >= self._next_kick:
            self._next_kick = now + KICK_RETRY_SECONDS  # one retry in flight at a time, however many messages arrive
            scheduler.run_at(OUTBOX_JOB, self._next_kick)


def create(foundation: Foundation) -> SupportService:
    return SupportService(foundation, load(foundation.settings))
