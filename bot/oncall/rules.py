"""The on-call capability's pure decisions: who is on call now, who just took over, what each channel topic and
usergroup should show, and whether Slack needs a write for it. No I/O, no SQLite, no clock: the moment is passed in.

Rows are the capability's SQLite rows as read by the caller (`oncall_schedules`, `oncall_current`,
`oncall_channels`, `oncall_usergroups`); the wording of topics is in topic.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.oncall.links import Link
from bot.oncall.roster import OnCall, Override
from bot.oncall.topic import Duty, ScheduleDuty, Written, compose_prefix, join_names, plan_removal, plan_topic
from bot.text import escape

METADATA_MAX_AGE = 24 * 3600.0  # schedule names and policy use are refreshed daily…
METADATA_REFRESH_PER_CYCLE = 20  # …a few schedules per cycle, so 1,000 links don't refresh all at once
MISSING_RECHECK_SECONDS = 3600.0  # a schedule PagerDuty did not know is asked about again hourly

# PD user id → (Slack user id or None, how a topic or answer shows them: a mention or an escaped name)
Identities = dict[str, tuple[str | None, str]]
# Per schedule: ({PD user id: on call by override now}, the shift signature the marks are cached under)
OverrideFlags = dict[str, tuple[dict[str, bool], str]]


# --- people ----------------------------------------------------------------------------------------
def people_of(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The people an `oncall_current` row stores (each with its `override` mark)."""
    return list(json.loads(row["people"]))


def stored_people(row: Mapping[str, Any]) -> list[OnCall]:
    return [OnCall(**{k: v for k, v in p.items() if k != "override"}) for p in people_of(row)]


def signature(people: list[OnCall]) -> str:
    """Identifies a shift: the override marks cached under it stay valid while it does not change."""
    return json.dumps(sorted([p.user_id, p.start, p.end] for p in people))


def deactivated_display(person: OnCall) -> str:
    return f"Deactivated User :scream: ({escape(person.name)})"


def slack_date(epoch: float, style: str = "{date_short_pretty} {time}") -> str:
    """A date every reader sees in their own time zone (with a UTC fallback)."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{style}|{fallback}>"


def slack_user_of(shown: str) -> str | None:
    """The Slack user id behind a mention (`<@U1>`); None when the person is shown by name only."""
    return shown[2:-1] if shown.startswith("<@") else None


# --- what to ask PagerDuty -------------------------------------------------------------------------
def linked_schedules(links: list[Link]) -> list[str]:
    """Every linked schedule once, in link order."""
    return list(dict.fromkeys(sid for link in links for sid in link.schedules))


def active_schedules(links: list[Link]) -> set[str]:
    """Schedules some link that is not paused follows: only their hand-offs are announced."""
    return {sid for link in links if link.paused_at is None for sid in link.schedules}


def schedules_to_describe(schedule_ids: list[str], rows: Mapping[str, Mapping[str, Any]], now: float) -> list[str]:
    """Schedules never described, then a few whose description is stale (a missing one sooner)."""
    stale = [
        sid
        for sid in schedule_ids
        if sid in rows
        and now - rows[sid]["checked_at"] > (MISSING_RECHECK_SECONDS if rows[sid]["missing"] else METADATA_MAX_AGE)
    ]
    return [sid for sid in schedule_ids if sid not in rows] + stale[:METADATA_REFRESH_PER_CYCLE]


def on_call_now(
    spans: dict[str, list[OnCall]], previous: Mapping[str, Mapping[str, Any]], unread: set[str], now: float
) -> dict[str, list[OnCall]]:
    """Who is on call at `now` per schedule; a schedule that could not be read keeps its last known people."""
    current = {sid: [p for p in people if p.covers(now)] for sid, people in spans.items()}
    for sid in unread & set(previous):
        current[sid] = stored_people(previous[sid])
    return current


def current_and_next(people: list[OnCall], now: float) -> tuple[list[OnCall], OnCall | None]:
    """Who is on call at `now`, and the first person to start after it who is not on call now (`/oncall`)."""
    current = [p for p in people if p.covers(now)]
    on_call = {p.user_id for p in current}
    upcoming = [p for p in people if p.start and p.start > now and p.user_id not in on_call]
    return current, (upcoming[0] if upcoming else None)


def next_boundary(spans: dict[str, list[OnCall]], now: float) -> float | None:
    """The next shift start or end PagerDuty told us about: the moment of the next hand-off run."""
    boundaries = [t for people in spans.values() for p in people for t in (p.start, p.end) if t and t > now]
    return min(boundaries) if boundaries else None


def cached_override_marks(row: Mapping[str, Any]) -> dict[str, bool]:
    return {p["user_id"]: bool(p.get("override")) for p in people_of(row)}


def override_marks(people: list[OnCall], overrides: list[Override], now: float) -> dict[str, bool]:
    """{PD user id: on call by an override at `now`}."""
    return {p.user_id: any(o.user_id == p.user_id and o.covers(now) for o in overrides) for p in people}


def display_names(links: list[Link], meta: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The first display name a link gives a schedule, else PagerDuty's name (escaped for Slack)."""
    names: dict[str, str] = {}
    for link in links:
        for sid in link.schedules:
            if sid not in names and link.names.get(sid):
                names[sid] = escape(link.names[sid])
    return {sid: names.get(sid) or escape(m["name"]) for sid, m in meta.items()}


