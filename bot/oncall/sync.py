"""One sync cycle: read who is on call, decide what every channel and usergroup should show, notice hand-offs.

It writes nothing to Slack itself: it records the wanted state (`desired_*`, `dirty`) for the paced writer,
so a steady state — nobody changed, no topic edited — costs one PagerDuty request and no Slack call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.clients.pagerduty import PagerDutyHttpError
from bot.identity import SlackDirectory
from bot.oncall.links import Link, load_links
from bot.oncall.roster import OnCall, Override, Roster, ScheduleInfo
from bot.oncall.topic import Duty, ScheduleDuty, Written, compose_prefix, join_names, plan_topic
from bot.outbox import Outbox
from bot.store import Store
from bot.text import escape

log = logging.getLogger(__name__)

HORIZON_MARGIN_SECONDS = 60.0  # look a little past the next cycle, so no hand-off falls between two reads
METADATA_MAX_AGE = 24 * 3600.0  # schedule names and policy use are refreshed daily…
METADATA_REFRESH_PER_CYCLE = 20  # …a few schedules per cycle, so 1,000 links don't refresh all at once
MISSING_RECHECK_SECONDS = 3600.0
OVERRIDE_WINDOW_SECONDS = 60.0
OVERRIDE_CHECKS_PER_CYCLE = 100  # PagerDuty allows 960 requests/min; the rest are checked at the next cycles
HANDOFF_DM = "oncall.handoff_dm"


@dataclass
class SyncReport:
    links: int = 0
    schedules: int = 0
    next_boundary: float | None = None  # the next shift start/end PagerDuty told us about
    handoffs: list[str] = field(default_factory=list)  # "<who> took over <schedule>"
    missing: list[str] = field(default_factory=list)  # linked schedule ids PagerDuty does not know


def people_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    return list(json.loads(row["people"]))


def deactivated_display(person: OnCall) -> str:
    return f"Deactivated User :scream: ({escape(person.name)})"


def signature(people: list[OnCall]) -> str:
    return json.dumps(sorted([p.user_id, p.start, p.end] for p in people))


def slack_date(epoch: float, style: str = "{date_short_pretty} {time}") -> str:
    """A date every reader sees in their own time zone (with a UTC fallback)."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{style}|{fallback}>"


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


