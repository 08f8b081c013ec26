"""Who is on call, read from PagerDuty in as few calls as possible.

- The cycle: `GET /oncalls` with every linked `schedule_ids[]` (up to 100 per request, to keep URLs short),
  `include[]=users` for emails, over [now, now + cycle]: the current people, when their shifts end and who starts
  within the cycle, so the next hand-off can be scheduled to the second. PagerDuty reaches schedules through
  escalation policies only, so a schedule no policy uses is read with `GET /schedules/{id}` (rendered) instead.
- Overrides: on-call entries don't say "override". `GET /schedules/{id}/overrides` for the current minute is
  asked only when a schedule's current shift changed (the service caches the answer per shift).
- Escalation policies (links to `policy:<ID>`): `GET /oncalls` with `escalation_policy_ids[]`, keeping the entries
  of the first level (https://developer.pagerduty.com/api-reference/3a6b910f11050-list-all-of-the-on-calls).
  Their people carry no override mark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.clients.pagerduty import PagerDutyHttpError
from bot.oncall.sources import POLICY_LEVEL, policy_of, policy_source

log = logging.getLogger(__name__)

IDS_PER_REQUEST = 100
SEARCH_PAGE = 25  # schedules one name search asks PagerDuty for (one page)
ONCALLS_PAGE = 100  # the most entries one GET /oncalls answers: a command reads a policy's next weeks in one call


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


def _policy_info(policy: dict[str, Any]) -> ScheduleInfo:
    """A policy described like a schedule: its source (`policy:<ID>`) and name; GET /oncalls always reaches it."""
    return ScheduleInfo(
        id=policy_source(policy["id"]),
        name=str(policy.get("name") or policy.get("summary") or policy["id"]),
        in_policy=True,
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
        for chunk_start in range(0, len(ids), IDS_PER_REQUEST):
            params = _window_params(since, until, {"schedule_ids[]": ids[chunk_start : chunk_start + IDS_PER_REQUEST]})
            _collect(result, self.client.iter_all("/oncalls", params=params), _schedule_key)
        return _sorted(result)

    def policy_oncalls(self, sources: Iterable[str], since: float, until: float) -> dict[str, list[OnCall]]:
        """Everyone on call at the first level of each policy (sources `policy:<ID>`) in [since, until]."""
        keys = list(dict.fromkeys(sources))
        result: dict[str, list[OnCall]] = {key: [] for key in keys}
        ids = [policy_of(key) or key for key in keys]
        for chunk_start in range(0, len(ids), IDS_PER_REQUEST):
            ids_param = {"escalation_policy_ids[]": ids[chunk_start : chunk_start + IDS_PER_REQUEST]}
            params = _window_params(since, until, ids_param)
            _collect(result, self.client.iter_all("/oncalls", params=params), _policy_key)
        return _sorted(result)

    def rendered(self, schedule_id: str, since: float, until: float) -> Rendered:
        """The final schedule's entries (whole shifts, users without email) and its overrides in [since, until].
        For a policy source: its first level's entries (with emails) from one page of GET /oncalls."""
        if policy_of(schedule_id):
            return self.policy_rendered(schedule_id, since, until)
        params = {"since": format_time(since), "until": format_time(until), "overflow": "true"}
        schedule = self.client.rget(f"/schedules/{schedule_id}", params=params)
        entries = (schedule.get("final_schedule") or {}).get("rendered_schedule_entries") or []
        people = [
            _person(schedule_id, entry.get("user") or {}, parse_time(entry.get("start")), parse_time(entry.get("end")))
            for entry in entries
        ]
        override_entries = (schedule.get("overrides_subschedule") or {}).get("rendered_schedule_entries") or []
        return Rendered(_schedule_info(schedule), people, [_override(o) for o in override_entries])

    def policy_rendered(self, source: str, since: float, until: float) -> Rendered:
        params = _window_params(since, until, {"escalation_policy_ids[]": [policy_of(source)], "limit": ONCALLS_PAGE})
        rows = self.client.rget("/oncalls", params=params)
        result: dict[str, list[OnCall]] = {source: []}
        _collect(result, rows, _policy_key)
        named = next((row.get("escalation_policy") for row in rows if row.get("escalation_policy")), None)
        info = _policy_info(named) if named else ScheduleInfo(source, source, True)
        return Rendered(info, _sorted(result)[source], [])

    def policy(self, policy_id: str) -> ScheduleInfo | None:
        """An escalation policy as a link source (`policy:<ID>`, its name); None when PagerDuty has no such policy."""
        try:
            return _policy_info(self.client.rget(f"/escalation_policies/{policy_id}"))
        except PagerDutyHttpError as error:
            if is_not_found(error):
                return None
            raise

    def find_policies(self, query: str, limit: int = SEARCH_PAGE) -> list[ScheduleInfo]:
        """Escalation policies whose name contains `query` (PagerDuty's search), first page only."""
        found = self.client.rget("/escalation_policies", params={"query": query, "limit": limit})
        return [_policy_info(p) for p in found]

    def describe(self, source: str) -> ScheduleInfo | None:
        """A link source (schedule ID or `policy:<ID>`) as PagerDuty names it; None when it does not exist."""
        policy_id = policy_of(source)
        return self.policy(policy_id) if policy_id else self.schedule(source)

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


def _window_params(since: float, until: float, ids: dict[str, Any]) -> dict[str, Any]:
    return {**ids, "include[]": ["users"], "since": format_time(since), "until": format_time(until)}


def _schedule_key(row: dict[str, Any]) -> str | None:
    return (row.get("schedule") or {}).get("id")


def _policy_key(row: dict[str, Any]) -> str | None:
    """Only the first level counts for a policy link; lower levels are who it escalates to."""
    policy_id = (row.get("escalation_policy") or {}).get("id")
    return policy_source(policy_id) if policy_id and row.get("escalation_level") == POLICY_LEVEL else None


def _collect(
    result: dict[str, list[OnCall]], rows: Iterable[dict[str, Any]], key_of: Callable[[dict[str, Any]], str | None]
) -> None:
    """Add each /oncalls entry to the list of the source it belongs to, once. Entries of sources not asked about
    (a direct user target of a schedule's policy, a lower level of a policy) are skipped."""
    seen = {(key, p.user_id, p.start, p.end) for key, people in result.items() for p in people}
    for row in rows:
        key = key_of(row)
        if key not in result:
            continue
        user = row.get("user") or {}
        person = _person(key, user, parse_time(row.get("start")), parse_time(row.get("end")), expanded=True)
        identity = (key, person.user_id, person.start, person.end)
        if identity not in seen:  # one schedule in several policies/levels comes back once per use
            seen.add(identity)
            result[key].append(person)


def _sorted(result: dict[str, list[OnCall]]) -> dict[str, list[OnCall]]:
    for people in result.values():
        people.sort(key=lambda p: (p.start or 0.0, p.user_id))
    return result