# --- hand-offs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Handoff:
    """One person who came on call since the last cycle, for one or more schedules."""

    line: str  # "<who> took over <schedules>", for the log and `/oncall sync`
    slack_id: str | None  # None: nobody in Slack to DM
    dm_text: str
    dm_key: str  # outbox idempotency key: one DM per person, shift start and schedules
    user_id: str = ""  # the PagerDuty user
    person: str = ""  # their PagerDuty name, plain (the digest names people without notifying them)
    shifts: tuple[TakenOver, ...] = ()  # each schedule taken over, in order

    @property
    def schedules(self) -> tuple[str, ...]:
        return tuple(shift.schedule_id for shift in self.shifts)


@dataclass(frozen=True)
class TakenOver:
    """One schedule of a hand-off: which, as shown (escaped), and when its shift began."""

    schedule_id: str
    name: str
    at: float


def handoffs(
    current: dict[str, list[OnCall]],
    previous: Mapping[str, Mapping[str, Any]],
    who: Identities,
    names: dict[str, str],
    now: float,
) -> list[Handoff]:
    """People on call now who were not at the last cycle. The first sight of a schedule is no hand-off."""
    incoming: dict[str, list[OnCall]] = {}
    for sid, people in current.items():
        before = previous.get(sid)
        if before is None:
            continue
        was = {p["user_id"] for p in people_of(before)}
        for person in people:
            if person.user_id not in was and not person.deactivated:
                incoming.setdefault(person.user_id, []).append(person)
    found = []
    for user_id, shifts in incoming.items():
        slack_id, shown = who[user_id]
        schedule_names = join_names([names[p.schedule_id] for p in shifts])
        ends = [p.end for p in shifts if p.end]
        until = f" until {slack_date(min(ends))}" if ends else ""
        start = int(min(p.start or now for p in shifts))
        found.append(
            Handoff(
                line=f"{shown} took over {schedule_names}",
                slack_id=slack_id,
                dm_text=f":pager: You are now on call for {schedule_names}{until}.",
                dm_key=f"oncall:handoff:{user_id}:{start}:{','.join(sorted(p.schedule_id for p in shifts))}",
                user_id=user_id,
                person=shifts[0].name,
                shifts=tuple(TakenOver(p.schedule_id, names[p.schedule_id], p.start or now) for p in shifts),
            )
        )
    return found


# --- channel topics --------------------------------------------------------------------------------
def channel_prefixes(
    links: list[Link], current: dict[str, list[OnCall]], flags: OverrideFlags, who: Identities, names: dict[str, str]
) -> dict[str, str]:
    """Channel id → our part of its topic, over the schedules of every link feeding it (in link order)."""
    schedules_by_channel: dict[str, list[str]] = {}
    for link in links:
        for channel in link.channels:
            wanted = schedules_by_channel.setdefault(channel, [])
            wanted += [sid for sid in link.schedules if sid not in wanted]
    return {
        channel: compose_prefix(
            [
                ScheduleDuty(
                    names[sid],
                    tuple(Duty(who[p.user_id][1], flags[sid][0].get(p.user_id, False)) for p in current[sid]),
                )
                for sid in schedule_ids
            ]
        )
        for channel, schedule_ids in schedules_by_channel.items()
    }


def written_of(row: Mapping[str, Any]) -> Written | None:
    """What the bot last wrote to a channel, from its `oncall_channels` row."""
    if row["written_topic"] is None:
        return None
    return Written(row["written_topic"], row["written_prefix"] or "", row["written_rest"])


def channel_needs_write(row: Mapping[str, Any], prefix: str) -> bool:
    """A topic never read (after a restart) is read by the writer first; a known one only when it differs."""
    return not row["topic_known"] or plan_topic(prefix, row["topic"] or "", written_of(row)) is not None


def edited_topic_needs_write(row: Mapping[str, Any], topic: str) -> bool:
    """After a person set `topic`: does our part need restoring (or, for an unlinked channel, removing)?"""
    if row["removing"]:
        return plan_removal(topic, written_of(row)) is not None
    prefix = row["desired_prefix"]
    return prefix is not None and plan_topic(prefix, topic, written_of(row)) is not None


# --- usergroups ------------------------------------------------------------------------------------
def usergroup_members(links: list[Link], current: dict[str, list[OnCall]], who: Identities) -> dict[str, set[str]]:
    """Usergroup id → the Slack users on call for any schedule of any link feeding it (may be empty)."""
    members_by_group: dict[str, set[str]] = {}
    for link in links:
        on_call = {who[p.user_id][0] for sid in link.schedules for p in current[sid]}
        for group in link.usergroups:
            members_by_group.setdefault(group, set()).update(m for m in on_call if m)
    return members_by_group


def usergroup_needs_write(row: Mapping[str, Any], members: set[str]) -> bool:
    known = set(json.loads(row["members"] or "[]"))
    return not row["members_known"] or known != members
