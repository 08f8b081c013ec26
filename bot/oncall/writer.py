"""Slack writes for on-call targets, paced per method so any number of links stays inside Slack's tiers.

The sync job only records what each channel and usergroup should show (`desired_*`, `dirty`); this writer
reconciles: it reads what it does not know (a topic after a restart: `conversations.info`, Tier 3; a group's
members: `usergroups.users.list`, Tier 2), then writes only what differs (`conversations.setTopic`,
`usergroups.users.update`, Tier 2). Each method has a sliding one-minute window, so 1,000 changed links are
spread over 50 minutes instead of being refused, and writes that are still waiting always carry the latest
wanted state (no stale intermediate topics). Each target fails alone: a refusal is recorded on its row and
retried hourly or when its wanted state changes, never in a loop. A target fed by a paused link is not written
(nor counted as waiting) until the link is resumed; its wanted state keeps following PagerDuty meanwhile.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.clients.common import retry_after_seconds
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.oncall import rules
from bot.oncall.links import paused_targets
from bot.oncall.topic import Written, plan_removal, plan_topic
from bot.shadow import Shadow
from bot.store import Store

log = logging.getLogger(__name__)

# Slack's per-method rate limit tiers (https://api.slack.com/apis/rate-limits): Tier 2 = 20/min, Tier 3 = 50/min.
LIMITS_PER_MINUTE = {
    "conversations.setTopic": 20,
    "usergroups.users.update": 20,
    "usergroups.users.list": 20,
    "conversations.info": 50,
}
# Slack counts its minute on its own clock: a second's margin keeps a call that is due "now" from landing early.
WINDOW_SECONDS = 61.0
# The calls of the last window, kept across restarts: a new process must not spend a minute's budget again.
WINDOWS_STATE = "oncall.write_windows"
REFUSED_RETRY_SECONDS = 3600.0  # a refusal (not_in_channel, permission_denied) is retried hourly at most
FIRST_BACKOFF_SECONDS = 30.0
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
# Targets with a write to make: dirty, and not fed by a paused link.
PENDING_CHANNELS = f"dirty = 1 AND channel_id NOT IN ({paused_targets('channel')})"
PENDING_USERGROUPS = f"dirty = 1 AND usergroup_id NOT IN ({paused_targets('usergroup')})"


def next_write_due(store: Store) -> float | None:
    """The earliest moment a pending write may be attempted (its backoff), or None when nothing is pending."""
    due = store.scalar(
        f"SELECT MIN(t) FROM (SELECT MIN(next_attempt_at) AS t FROM oncall_channels WHERE {PENDING_CHANNELS} "
        f"UNION ALL SELECT MIN(next_attempt_at) FROM oncall_usergroups WHERE {PENDING_USERGROUPS})"
    )
    return None if due is None else float(due)


class RateWindow:
    """At most `limit` calls in any `window` seconds, and nothing while Slack asked us to wait (429)."""

    def __init__(self, limit: int, clock: Callable[[], float], window: float = WINDOW_SECONDS):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.calls: deque[float] = deque()
        self.paused_until = 0.0

    def _forget_old(self, now: float) -> None:
        while self.calls and self.calls[0] <= now - self.window:
            self.calls.popleft()

    def try_take(self) -> bool:
        now = self.clock()
        self._forget_old(now)
        if now < self.paused_until or len(self.calls) >= self.limit:
            return False
        self.calls.append(now)
        return True

    def free_at(self) -> float:
        now = self.clock()
        self._forget_old(now)
        free = self.calls[0] + self.window if len(self.calls) >= self.limit else now
        return max(free, self.paused_until)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


@dataclass(frozen=True)
class Change:
    kind: str  # "channel" or "usergroup"
    target: str
    before: str | None
    after: str


@dataclass
class WriteReport:
    changes: list[Change] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, target, Slack error)
    calls: int = 0
    throttled: set[str] = field(default_factory=set)  # methods whose window was full


SHADOWED_WRITES = "oncall.shadowed_writes"  # set while shadow mode leaves Slack's state unwritten


class SlackWriter:
    def __init__(
        self, store: Store, slack: WebClient, clock: Callable[[], float] = time.time, shadow: Shadow | None = None
    ):
        self.store = store
        self.slack = slack
        self.clock = clock
        self.shadow = shadow if shadow is not None and shadow.active("oncall") else None
        self.windows = {method: RateWindow(limit, clock) for method, limit in LIMITS_PER_MINUTE.items()}
        self._load_windows()

    # --- the job ---------------------------------------------------------------------------------
    def run(self) -> WriteReport:
        report = WriteReport()
        now = self.clock()
        due = "SELECT * FROM {table} WHERE {pending} AND next_attempt_at <= ? ORDER BY dirty_since, rowid"
        for row in self.store.query(due.format(table="oncall_channels", pending=PENDING_CHANNELS), [now]):
            self._guard(report, "channel", row["channel_id"], lambda row=row: self._channel(row, report))
        for row in self.store.query(due.format(table="oncall_usergroups", pending=PENDING_USERGROUPS), [now]):
            self._guard(report, "usergroup", row["usergroup_id"], lambda row=row: self._usergroup(row, report))
        return report

    def wake_at(self) -> float | None:
        """When the next pending write can go: its backoff, or its method's window."""
        next_due = next_write_due(self.store)
        if next_due is None:
            return None
        return max([next_due] + [w.free_at() for w in self.windows.values() if w.free_at() > self.clock()])

    def waiting(self) -> int:
        return int(
            self.store.scalar(
                f"SELECT (SELECT COUNT(*) FROM oncall_channels WHERE {PENDING_CHANNELS} AND blocked = 0) + "
                f"(SELECT COUNT(*) FROM oncall_usergroups WHERE {PENDING_USERGROUPS} AND blocked = 0)"
            )
            or 0
        )

    def _take(self, method: str, report: WriteReport) -> bool:
        if self.windows[method].try_take():
            report.calls += 1
            self._save_windows()
            return True
        report.throttled.add(method)
        return False

    # --- channels --------------------------------------------------------------------------------
    def _channel(self, row: dict[str, Any], report: WriteReport) -> None:
        channel = row["channel_id"]
        topic = row["topic"] or ""
        if not row["topic_known"]:
            if not self._take("conversations.info", report):
                return
            info = self.slack.conversations_info(channel=channel)["channel"]
            topic = str((info.get("topic") or {}).get("value") or "")
            self.store.execute(
                "UPDATE oncall_channels SET topic = ?, topic_known = 1 WHERE channel_id = ?", [topic, channel]
            )
        written = rules.written_of(row)
        if row["removing"]:
            self._remove_our_part(channel, topic, written, report)
            return
        prefix = row["desired_prefix"]
        plan = plan_topic(prefix, topic, written) if prefix is not None else None
        if plan is None:
            self._settled("oncall_channels", "channel_id", channel, "desired_prefix", prefix, "topic up to date")
            return
        if self.shadow is not None:
            self._shadowed(
                "oncall_channels",
                "channel_id",
                channel,
                "desired_prefix",
                prefix,
                "topic",
                {"channel": channel, "topic": plan.topic},
            )
            return
        if not self._take("conversations.setTopic", report):
            return
        answer = self.slack.conversations_setTopic(channel=channel, topic=plan.topic)
        shown = str(((answer.get("channel") or {}).get("topic") or {}).get("value") or plan.topic)
        now = self.clock()
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE oncall_channels SET topic = ?, topic_known = 1, written_topic = ?, written_prefix = ?, "
                "written_rest = ?, written_at = ?, dirty = CASE WHEN desired_prefix IS ? THEN 0 ELSE 1 END, "
                "dirty_since = CASE WHEN desired_prefix IS ? THEN NULL ELSE dirty_since END, attempts = 0, "
                "next_attempt_at = 0, blocked = 0, last_error = NULL, last_result = 'topic set', last_result_at = ? "
                "WHERE channel_id = ?",
                [shown, shown, plan.prefix, plan.rest, now, prefix, prefix, now, channel],
            )
        report.changes.append(Change("channel", channel, written.prefix if written else None, plan.prefix))

    def _remove_our_part(self, channel: str, topic: str, written: Written | None, report: WriteReport) -> None:
        new = plan_removal(topic, written)
        if new is not None and self.shadow is not None:
            self.shadow.record("oncall.topic", {"channel": channel, "topic": new}, f"set the topic of <#{channel}>")
        elif new is not None:
            if not self._take("conversations.setTopic", report):
                return
            self.slack.conversations_setTopic(channel=channel, topic=new)
            report.changes.append(Change("channel", channel, written.prefix if written else None, ""))
        self.store.execute("DELETE FROM oncall_channels WHERE channel_id = ? AND removing = 1", [channel])

    # --- usergroups ------------------------------------------------------------------------------
    def _usergroup(self, row: dict[str, Any], report: WriteReport) -> None:
        group = row["usergroup_id"]
        desired = json.loads(row["desired"] or "[]")
        members = json.loads(row["members"] or "[]")
        if not desired:  # Slack refuses an empty group: keep whoever is in it
            self._settled("oncall_usergroups", "usergroup_id", group, "desired", row["desired"], "kept members")
            return
        if not row["members_known"]:
            if not self._take("usergroups.users.list", report):
                return
            members = list(self.slack.usergroups_users_list(usergroup=group)["users"])
            self.store.execute(
                "UPDATE oncall_usergroups SET members = ?, members_known = 1 WHERE usergroup_id = ?",
                [json.dumps(members), group],
            )
        if set(members) == set(desired):
            self._settled("oncall_usergroups", "usergroup_id", group, "desired", row["desired"], "members up to date")
            return
        if self.shadow is not None:
            self._shadowed(
                "oncall_usergroups",
                "usergroup_id",
                group,
                "desired",
                row["desired"],
                "members",
                {"usergroup": group, "users": desired},
            )
            return
        if not self._take("usergroups.users.update", report):
            return
        self.slack.usergroups_users_update(usergroup=group, users=",".join(desired))
        now = self.clock()
        with self.store.write() as db:
            db.conn.execute(
                "UPDATE oncall_usergroups SET members = ?, members_known = 1, "
                "dirty = CASE WHEN desired IS ? THEN 0 ELSE 1 END, "
                "dirty_since = CASE WHEN desired IS ? THEN NULL ELSE dirty_since END, attempts = 0, "
                "next_attempt_at = 0, blocked = 0, last_error = NULL, last_result = 'members set', "
                "last_result_at = ? WHERE usergroup_id = ?",
                [json.dumps(desired), row["desired"], row["desired"], now, group],
            )
        report.changes.append(Change("usergroup", group, ",".join(members), ",".join(desired)))

    # --- rate windows across restarts ------------------------------------------------------------
    def _load_windows(self) -> None:
        raw = self.store.get_state(WINDOWS_STATE)
        if not raw:
            return
        recent = self.clock() - WINDOW_SECONDS
        for method, calls in json.loads(raw).items():
            if method in self.windows:
                self.windows[method].calls.extend(sorted(t for t in calls if t > recent))

    def _save_windows(self) -> None:
        recent = self.clock() - WINDOW_SECONDS
        calls = {method: [t for t in window.calls if t > recent] for method, window in self.windows.items()}
        self.store.set_state(WINDOWS_STATE, json.dumps(calls))

    # --- shadow mode -----------------------------------------------------------------------------
    def _shadowed(
        self, table: str, key: str, target: str, column: str, desired: Any, what: str, payload: dict[str, Any]
    ) -> None:
        """Record the write instead of making it, once per wanted state, and remember that Slack's state was not
        written: when shadow mode ends, it is read again and only what still differs is written."""
        assert self.shadow is not None
        kind = "oncall.topic" if what == "topic" else "oncall.usergroup_members"
        described = f"set the topic of <#{target}>" if what == "topic" else f"set the members of <!subteam^{target}>"
        with self.store.write() as db:
            self.shadow.record(kind, payload, described, db=db)
            db.conn.execute(
                "INSERT INTO state (key, value, updated_at) VALUES (?, '1', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = '1', updated_at = excluded.updated_at",
                [SHADOWED_WRITES, self.clock()],
            )
        self._settled(table, key, target, column, desired, f"{what} not written (shadow mode)")

    # --- bookkeeping -----------------------------------------------------------------------------
    def _settled(self, table: str, key: str, target: str, desired_column: str, desired: Any, result: str) -> None:
        """Nothing to write: clean, unless the wanted state changed meanwhile."""
        self.store.execute(
            f"UPDATE {table} SET dirty = CASE WHEN {desired_column} IS ? THEN 0 ELSE 1 END, "
            f"dirty_since = CASE WHEN {desired_column} IS ? THEN NULL ELSE dirty_since END, attempts = 0, "
            "next_attempt_at = 0, blocked = 0, last_error = NULL, "
            f"last_result = ?, last_result_at = ? WHERE {key} = ?",
            [desired, desired, result, self.clock(), target],
        )

    def _guard(self, report: WriteReport, kind: str, target: str, work: Callable[[], None]) -> None:
        """One target's failure is recorded on its row and never stops the others."""
        try:
            work()
        except SlackApiError as error:
            self._failed(kind, target, error, slack_error(error), report)
        except Exception as error:  # network trouble: back off and keep the work
            self._failed(kind, target, error, f"{type(error).__name__}: {error}", report)

    def _failed(self, kind: str, target: str, error: Exception, code: str, report: WriteReport) -> None:
        table, key = ("oncall_channels", "channel_id") if kind == "channel" else ("oncall_usergroups", "usergroup_id")
        row = self.store.query_one(f"SELECT attempts, last_error FROM {table} WHERE {key} = ?", [target]) or {}
        now = self.clock()
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        if code == "ratelimited" or status == 429:  # the client already waited; pause this method, keep the work
            self._pause_for(response)
            return
        transient = not isinstance(error, SlackApiError) or code in TRANSIENT_ERRORS or (status or 0) >= 500
        attempts = int(row.get("attempts") or 0) + 1
        wait = min(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1), REFUSED_RETRY_SECONDS) if transient else None
        self.store.execute(
            f"UPDATE {table} SET attempts = ?, next_attempt_at = ?, blocked = ?, last_error = ?, last_result = ?, "
            f"last_result_at = ? WHERE {key} = ?",
            [
                attempts,
                now + (wait if wait is not None else REFUSED_RETRY_SECONDS),
                0 if transient else 1,
                code[:300],
                "will retry" if transient else "refused by Slack",
                now,
                target,
            ],
        )
        if row.get("last_error") != code[:300]:  # report a refusal once, not at every retry
            log.warning("on-call %s %s: Slack said %s", kind, target, code)
        report.failures.append((kind, target, code))

    def _pause_for(self, response: Any) -> None:
        """Honour Retry-After for the method Slack throttled (every method if we cannot tell which)."""
        method = str(getattr(response, "api_url", "") or "")
        seconds = retry_after_seconds(getattr(response, "headers", None) or {}, default=60.0)
        for name, window in self.windows.items():
            if not method or method.endswith(name):
                window.pause(seconds)