class Syncer:
    def __init__(
        self,
        store: Store,
        roster: Roster,
        directory: SlackDirectory,
        outbox: Outbox,
        sync_seconds: float,
        handoff_dm: bool,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.roster = roster
        self.directory = directory
        self.outbox = outbox
        self.sync_seconds = sync_seconds
        self.handoff_dm = handoff_dm
        self.clock = clock

    # --- PagerDuty side --------------------------------------------------------------------------
    def schedule_meta(self, schedule_ids: list[str], now: float) -> dict[str, dict[str, Any]]:
        """Name, policy use and existence per schedule; unknown or stale ones are asked of PagerDuty."""
        rows = {r["id"]: r for r in self.store.query("SELECT * FROM oncall_schedules")}
        stale = [
            sid
            for sid in schedule_ids
            if sid in rows
            and now - rows[sid]["checked_at"] > (MISSING_RECHECK_SECONDS if rows[sid]["missing"] else METADATA_MAX_AGE)
        ]
        ask = [sid for sid in schedule_ids if sid not in rows] + stale[:METADATA_REFRESH_PER_CYCLE]
        for sid in ask:
            try:
                info = self.roster.schedule(sid)
            except PagerDutyHttpError as error:  # e.g. a shift-based schedule: try /oncalls, ask again next cycle
                log.warning("PagerDuty would not describe schedule %s: %s", sid, error)
                known = rows.get(sid) or {"id": sid, "name": sid, "checked_at": now}
                rows[sid] = {**known, "in_policy": 1, "missing": 0}
                continue
            self.save_schedule(info, sid, now)
            rows[sid] = {"id": sid, "name": info.name if info else sid, "in_policy": int(bool(info and info.in_policy))}
            rows[sid].update(missing=int(info is None), checked_at=now)
        return {sid: rows[sid] for sid in schedule_ids}

    def save_schedule(self, info: ScheduleInfo | None, schedule_id: str, now: float) -> None:
        save_schedule(self.store, info, schedule_id, now)

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
        """Everyone on call in the window per schedule: one batched /oncalls, plus schedules no policy uses.

        Also returns the schedules that could not be read alone (they keep their last known people)."""
        live = [sid for sid, m in meta.items() if not m["missing"]]
        batched = [sid for sid in live if meta[sid]["in_policy"]]
        spans = self.roster.oncalls(batched, since, until) if batched else {}
        self.remember_users([p for people in spans.values() for p in people])
        overrides: dict[str, list[Override]] = {}
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
    ) -> dict[str, tuple[dict[str, bool], str]]:
        """Per schedule: {PD user id: on call by override now} and the signature to cache it under.

        Asked of PagerDuty only when the schedule's current shift differs from the one cached last cycle, and
        at most OVERRIDE_CHECKS_PER_CYCLE times a cycle (an unchecked shift is cached as unknown: asked next time).
        """
        result: dict[str, tuple[dict[str, bool], str]] = {}
        checks = 0
        for sid, people in current.items():
            sig = signature(people)
            before = previous.get(sid)
            if not people:
                result[sid] = ({}, sig)
            elif before is not None and before["signature"] == sig:
                result[sid] = ({p["user_id"]: bool(p.get("override")) for p in people_of(before)}, sig)
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
                flags = {p.user_id: any(o.user_id == p.user_id and o.covers(now) for o in found) for p in people}
                result[sid] = (flags, sig)
        return result

    # --- the cycle -------------------------------------------------------------------------------
    def run(self) -> SyncReport:
        now = self.clock()
        links = load_links(self.store)
        schedule_ids = list(dict.fromkeys(sid for link in links for sid in link.schedules))
        report = SyncReport(links=len(links), schedules=len(schedule_ids))
        marks = ", ".join("?" for _ in schedule_ids) or "''"  # forget unlinked schedules: a re-link is no hand-off
        self.store.execute(f"DELETE FROM oncall_current WHERE schedule_id NOT IN ({marks})", schedule_ids)
        if not schedule_ids:
            return report
        meta = self.schedule_meta(schedule_ids, now)
        report.missing = [sid for sid, m in meta.items() if m["missing"]]
        spans, rendered_overrides, unread = self.read_oncall(
            meta, now, now + self.sync_seconds + HORIZON_MARGIN_SECONDS
        )
        previous = {r["schedule_id"]: r for r in self.store.query("SELECT * FROM oncall_current")}
        current = {sid: [p for p in people if p.covers(now)] for sid, people in spans.items()}
        for sid in unread & set(previous):
            current[sid] = [OnCall(**{k: v for k, v in p.items() if k != "override"}) for p in people_of(previous[sid])]
        boundaries = [t for people in spans.values() for p in people for t in (p.start, p.end) if t and t > now]
        report.next_boundary = min(boundaries) if boundaries else None
        flags = self.override_flags(current, rendered_overrides, previous, now)
        who = self.identify([p for people in current.values() for p in people])
        names = self.display_names(links, meta)
        with self.store.write() as db:
            self.save_current(db, current, flags, now)
            report.handoffs = self.handoffs(db, current, previous, who, names, now)
            self.plan_channels(db, links, current, flags, who, names, now)
            self.plan_usergroups(db, links, current, who, now)
        return report

    def identify(self, people: list[OnCall]) -> dict[str, tuple[str | None, str]]:
        """PD user id → (Slack user id or None, how the topic shows them)."""
        result: dict[str, tuple[str | None, str]] = {}
        for person in people:
            if person.user_id in result:
                continue
            if person.deactivated:
                result[person.user_id] = (None, deactivated_display(person))
                continue
            shown = self.directory.mention_or_name(person.email, person.name)
            result[person.user_id] = (shown[2:-1] if shown.startswith("<@") else None, shown)
        return result

    @staticmethod
    def display_names(links: list[Link], meta: dict[str, dict[str, Any]]) -> dict[str, str]:
        """The first display name a link gives a schedule, else PagerDuty's name (escaped for Slack)."""
        names: dict[str, str] = {}
        for link in links:
            for sid in link.schedules:
                if sid not in names and link.names.get(sid):
                    names[sid] = escape(link.names[sid])
        return {sid: names.get(sid) or escape(m["name"]) for sid, m in meta.items()}

    def save_current(
        self, db: Any, current: dict[str, list[OnCall]], flags: dict[str, tuple[dict[str, bool], str]], now: float
    ) -> None:
        for sid, people in current.items():
            marks, sig = flags[sid]
            stored = [{**asdict(p), "override": marks.get(p.user_id, False)} for p in people]
            db.conn.execute(
                "INSERT INTO oncall_current (schedule_id, people, signature, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(schedule_id) DO UPDATE SET people = excluded.people, signature = excluded.signature, "
                "updated_at = excluded.updated_at",
                [sid, json.dumps(stored), sig, now],
            )

    def handoffs(
        self,
        db: Any,
        current: dict[str, list[OnCall]],
        previous: dict[str, dict[str, Any]],
        who: dict[str, tuple[str | None, str]],
        names: dict[str, str],
        now: float,
    ) -> list[str]:
        """People who came on call since the last cycle; with ONCALL_HANDOFF_DM, one DM each (outbox, once)."""
        incoming: dict[str, list[OnCall]] = {}
        for sid, people in current.items():
            before = previous.get(sid)
            if before is None:  # first sight of this schedule: not a hand-off
                continue
            was = {p["user_id"] for p in people_of(before)}
            for person in people:
                if person.user_id not in was and not person.deactivated:
                    incoming.setdefault(person.user_id, []).append(person)
        lines = []
        for user_id, shifts in incoming.items():
            slack_id, shown = who[user_id]
            schedule_names = join_names([names[p.schedule_id] for p in shifts])
            lines.append(f"{shown} took over {schedule_names}")
            if not (self.handoff_dm and slack_id):
                continue
            ends = [p.end for p in shifts if p.end]
            until = f" until {slack_date(min(ends))}" if ends else ""
            text = f":pager: You are now on call for {schedule_names}{until}."
            start = int(min(p.start or now for p in shifts))
            key = f"oncall:handoff:{user_id}:{start}:{','.join(sorted(p.schedule_id for p in shifts))}"
            self.outbox.enqueue(key, HANDOFF_DM, {"user": slack_id, "text": text}, db=db)
        return lines

    def plan_channels(
        self,
        db: Any,
        links: list[Link],
        current: dict[str, list[OnCall]],
        flags: dict[str, tuple[dict[str, bool], str]],
        who: dict[str, tuple[str | None, str]],
        names: dict[str, str],
        now: float,
    ) -> None:
        schedules_by_channel: dict[str, list[str]] = {}
        for link in links:
            for channel in link.channels:
                wanted = schedules_by_channel.setdefault(channel, [])
                wanted += [sid for sid in link.schedules if sid not in wanted]
        for channel, schedule_ids in schedules_by_channel.items():
            duties = [
                ScheduleDuty(
                    names[sid],
                    tuple(Duty(who[p.user_id][1], flags[sid][0].get(p.user_id, False)) for p in current[sid]),
                )
                for sid in schedule_ids
            ]
            prefix = compose_prefix(duties)
            row = db.conn.execute("SELECT * FROM oncall_channels WHERE channel_id = ?", [channel]).fetchone()
            if row is None:
                continue  # settle_targets creates rows when links change
            written = (
                Written(row["written_topic"], row["written_prefix"] or "", row["written_rest"])
                if (row["written_topic"] is not None)
                else None
            )
            needs_write = not row["topic_known"] or plan_topic(prefix, row["topic"] or "", written) is not None
            mark_dirty(db, "oncall_channels", "channel_id", channel, "desired_prefix", prefix, row, needs_write, now)

    def plan_usergroups(
        self,
        db: Any,
        links: list[Link],
        current: dict[str, list[OnCall]],
        who: dict[str, tuple[str | None, str]],
        now: float,
    ) -> None:
        members_by_group: dict[str, set[str]] = {}
        for link in links:
            on_call = {who[p.user_id][0] for sid in link.schedules for p in current[sid]} - {None}
            for group in link.usergroups:
                members_by_group.setdefault(group, set()).update(m for m in on_call if m)
        for group, members in members_by_group.items():
            row = db.conn.execute("SELECT * FROM oncall_usergroups WHERE usergroup_id = ?", [group]).fetchone()
            if row is None:
                continue
            desired = json.dumps(sorted(members))
            if not members:  # Slack refuses an empty group: keep the members, say so once
                if not row["kept"]:
                    log.warning("usergroup %s: nobody on call maps to a Slack user; keeping its members", group)
                db.conn.execute(
                    "UPDATE oncall_usergroups SET desired = ?, kept = 1, dirty = 0, dirty_since = NULL "
                    "WHERE usergroup_id = ?",
                    [desired, group],
                )
                continue
            known = set(json.loads(row["members"] or "[]"))
            needs_write = not row["members_known"] or known != members
            db.conn.execute("UPDATE oncall_usergroups SET kept = 0 WHERE usergroup_id = ?", [group])
            mark_dirty(db, "oncall_usergroups", "usergroup_id", group, "desired", desired, row, needs_write, now)


def mark_dirty(
    db: Any, table: str, key: str, target: str, column: str, desired: str, row: Any, needs_write: bool, now: float
) -> None:
    """Record the wanted state; a change of it lifts an earlier refusal or backoff (worth one new try)."""
    changed = row[column] != desired
    db.conn.execute(
        f"UPDATE {table} SET {column} = ?, dirty = ?, "
        "dirty_since = CASE WHEN ? THEN COALESCE(dirty_since, ?) ELSE NULL END, "
        "attempts = CASE WHEN ? THEN 0 ELSE attempts END, "
        "next_attempt_at = CASE WHEN ? THEN 0 ELSE next_attempt_at END, "
        f"blocked = CASE WHEN ? OR NOT ? THEN 0 ELSE blocked END WHERE {key} = ?",
        [
            desired,
            int(needs_write),
            int(needs_write),
            now,
            int(changed),
            int(changed),
            int(changed),
            int(needs_write),
            target,
        ],
    )
