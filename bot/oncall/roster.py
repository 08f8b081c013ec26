"""Who is on call, read from PagerDuty in as few calls as possible.

- The cycle: `GET /oncalls` with every linked `schedule_ids[]` (up to 100 per request, to keep URLs short),
  `include[]=users` for emails, over [now, now + cycle]: the current people, when their shifts end and who starts
  within the cycle, so the next hand-off can be scheduled to the second. PagerDuty reaches schedules through
  escalation policies only, so a schedule no policy uses is read with `GET /schedules/{id}` (rendered) instead.
- Overrides: on-call entries don't say "override". `GET /schedules/{id}/overrides` for the current minute is
  asked only when a schedule's current shift changed (the service caches the answer per shift).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.clients.pagerduty import PagerDutyHttpError

log = logging.getLogger(__name__)

IDS_PER_REQUEST = 100
SEARCH_PAGE = 25  # schedules one name search asks PagerDuty for (one page)


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class OnCall:
    """One person on call for a schedule during [start, end) (None = open-ended)."""

    schedule_id: str
    user_id: str
    name: str  # PagerDuty name, or the reference's summary for a deactivated user
    email: str | None
    start: float | None
    end: float | None
    deactivated: bool = False

    def covers(self, moment: float) -> bool:
        return (self.start is None or self.start <= moment) and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class ScheduleInfo:
    id: str
    name: str
    in_policy: bool  # used by an escalation policy, hence visible to GET /oncalls


@dataclass(frozen=True)
class Override:
    user_id: str
    start: float
    end: float

    def covers(self, moment: float) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Rendered:
    schedule: ScheduleInfo
    people: list[OnCall]  # sorted by start; emails are not part of a rendered schedule
    overrides: list[Override]


def _override(entry: dict[str, Any]) -> Override:
    user = entry.get("user") or {}
    return Override(
        str(user.get("id") or ""), parse_time(entry.get("start")) or 0.0, parse_time(entry.get("end")) or 0.0
    )


def _person(
    schedule_id: str, user: dict[str, Any], start: float | None, end: float | None, expanded: bool = False
) -> OnCall:
    """`expanded`: the answer embeds full users (include[]=users), so one without an email is deactivated."""
    deactivated = bool(user.get("deleted_at")) or (expanded and not user.get("email"))
    return OnCall(
        schedule_id=schedule_id,
        user_id=str(user.get("id") or ""),
        name=str(user.get("name") or user.get("summary") or user.get("id") or "someone"),
        email=None if deactivated else user.get("email"),
        start=start,
        end=end,
        deactivated=deactivated,
    )


def _schedule_info(schedule: dict[str, Any]) -> ScheduleInfo:
    return ScheduleInfo(
        id=schedule["id"],
        name=str(schedule.get("name") or schedule.get("summary") or schedule["id"]),
        in_policy=bool(schedule.get("escalation_policies")),
    )


def is_not_found(error: Exception) -> bool:
    response = getattr(error, "response", None)
    return isinstance(error, PagerDutyHttpError) and getattr(response, "status_code", None) == 404


class Roster:
    def __init__(self, client: Any):
        self.client = client

    def schedule(self, schedule_id: str) -> ScheduleInfo | None:
        """The schedule's name and whether a policy uses it; None when PagerDuty has no such schedule."""
        try:
            return _schedule_info(self.client.rget(f"/schedules/{schedule_id}"))
        except PagerDutyHttpError as error:
            if is_not_found(error):
                return None
            raise

    def find(self, query: str, limit: int = SEARCH_PAGE) -> list[ScheduleInfo]:
        """Schedules whose name contains `query` (PagerDuty's search), first page only."""
        found = self.client.rget("/schedules", params={"query": query, "limit": limit})
        return [_schedule_info(s) for s in found]

    def oncalls(self, schedule_ids: Iterable[str], since: float, until: float) -> dict[str, list[OnCall]]:
        """Everyone on call in [since, until] per schedule, sorted by start; batched and paginated."""
        ids = list(dict.fromkeys(schedule_ids))
        result: dict[str, list[OnCall]] = {sid: [] for sid in ids}
        seen: set[tuple[str, str, float | None, float | None]] = set()
        for chunk_start in range(0, len(ids), IDS_PER_REQUEST):
            params = {
                "schedule_ids[]": ids[chunk_start : chunk_start + IDS_PER_REQUEST],
                "include[]": ["users"],
                "since": format_time(since),
                "until": format_time(until),
            }
            for row in self.client.iter_all("/oncalls", params=params):
                schedule = row.get("schedule") or {}
                sid = schedule.get("id")
                if sid not in result:  # a direct user target of the policy, not a schedule
                    continue
                user = row.get("user") or {}
                person = _person(sid, user, parse_time(row.get("start")), parse_time(row.get("end")), expanded=True)
                key = (sid, person.user_id, person.start, person.end)
                if key not in seen:  # one schedule in several policies/levels comes back once per use
                    seen.add(key)
                    result[sid].append(person)
        for people in result.values():
            people.sort(key=lambda p: (p.start or 0.0, p.user_id))
        return result

    def rendered(self, schedule_id: str, since: float, until: float) -> Rendered:
        """The final schedule's entries (whole shifts, users without email) and its overrides in [since, until]."""
        params = {"since": format_time(since), "until": format_time(until), "overflow": "true"}
        schedule = self.client.rget(f"/schedules/{schedule_id}", params=params)
        entries = (schedule.get("final_schedule") or {}).get("rendered_schedule_entries") or []
        people = [
            _person(schedule_id, entry.get("user") or {}, parse_time(entry.get("start")), parse_time(entry.get("end")))
            for entry in entries
        ]
        override_entries = (schedule.get("overrides_subschedule") or {}).get("rendered_schedule_entries") or []
        return Rendered(_schedule_info(schedule), people, [_override(o) for o in override_entries])

    def overrides(self, schedule_id: str, since: float, until: float) -> list[Override]:
        params = {"since": format_time(since), "until": format_time(until)}
        return [_override(o) for o in self.client.rget(f"/schedules/{schedule_id}/overrides", params=params)]

    def user(self, user_id: str) -> tuple[str, str | None] | None:
        """(name, email) of an active user; None when deactivated or unknown."""
        try:
            user = self.client.rget(f"/users/{user_id}")
        except PagerDutyHttpError as error:
            if is_not_found(error):
                return None
            raise
        return str(user.get("name") or user_id), user.get("email")
