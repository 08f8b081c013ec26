"""One sync cycle: read who is on call, decide what every channel and usergroup should show, notice hand-offs.

It writes nothing to Slack itself: it records the wanted state (`desired_*`, `dirty`) for the paced writer,
so a steady state — nobody changed, no topic edited — costs one PagerDuty request and no Slack call.
Reading is reader.py's, deciding rules.py's and recording recording.py's; this module runs them in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clients.slack import SlackApiError, slack_error
from bot.identity import SlackDirectory
from bot.oncall import rules
from bot.oncall.history import record_handoffs
from bot.oncall.links import Link, load_links
from bot.oncall.reader import OnCallReader
from bot.oncall.recording import (
    forget_unlinked,
    load_current,
    queue_handoff_dms,
    record_channels,
    record_usergroups,
    save_current,
)
from bot.oncall.roster import OnCall
from bot.outbox import Outbox
from bot.store import Store
from bot.text import escape, mention, quoted

# Adds the brief to the DM of each hand-off (brief.py); given the cycle's links.
Briefing = Callable[[list[rules.Handoff], list[Link]], list[rules.Handoff]]

LAST_SYNC_STATE = "oncall.last_sync"  # when the last cycle ran, how it ended, the next hand-off (`/oncall list`)
HORIZON_MARGIN_SECONDS = 60.0  # look a little past the next cycle, so no hand-off falls between two reads

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    links: int = 0
    schedules: int = 0
    next_boundary: float | None = None  # the next shift start/end PagerDuty told us about
    handoffs: list[str] = field(default_factory=list)  # "<who> took over <schedule>"
    missing: list[str] = field(default_factory=list)  # linked schedule ids PagerDuty does not know


class Syncer:
    def __init__(
        self,
        store: Store,
        reader: OnCallReader,
        directory: SlackDirectory,
        outbox: Outbox,
        sync_seconds: float,
        handoff_dm: bool,
        clock: Callable[[], float] = time.time,
        brief: Briefing | None = None,
    ):
        self.store = store
        self.reader = reader
        self.directory = directory
        self.outbox = outbox
        self.sync_seconds = sync_seconds
        self.handoff_dm = handoff_dm
        self.clock = clock
        self.brief = brief

    def run(self) -> SyncReport:
        now = self.clock()
        links = load_links(self.store)
        schedule_ids = rules.linked_schedules(links)
        report = SyncReport(links=len(links), schedules=len(schedule_ids))
        forget_unlinked(self.store, schedule_ids)
        if not schedule_ids:
            return report
        meta = self.reader.schedule_meta(schedule_ids, now)
        report.missing = [sid for sid, m in meta.items() if m["missing"]]
        spans, rendered_overrides, unread = self.reader.read_oncall(
            meta, now, now + self.sync_seconds + HORIZON_MARGIN_SECONDS
        )
        previous = load_current(self.store)
        current = rules.on_call_now(spans, previous, unread, now)
        report.next_boundary = rules.next_boundary(spans, now)
        flags = self.reader.override_flags(current, rendered_overrides, previous, now)
        who = self.identify([p for people in current.values() for p in people])
        names = rules.display_names(links, meta)
        active = rules.active_schedules(links)  # a paused link's schedules get no hand-off DM either
        handoffs = rules.handoffs({s: p for s, p in current.items() if s in active}, previous, who, names, now)
        report.handoffs = [handoff.line for handoff in handoffs]
        if self.handoff_dm and self.brief is not None and handoffs:
            handoffs = self.brief(handoffs, links)  # vendor reads: before the transaction, never inside it
        prefixes = rules.channel_prefixes(links, current, flags, who, names)
        members = rules.usergroup_members(links, current, who)
        with self.store.write() as db:
            save_current(db, current, flags, now)
            record_handoffs(db, handoffs, now)
            if self.handoff_dm:
                queue_handoff_dms(db, self.outbox, handoffs)
            record_channels(db, prefixes, now)
            record_usergroups(db, members, now)
        return report

    def _shown(self, person: OnCall) -> str:
        """`<@U…>` for a person Slack knows, else their PagerDuty name. A rate-limited lookup fails the cycle, to be
        run again: deciding on a guess would show a name instead of a mention and lose the hand-off DM."""
        if not person.email:
            return escape(person.name)
        try:
            identity = self.directory.lookup(person.email)
        except SlackApiError as error:
            if slack_error(error) == "ratelimited":
                raise
            log.warning("Slack lookup for %s failed: %s", quoted(person.email), quoted(slack_error(error)))
            return escape(person.name)
        return mention(identity.user_id or "") if identity.found else escape(person.name)

    def identify(self, people: list[OnCall]) -> rules.Identities:
        """PD user id → (Slack user id or None, how the topic shows them), looked up in Slack by email."""
        result: rules.Identities = {}
        for person in people:
            if person.user_id in result:
                continue
            if person.deactivated:
                result[person.user_id] = (None, rules.deactivated_display(person))
                continue
            shown = self._shown(person)
            result[person.user_id] = (rules.slack_user_of(shown), shown)
        return result
