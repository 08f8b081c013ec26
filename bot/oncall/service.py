"""The on-call capability: channel topics and usergroups follow PagerDuty; `/oncall` answers who is on call.

Jobs: `oncall.sync` (every ONCALL_SYNC_MINUTES, and again one second after each shift change PagerDuty
announces) decides what every target should show; `oncall.write` makes Slack show it, paced per method.
Events: a person editing a linked channel's topic (`message`), and "who is on call" asked by @mention
(`app_mention`) or in a DM with the bot (`message`, channel_type im), answered like `/oncall` (questions.py).
The foundation's hooks: the hand-off DM's brief of open work (brief.py), the digest's on-call changes
(history.py) and the doctor's findings about links (doctor.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from bot.capability import CapabilityService, Finding, Foundation, Job
from bot.clients.pagerduty import build_rest_client
from bot.oncall import rules
from bot.oncall.brief import HandoffBrief
from bot.oncall.config import OncallConfig, load
from bot.oncall.doctor import OncallDoctor
from bot.oncall.effects import HANDOFF_DM, MENTION_ANSWER, OncallEffects
from bot.oncall.history import digest_lines, prune_handoffs
from bot.oncall.open_incidents import IncidentReader
from bot.oncall.questions import answer_question
from bot.oncall.reader import OnCallReader
from bot.oncall.roster import Roster
from bot.oncall.sync import LAST_SYNC_STATE, Syncer, SyncReport
from bot.oncall.writer import SHADOWED_WRITES, SlackWriter, WriteReport, next_write_due
from bot.outbox import Handler
from bot.pacing import UserPacer
from bot.text import mention, quoted

log = logging.getLogger(__name__)

SYNC_JOB = "oncall.sync"
WRITE_JOB = "oncall.write"
WRITE_SECONDS = 30.0  # safety net; the writer is also woken by every sync, topic event and rate-limit window
HANDOFF_DELAY_SECONDS = 1.0  # run just after a shift ends, when PagerDuty already answers with the next person


class OncallService(CapabilityService):
    def __init__(self, foundation: Foundation, config: OncallConfig):
        self.foundation = foundation
        self.store = foundation.store
        self.config = config
        pagerduty = build_rest_client(foundation.settings)
        self.roster = Roster(pagerduty)
        self.reader = OnCallReader(self.store, self.roster)
        self.syncer = Syncer(
            self.store,
            self.reader,
            foundation.directory,
            foundation.outbox,
            config.sync_seconds,
            config.handoff_dm,
            brief=HandoffBrief(IncidentReader(pagerduty), foundation.open_work),
        )
        self.writer = SlackWriter(self.store, foundation.slack, shadow=foundation.shadow)
        self.outbox_effects = OncallEffects(foundation.slack, foundation.outbox)
        self._local = threading.local()  # reports of runs made in this thread (`/oncall sync` waits for them)
        # A question costs PagerDuty calls like `/oncall` does: paced per person like slash commands.
        self.question_pacer = UserPacer(foundation.settings.switchboard_commands_per_minute)
        self.forget_slack_state()

    def forget_slack_state(self) -> None:
        """After a restart a topic may have been edited unseen (no events while we were away): read each once.

        Usergroup members are not re-read: no event tells us of manual membership edits while running either,
        so the members we last wrote or read stay the reference until the next change of who is on call.
        """
        self.store.execute("UPDATE oncall_channels SET topic_known = 0, dirty = 1, dirty_since = ?", [time.time()])
        if self.writer.shadow is None and self.store.get_state(SHADOWED_WRITES):
            # Shadow mode is over: members were never written, so read each group again and write what differs.
            self.store.execute(
                "UPDATE oncall_usergroups SET members_known = 0, dirty = 1, dirty_since = ?", [time.time()]
            )
            self.store.execute("DELETE FROM state WHERE key = ?", [SHADOWED_WRITES])

    # --- jobs ------------------------------------------------------------------------------------
    def jobs(self) -> tuple[Job, ...]:
        return (Job(SYNC_JOB, self.config.sync_seconds, self.sync), Job(WRITE_JOB, WRITE_SECONDS, self.write))

    def effects(self) -> dict[str, Handler]:
        return self.outbox_effects.handlers()

    def describe_effect(self, kind: str, payload: dict[str, Any]) -> str:
        if kind == HANDOFF_DM:
            return f"the hand-off DM to {mention(str(payload.get('user') or '?'))}"
        if kind == MENTION_ANSWER:
            return f'the answer to "who is on call" in <#{payload.get("channel") or "?"}>'
        return super().describe_effect(kind, payload)

    def sync(self) -> None:
        started = time.time()
        try:
            report = self.syncer.run()
        except Exception as error:
            self.store.set_state(LAST_SYNC_STATE, json.dumps({"at": started, "error": _describe(error)}))
            raise
        self._local.sync_report = report
        self.store.set_state(
            LAST_SYNC_STATE,
            json.dumps(
                {"at": started, "error": None, "next_boundary": report.next_boundary, "missing": report.missing}
            ),
        )
        if report.next_boundary is not None:
            self.foundation.scheduler.run_at(SYNC_JOB, report.next_boundary + HANDOFF_DELAY_SECONDS)
        for line in report.handoffs:
            log.info("on-call hand-off: %s", quoted(line))  # PagerDuty names: one log token each
        if not getattr(self._local, "hold_writes", False):
            self.soon(WRITE_JOB)

    def write(self) -> None:
        report = self.writer.run()
        self._local.write_report = report
        wake = self._next_write(report)
        if wake is not None:
            self.foundation.scheduler.run_at(WRITE_JOB, wake)

    def _next_write(self, report: WriteReport) -> float | None:
        now = time.time()
        if report.throttled:
            return min(self.writer.windows[m].free_at() for m in report.throttled)
        due = next_write_due(self.store)
        return None if due is None else max(due, now + 0.2)

    def sync_and_write_here(self) -> tuple[SyncReport | None, WriteReport | None, str | None]:
        """A full sync and write in this thread (for `/oncall sync` and link answers); (sync, write, error)."""
        self._local.hold_writes = True
        self._local.sync_report = self._local.write_report = None
        error = None
        try:
            self.foundation.scheduler.run_and_wait(SYNC_JOB)
        except Exception as exc:
            error = _describe(exc)
        finally:
            self._local.hold_writes = False
        try:
            self.foundation.scheduler.run_and_wait(WRITE_JOB)
        except Exception as exc:
            error = error or _describe(exc)
        return self._local.sync_report, self._local.write_report, error

    def soon(self, job: str) -> None:
        """Run a job as soon as the scheduler loop can. Not `run_now`: a run started from a job or a listener
        thread while the bot shuts down could outlive the database; the loop thread is stopped first."""
        self.foundation.scheduler.run_at(job, time.time())

    def kick(self) -> None:
        """Sync soon (after a link change), in the background."""
        self.soon(SYNC_JOB)

    # --- Slack events ----------------------------------------------------------------------------
    def on_mention(self, event: dict[str, Any]) -> None:
        """An `app_mention` (after the ack, on the foundation's pool): "who is on call" is answered in its thread."""
        answer_question(self, event, in_thread=True)

    def on_message(self, event: dict[str, Any]) -> None:
        """A `channel_topic` message tells us a person changed a topic: no need to ask Slack. In a DM with the bot
        (which sends no `app_mention`), "who is on call" is answered in the conversation."""
        if event.get("channel_type") == "im":
            answer_question(self, event, in_thread=False)
            return
        if event.get("subtype") != "channel_topic" or not event.get("channel"):
            return
        channel, topic = event["channel"], str(event.get("topic") or "")
        with self.store.write() as db:
            row = db.conn.execute("SELECT * FROM oncall_channels WHERE channel_id = ?", [channel]).fetchone()
            if row is None:
                return
            needs_write = rules.edited_topic_needs_write(row, topic)
            db.conn.execute(
                "UPDATE oncall_channels SET topic = ?, topic_known = 1, dirty = ?, "
                "dirty_since = CASE WHEN ? THEN COALESCE(dirty_since, ?) ELSE NULL END WHERE channel_id = ?",
                [topic, int(needs_write), int(needs_write), time.time(), channel],
            )
        if needs_write:
            log.info("topic of %s was edited without our on-call part; restoring it", channel)
            self.soon(WRITE_JOB)

    # --- what the other capabilities and the coordinator ask -------------------------------------
    def digest(self, since: float, until: float) -> list[str]:
        """The on-call changes of the period: who took over which schedules, when."""
        return digest_lines(self.store, since, until)

    def doctor(self) -> list[Finding]:
        return OncallDoctor(self.store, self.reader, self.foundation.directory, self.foundation.slack).findings()

    def prune(self, before: float) -> int:
        return prune_handoffs(self.store, before)

    # --- Home tab --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        count = self.store.scalar
        return {
            "links": int(count("SELECT COUNT(*) FROM oncall_links") or 0),
            "paused links": int(count("SELECT COUNT(*) FROM oncall_links WHERE paused_at IS NOT NULL") or 0),
            "channels": int(count("SELECT COUNT(*) FROM oncall_channels WHERE removing = 0") or 0),
            "usergroups": int(count("SELECT COUNT(*) FROM oncall_usergroups") or 0),
            "writes waiting": self.writer.waiting(),
            "refused by Slack": int(
                count(
                    "SELECT (SELECT COUNT(*) FROM oncall_channels WHERE blocked = 1) + "
                    "(SELECT COUNT(*) FROM oncall_usergroups WHERE blocked = 1)"
                )
                or 0
            ),
            "groups kept (nobody maps)": int(count("SELECT COUNT(*) FROM oncall_usergroups WHERE kept = 1") or 0),
        }


def _describe(error: BaseException) -> str:
    """Short enough for a Slack answer: a vendor error's HTTP status rather than its whole URL."""
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status:
        return f"{type(error).__name__} (HTTP {status})"
    return f"{type(error).__name__}: {error}"[:200]


def create(foundation: Foundation) -> OncallService:
    return OncallService(foundation, load(foundation.settings))
