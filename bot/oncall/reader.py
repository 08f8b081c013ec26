"""Who is on call, read from PagerDuty (through roster.py) with the SQLite caches that keep a steady cycle to one
request: schedule names and policy use (`oncall_schedules`), people's emails (`oncall_pd_users`), and the override
marks of each current shift (`oncall_current`, read by the caller).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.clients.pagerduty import PagerDutyHttpError
from bot.oncall import rules
from bot.oncall.roster import OnCall, Override, Roster, ScheduleInfo
from bot.oncall.sources import policy_of
from bot.store import Store

log = logging.getLogger(__name__)

OVERRIDE_WINDOW_SECONDS = 60.0
OVERRIDE_CHECKS_PER_CYCLE = 100  # PagerDuty allows 960 requests/min; the rest are checked at the next cycles


def save_schedule(store: Store, info: ScheduleInfo | None, schedule_id: str, now: float) -> None:
    """Remember what PagerDuty said about a schedule; an unknown one keeps its last name and is flagged."""
    if info is None:
        store.execute(
            "INSERT INTO oncall_schedules (id, name, in_policy, missing, checked_at) VALUES (?, ?, 0, 1, ?) "
            "ON CONFLICT(id) DO UPDATE SET missing = 1, checked_at = excluded.checked_at",
            [schedule_id, schedule_id, now],
        )
        return
    store.execute(
        "INSERT INTO oncall_schedules (id, name, in_policy, missing, checked_at) VALUES (?, ?, ?, 0, ?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, in_policy = excluded.in_policy, missing = 0, "
        "checked_at = excluded.checked_at",
        [info.id, info.name, int(info.in_policy), now],
    )


def schedule_rows(store: Store) -> dict[str, dict[str, Any]]:
    """What PagerDuty last said about each schedule, by id."""
    return {r["id"]: r for r in store.query("SELECT * FROM oncall_schedules")}


class OnCallReader:
    def __init__(self, store: Store, roster: Roster, clock: Callable[[], float] = time.time):
        self.store = store
        self.roster = roster
        self.clock = clock

    def schedule_meta(self, schedule_ids: list[str], now: float) -> dict[str, dict[str, Any]]:
        """Name, policy use and existence per schedule; unknown or stale ones are asked of PagerDuty."""
        rows = schedule_rows(self.store)
        for sid in rules.schedules_to_describe(schedule_ids, rows, now):
            try:
                info = self.roster.describe(sid)
            except PagerDutyHttpError as error:  # e.g. a shift-based schedule: try /oncalls, ask again next cycle
                log.warning("PagerDuty would not describe schedule %s: %s", sid, error)
                known = rows.get(sid) or {"id": sid, "name": sid, "checked_at": now}
                rows[sid] = {**known, "in_policy": 1, "missing": 0}
                continue
            save_schedule(self.store, info, sid, now)
            rows[sid] = {"id": sid, "name": info.name if info else sid, "in_policy": int(bool(info and info.in_policy))}
            rows[sid].update(missing=int(info is None), checked_at=now)
        return {sid: rows[sid] for sid in schedule_ids}

    def fill_emails(self, people: list[OnCall]) -> list[OnCall]:
        """Rendered schedules carry no emails: take them from what /oncalls taught us, else ask once."""
        known = {r["id"]: r for r in self.store.query("SELECT id, name, email FROM oncall_pd_users")}
        filled = []
        for person in people:
            if person.deactivated or person.email:
                filled.append(person)
                continue
            row = known.get(person.user_id)
            if row is None:
                found = self.roster.user(person.user_id)
                if found is None:  # PagerDuty no longer has this user: deactivated
                    filled.append(replace(person, deactivated=True))
                    continue
                row = {"name": found[0], "email": found[1]}
                self.remember_users([OnCall("", person.user_id, found[0], found[1], None, None)])
                known[person.user_id] = row
            filled.append(replace(person, name=row["name"] or person.name, email=row["email"]))
        return filled

    def remember_users(self, people: list[OnCall]) -> None:
        with self.store.write() as db:
            for person in people:
                if person.email and not person.deactivated:
                    db.conn.execute(
                        "INSERT INTO oncall_pd_users (id, name, email, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email, "
                        "updated_at = excluded.updated_at",
                        [person.user_id, person.name, person.email, self.clock()],
                    )

    def read_oncall(
        self, meta: dict[str, dict[str, Any]], since: float, until: float
    ) -> tuple[dict[str, list[OnCall]], dict[str, list[Override]], set[str]]:
        """Everyone on call in the window per schedule: one batched /oncalls, plus schedules no policy uses, plus
        one batched /oncalls for the escalation policies linked (their first level).

        Also returns the schedules that could not be read alone (they keep their last known people)."""
        live = [sid for sid, m in meta.items() if not m["missing"]]
        policies = [sid for sid in live if policy_of(sid)]
        batched = [sid for sid in live if meta[sid]["in_policy"] and sid not in policies]
        spans = self.roster.oncalls(batched, since, until) if batched else {}
        if policies:
            spans.update(self.roster.policy_oncalls(policies, since, until))
        self.remember_users([p for people in spans.values() for p in people])
        # A policy's people carry no override mark: an empty list means "checked, none" (no /overrides call).
        overrides: dict[str, list[Override]] = {sid: [] for sid in policies}
        unread: set[str] = set()
        for sid in live:
            if sid in spans:
                continue
            try:
                rendered = self.roster.rendered(sid, since, until)
                spans[sid] = self.fill_emails(rendered.people)
            except PagerDutyHttpError as error:  # one schedule's trouble must not stop the other links
                log.warning("could not read schedule %s: %s", sid, error)
                unread.add(sid)
                continue
            overrides[sid] = rendered.overrides
        for sid in meta:
            spans.setdefault(sid, [])
        return spans, overrides, unread

    def override_flags(
        self,
        current: dict[str, list[OnCall]],
        rendered_overrides: dict[str, list[Override]],
        previous: dict[str, dict[str, Any]],
        now: float,
    ) -> rules.OverrideFlags:
        """Per schedule: {PD user id: on call by override now} and the signature to cache it under.

        Asked of PagerDuty only when the schedule's current shift differs from the one cached last cycle, and
        at most OVERRIDE_CHECKS_PER_CYCLE times a cycle (an unchecked shift is cached as unknown: asked next time).
        """
        result: rules.OverrideFlags = {}
        checks = 0
        for sid, people in current.items():
            sig = rules.signature(people)
            before = previous.get(sid)
            if not people:
                result[sid] = ({}, sig)
            elif before is not None and before["signature"] == sig:
                result[sid] = (rules.cached_override_marks(before), sig)
            elif sid not in rendered_overrides and checks >= OVERRIDE_CHECKS_PER_CYCLE:
                result[sid] = ({}, "")
            else:
                try:
                    found = rendered_overrides.get(sid)
                    if found is None:
                        checks += 1
                        found = self.roster.overrides(sid, now, now + OVERRIDE_WINDOW_SECONDS)
                except Exception as error:  # e.g. shift-based schedules refuse /overrides: no marker, ask again
                    log.warning("override check for schedule %s failed: %s", sid, error)
                    result[sid] = ({}, "")
                    continue
                result[sid] = (rules.override_marks(people, found, now), sig)
        return result
