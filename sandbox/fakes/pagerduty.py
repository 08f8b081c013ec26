"""PagerDuty REST API v2 and Events API v2 fake, served over loopback TLS (the `pagerduty` client is https-only).

State mirrors the real account: users, schedules (explicit shifts plus overrides), escalation policies, services,
priorities, incidents with alerts, notes and log entries. On-call answers are computed from the fake's clock
(`now()`, moved with `advance()`), so tests can step across a hand-off without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
import string
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fakes.base import FakeError, FakeRequest, FakeService
from sandbox.fakes.tls import LoopbackCA

Shift = tuple[str, float, float]  # (user_id, start_epoch, end_epoch)
DAY = 86400.0
MAX_OFFSET = 10000  # classic pagination ceiling: offset + limit
STATUSES = ("triggered", "acknowledged", "resolved")
SEVERITIES = ("critical", "error", "warning", "info")
OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "resolve_log_entry",
    "priority_change_log_entry",
    "annotate_log_entry",
}
DEFAULT_PRIORITIES = (("P1", "da0000"), ("P2", "eb6500"), ("P3", "f9b406"), ("P4", "a1a1a1"), ("P5", "7f7f7f"))
ACCOUNT_TOKEN_ME_ERROR = (
    "Because this request was made using an account-level access token, we were unable to determine the user's "
    "identity. Please use a user-level token."
)
FROM_MISSING = 'You must specify a user\'s email address in the "From" header to perform this action'
STATUS_ERRORS = {
    400: ("Invalid Input Provided", 2001),
    401: ("Unauthorized", 2006),
    403: ("Access Denied", 2010),
    404: ("Not Found", 2100),
    405: ("Method Not Allowed", 2100),
    413: ("Request Entity Too Large", 2001),
    429: ("Rate Limit Exceeded", 2020),
}


@dataclass
class _User:
    id: str
    name: str
    email: str
    deleted: bool = False
    time_zone: str = "UTC"
    deleted_at: float | None = None


@dataclass
class _Override:
    id: str
    user_id: str
    start: float
    end: float


@dataclass
class _Schedule:
    id: str
    name: str
    time_zone: str
    shifts: list[Shift] = field(default_factory=list)
    overrides: list[_Override] = field(default_factory=list)


@dataclass
class _Policy:
    id: str
    name: str
    levels: list[list[str]]
    rule_ids: list[str]


@dataclass
class _Service:
    id: str
    name: str
    escalation_policy_id: str | None
    routing_key: str | None
    created_at: float


@dataclass
class _Alert:
    id: str
    alert_key: str
    summary: str
    severity: str
    details: Any
    created_at: float
    status: str = "triggered"


@dataclass
class _Incident:
    id: str
    number: int
    title: str
    service_id: str
    created_at: float
    incident_key: str | None
    details: Any = None
    urgency: str = "high"
    status: str = "triggered"
    priority: str | None = None
    updated_at: float = 0.0
    resolved_at: float | None = None
    last_change_at: float = 0.0
    last_change_by: dict | None = None
    trigger_log_id: str = ""
    assignments: list[tuple[str, float]] = field(default_factory=list)
    acknowledgements: list[tuple[dict, float]] = field(default_factory=list)
    alerts: list[_Alert] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


@dataclass
class _LogEntry:
    id: str
    seq: int
    type: str
    summary: str
    created_at: float
    incident_id: str
    agent: dict | None
    channel: dict
    extra: dict = field(default_factory=dict)


@dataclass
class _View:
    """How one request wants objects rendered."""

    tz: tzinfo | None = None
    include: frozenset[str] = frozenset()


PLAIN = _View()  # UTC timestamps, nothing embedded


def _pd_error(*errors: str, message: str = "Invalid Input Provided", code: int = 2001, status: int = 400) -> FakeError:
    return FakeError(status, body={"error": {"message": message, "code": code, "errors": list(errors)}})


def _parse_time(value: str, tz: tzinfo | None) -> float:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # "+0000" (what the client's strftime writes)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz or timezone.utc)
    return moment.timestamp()


def _fmt(ts: float | None, tz: tzinfo | None = None) -> str | None:
    if ts is None:
        return None
    if tz is None:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return datetime.fromtimestamp(int(ts), tz).isoformat()


def _overlaps(start: float, end: float, since: float, until: float) -> bool:
    if since == until:  # an instant: who is on call at that moment
        return start <= since < end
    return start < until and end > since


class PagerDutyFake(FakeService):
    """REST API v2 (auth `Token token=<one of tokens>`) and Events API v2 (`POST /v2/enqueue`, a known routing key)
    on one TLS port, so PAGERDUTY_API_URL and PAGERDUTY_EVENTS_URL can both be `base_url`. Writes to incidents need
    a `From` header naming a (non-deleted) user's email, unless the token was registered with `add_user_token`."""

    name = "pagerduty"

    def __init__(
        self,
        ca: LoopbackCA,
        tokens: Iterable[str] = ("pd-sandbox",),
        routing_keys: Iterable[str] = ("R" * 32,),
        subdomain: str = "sandbox",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self._initial_keys = (frozenset(tokens), frozenset(routing_keys))
        self.tokens = set(tokens)
        self.user_tokens: dict[str, str] = {}
        self.routing_keys = set(routing_keys)
        self.subdomain = subdomain
        self.abilities = ["teams", "read_only_users", "urgencies", "incident_priorities"]
        self.events: list[dict] = []  # every accepted Events API event, for assertions
        self.users: dict[str, _User] = {}
        self.schedules: dict[str, _Schedule] = {}
        self.policies: dict[str, _Policy] = {}
        self.services: dict[str, _Service] = {}
        self.incidents: dict[str, _Incident] = {}
        self.log: dict[str, _LogEntry] = {}
        self.priorities: dict[str, dict] = {}
        self._clock_offset = 0.0
        self._ids: set[str] = set()
        self._log_seq = 0
        super().__init__(host, port, ssl_context=ca.server_context())
        for order, (name, color) in enumerate(DEFAULT_PRIORITIES):
            self._add_priority(name, color, order)

    # --- links and ids ---------------------------------------------------------------------------
    def _new_id(self, prefix: str = "P", length: int = 6) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            candidate = prefix + "".join(random.choices(alphabet, k=length))
            if candidate not in self._ids:
                self._ids.add(candidate)
                return candidate

    def _api(self, path: str) -> str:
        try:
            return self.origin + path  # `self` links must lead back to the fake so rget(obj) works
        except AssertionError:
            return "https://api.pagerduty.com" + path

    def _html(self, path: str) -> str:
        return f"https://{self.subdomain}.pagerduty.com{path}"

    def _ref(self, kind: str, collection: str, obj_id: str, summary: str) -> dict:
        path = f"/{collection}/{obj_id}"
        return {
            "id": obj_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": self._api(path),
            "html_url": self._html(path),
        }

    def _user_ref(self, user_id: str) -> dict:
        user = self.users[user_id]
        ref = self._ref("user", "users", user.id, user.name)
        if user.deleted:
            ref["deleted_at"] = _fmt(user.deleted_at)
        return ref

    def _service_ref(self, service_id: str) -> dict:
        return self._ref("service", "services", service_id, self.services[service_id].name)

    def _schedule_ref(self, schedule_id: str) -> dict:
        return self._ref("schedule", "schedules", schedule_id, self.schedules[schedule_id].name)

    def _policy_ref(self, policy_id: str) -> dict:
        return self._ref("escalation_policy", "escalation_policies", policy_id, self.policies[policy_id].name)

    def _incident_ref(self, inc: _Incident) -> dict:
        return self._ref("incident", "incidents", inc.id, f"[#{inc.number}] {inc.title}")

    # --- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        rest: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/users", self._list_users),
            ("GET", r"/users/me", self._get_me),
            ("GET", r"/users/(?P<user_id>[^/]+)", self._get_user),
            ("GET", r"/abilities", lambda r: {"abilities": list(self.abilities)}),
            ("GET", r"/abilities/(?P<ability>[^/]+)", self._get_ability),
            ("GET", r"/schedules", self._list_schedules),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)", self._get_schedule),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)/users", self._schedule_users),
            ("GET", r"/schedules/(?P<schedule_id>[^/]+)/overrides", self._schedule_overrides),
            ("GET", r"/oncalls", self._list_oncalls),
            ("GET", r"/escalation_policies", self._list_policies),
            ("GET", r"/escalation_policies/(?P<policy_id>[^/]+)", self._get_policy),
            ("GET", r"/services", self._list_services),
            ("GET", r"/services/(?P<service_id>[^/]+)", self._get_service),
            ("GET", r"/priorities", lambda r: self._page(r, "priorities", list(self.priorities), self._priority_json)),
            ("GET", r"/incidents", self._list_incidents),
            ("POST", r"/incidents", self._create_incident),
            ("PUT", r"/incidents", self._update_incidents),
            ("GET", r"/incidents/(?P<incident_id>[^/]+)", self._get_incident),
            ("PUT", r"/incidents/(?P<incident_id>[^/]+)", self._update_incident),
            ("GET", r"/incidents/(?P<incident_id>[^/]+)/notes", self._list_notes),
            ("POST", r"/incidents/(?P<incident_id>[^/]+)/notes", self._create_note),
            ("GET", r"/incidents/(?P<incident_id>[^/]+)/alerts", self._list_alerts),
            ("GET", r"/incidents/(?P<incident_id>[^/]+)/log_entries", self._incident_log_entries),
            ("GET", r"/log_entries", self._list_log_entries),
            ("GET", r"/log_entries/(?P<entry_id>[^/]+)", self._get_log_entry),
        ]
        for method, pattern, handler in rest:
            self.add_route(method, pattern, self._authenticated(handler))
        self.add_route("POST", r"/v2/enqueue", self._enqueue)
        self.add_route("POST", r"/v2/change/enqueue", self._enqueue_change)

    def _authenticated(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(request: FakeRequest, **kwargs: Any) -> Any:
            if self._token(request) is None:
                raise FakeError(401)
            return handler(request, **kwargs)

        return wrapped

    def _token(self, request: FakeRequest) -> str | None:
        header = request.header("authorization", "") or ""
        match = re.fullmatch(r"(?:Token token=|Bearer )(\S+)", header.strip())
        token = match.group(1) if match else None
        return token if token in self.tokens or token in self.user_tokens else None

    def error_body(self, status: int, message: str = "") -> Any:
        title, code = STATUS_ERRORS.get(status, (HTTPStatus(status).phrase, 2000))
        error: dict[str, Any] = {"message": title, "code": code}
        if message and message != title:
            error["errors"] = [message]
        return {"error": error}

    # --- request parsing -------------------------------------------------------------------------
    def _view(self, request: FakeRequest) -> _View:
        name = request.q("time_zone")
        tz: tzinfo | None = None
        if name and name != "UTC":
            try:
                tz = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise _pd_error("Time zone is not a valid time zone") from None
        return _View(tz, frozenset(request.q_list("include")))

    def _time_param(self, request: FakeRequest, name: str, view: _View) -> float | None:
        value = request.q(name)
        if not value:
            return None
        try:
            return _parse_time(value, view.tz)
        except ValueError:
            raise _pd_error(f"{name.capitalize()} is not a valid date", code=2004) from None

    @staticmethod
    def _int_param(request: FakeRequest, name: str, default: int) -> int:
        value = request.q(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise _pd_error(f"{name} must be an integer") from None

    def _page(
        self, request: FakeRequest, wrapper: str, items: Sequence[Any], render: Callable[[Any], Any] | None = None
    ) -> dict:
        limit = min(max(self._int_param(request, "limit", 25), 1), 100)
        offset = max(self._int_param(request, "offset", 0), 0)
        if offset + limit > MAX_OFFSET:
            raise _pd_error(f"Offset plus limit must not exceed {MAX_OFFSET}")
        wants_total = (request.q("total") or "").lower() == "true"
        chunk = items[offset : offset + limit]
        return {
            wrapper: [render(item) for item in chunk] if render else list(chunk),
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": len(items) if wants_total else None,
        }

    @staticmethod
    def _matches_query(request: FakeRequest, *texts: str) -> bool:
        query = (request.q("query") or "").lower()
        return not query or any(query in text.lower() for text in texts)

    def _writer(self, request: FakeRequest) -> _User:
        """The user a write acts as: the user token's owner, else the user named by the `From` header."""
        token = self._token(request)
        if token in self.user_tokens:
            return self.users[self.user_tokens[token]]
        email = (request.header("from") or "").strip().lower()
        if not email:
            raise _pd_error(FROM_MISSING)
        for user in self.users.values():
            if user.email.lower() == email and not user.deleted:
                return user
        raise _pd_error(f'The user with email "{email}" given in the "From" header was not found')

    def _body(self, request: FakeRequest, key: str) -> Any:
        body = request.json
        if not isinstance(body, dict) or key not in body:
            raise _pd_error(f"{key} is missing from the request body")
        return body[key]

    # --- users -----------------------------------------------------------------------------------
    def _user_json(self, user_id: str) -> dict:
        user = self.users[user_id]
        if user.deleted:  # a deactivated user is only a bare reference: no name, no email
            return self._user_ref(user_id)
        path = f"/users/{user.id}"
        return {
            "id": user.id,
            "type": "user",
            "summary": user.name,
            "self": self._api(path),
            "html_url": self._html(path),
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": "purple",
            "role": "user",
            "avatar_url": f"https://secure.gravatar.com/avatar/{user.id}.png?d=mm&r=PG",
            "description": None,
            "invitation_sent": False,
            "job_title": None,
            "billed": True,
            "teams": [],
            "contact_methods": [],
            "notification_rules": [],
            "coordinated_incidents": [],
        }

    def _list_users(self, request: FakeRequest) -> dict:
        users = [u for u in self.users.values() if not u.deleted and self._matches_query(request, u.name, u.email)]
        return self._page(request, "users", users, lambda u: self._user_json(u.id))

    def _get_user(self, request: FakeRequest, user_id: str) -> dict:
        if user_id not in self.users or self.users[user_id].deleted:
            raise FakeError(404)
        return {"user": self._user_json(user_id)}

    def _get_me(self, request: FakeRequest) -> Any:
        token = self._token(request)
        if token not in self.user_tokens:
            return 400, {"error": ACCOUNT_TOKEN_ME_ERROR}  # a plain string: what the client's api_key_access reads
        return {"user": self._user_json(self.user_tokens[token])}

    def _get_ability(self, request: FakeRequest, ability: str) -> Any:
        return (204, None) if ability in self.abilities else (402, self.error_body(402, "Ability not available"))

    # --- schedules -------------------------------------------------------------------------------
    def _timeline(self, schedule: _Schedule) -> list[tuple[float, float, str]]:
        """The final schedule as (start, end, user_id) spans: the latest override beats the earliest-listed shift,
        adjacent spans of one user merge. A sweep with two heaps keeps months of shifts cheap."""
        items = [(s, e, u, i, False) for i, (u, s, e) in enumerate(schedule.shifts)]
        items += [(o.start, o.end, o.user_id, -i, True) for i, o in enumerate(schedule.overrides)]
        items.sort(key=lambda item: item[0])
        points = sorted({t for item in items for t in item[:2]})
        heaps: dict[bool, list[tuple[int, float, str]]] = {True: [], False: []}  # keyed by "is an override"
        spans: list[tuple[float, float, str]] = []
        pending = 0
        for start, end in itertools.pairwise(points):
            while pending < len(items) and items[pending][0] <= start:
                _, e, user_id, rank, is_override = items[pending]
                heapq.heappush(heaps[is_override], (rank, e, user_id))
                pending += 1
            for heap in heaps.values():
                while heap and heap[0][1] <= start:
                    heapq.heappop(heap)
            winner = heaps[True] or heaps[False]
            if not winner:
                continue
            user_id = winner[0][2]
            if spans and spans[-1][1] == start and spans[-1][2] == user_id:
                spans[-1] = (spans[-1][0], end, user_id)
            else:
                spans.append((start, end, user_id))
        return spans

    def _spans_in(self, schedule: _Schedule, since: float, until: float) -> list[tuple[float, float, str]]:
        return [span for span in self._timeline(schedule) if _overlaps(span[0], span[1], since, until)]

    def _window(self, request: FakeRequest, view: _View) -> tuple[float, float]:
        now = self.now()
        since = self._time_param(request, "since", view)
        until = self._time_param(request, "until", view)
        since = now if since is None else since
        until = max(since, now) if until is None else until
        if until < since:
            raise _pd_error("Since must be before until", code=2005)
        return since, until

    def _schedule_or_404(self, schedule_id: str) -> _Schedule:
        if schedule_id not in self.schedules:
            raise FakeError(404)
        return self.schedules[schedule_id]

    def _schedule_json(
        self, schedule: _Schedule, view: _View, window: tuple[float, float] | None = None, clip: bool = True
    ) -> dict:
        path = f"/schedules/{schedule.id}"
        user_ids = list(dict.fromkeys([u for u, _, _ in schedule.shifts] + [o.user_id for o in schedule.overrides]))
        result = {
            "id": schedule.id,
            "type": "schedule",
            "summary": schedule.name,
            "self": self._api(path),
            "html_url": self._html(path),
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "description": None,
            "escalation_policies": [self._policy_ref(p.id) for p in self._policies_targeting(schedule.id)],
            "users": [self._user_ref(u) for u in user_ids if u in self.users],
            "teams": [],
            "schedule_layers": [],
        }
        if window is not None:
            final = self._rendered("Final Schedule", self._timeline(schedule), window, view, clip)
            overrides = [(o.start, o.end, o.user_id) for o in schedule.overrides]
            result["final_schedule"] = final
            result["overrides_subschedule"] = self._rendered("Overrides", overrides, window, view, clip)
        return result

    def _rendered(
        self, name: str, spans: list[tuple[float, float, str]], window: tuple[float, float], view: _View, clip: bool
    ) -> dict:
        since, until = window
        clip = clip and since < until  # entries are truncated at the requested bounds unless overflow=true
        entries, covered = [], 0.0
        for start, end, user_id in spans:
            if not _overlaps(start, end, since, until):
                continue
            shown = (max(start, since), min(end, until)) if clip else (start, end)
            covered += shown[1] - shown[0]
            entries.append(
                {"start": _fmt(shown[0], view.tz), "end": _fmt(shown[1], view.tz), "user": self._user_ref(user_id)}
            )
        coverage = round(100.0 * covered / (until - since), 2) if clip else (100.0 if entries else 0.0)
        return {"name": name, "rendered_schedule_entries": entries, "rendered_coverage_percentage": coverage}

    def _policies_targeting(self, target_id: str) -> list[_Policy]:
        return [p for p in self.policies.values() if any(target_id in level for level in p.levels)]

    def _list_schedules(self, request: FakeRequest) -> dict:
        view = self._view(request)
        found = [s for s in self.schedules.values() if self._matches_query(request, s.name)]
        return self._page(request, "schedules", found, lambda s: self._schedule_json(s, view))

    def _get_schedule(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        view = self._view(request)
        overflow = (request.q("overflow") or "").lower() == "true"
        return {"schedule": self._schedule_json(schedule, view, self._window(request, view), clip=not overflow)}

    def _schedule_users(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        since, until = self._window(request, self._view(request))
        user_ids = dict.fromkeys(u for _, _, u in self._spans_in(schedule, since, until))
        return {"users": [self._user_json(u) for u in user_ids if u in self.users]}

    def _schedule_overrides(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        view = self._view(request)
        if not request.q("since") or not request.q("until"):
            raise _pd_error("since and until are required", code=2003, message="Missing Arguments")
        since, until = self._window(request, view)
        overrides = [o for o in schedule.overrides if _overlaps(o.start, o.end, since, until)]
        return {"overrides": [self._override_json(o, view) for o in overrides]}

    def _override_json(self, override: _Override, view: _View = PLAIN) -> dict:
        return {
            "id": override.id,
            "start": _fmt(override.start, view.tz),
            "end": _fmt(override.end, view.tz),
            "user": self._user_ref(override.user_id),
        }

    # --- on-calls --------------------------------------------------------------------------------
    def _oncall_rows(
        self, since: float, until: float
    ) -> list[tuple[_Policy, int, str | None, str, float | None, float | None]]:
        rows = []
        for policy in self.policies.values():
            for level, targets in enumerate(policy.levels, start=1):
                for target in targets:
                    if target in self.schedules:
                        for start, end, user_id in self._spans_in(self.schedules[target], since, until):
                            rows.append((policy, level, target, user_id, start, end))
                    elif target in self.users:  # a user target is on call permanently
                        rows.append((policy, level, None, target, None, None))
        return rows

    def _list_oncalls(self, request: FakeRequest) -> dict:
        view = self._view(request)
        since, until = self._window(request, view)
        if until - since > 90 * DAY:
            raise _pd_error("The date range cannot exceed 90 days", code=2005)
        rows = self._oncall_rows(since, until)
        policy_ids, user_ids = set(request.q_list("escalation_policy_ids")), set(request.q_list("user_ids"))
        schedule_ids = set(request.q_list("schedule_ids"))
        if policy_ids:
            rows = [r for r in rows if r[0].id in policy_ids]
        if user_ids:
            rows = [r for r in rows if r[3] in user_ids]
        if schedule_ids:  # "null" keeps the permanent (direct user) on-calls
            rows = [r for r in rows if (r[2] if r[2] is not None else "null") in schedule_ids]
        if (request.q("earliest") or "").lower() == "true":
            first: dict[tuple[str, int, str], Any] = {}
            for row in rows:
                first.setdefault((row[0].id, row[1], row[3]), row)
            rows = list(first.values())
        return self._page(request, "oncalls", rows, lambda row: self._oncall_json(row, view))

    def _oncall_json(self, row: tuple, view: _View) -> dict:
        policy, level, schedule_id, user_id, start, end = row
        schedule = None
        if schedule_id is not None:
            schedule = (
                self._schedule_json(self.schedules[schedule_id], view)
                if "schedules" in view.include
                else self._schedule_ref(schedule_id)
            )
        return {
            "escalation_policy": self._policy_json(policy)
            if "escalation_policies" in view.include
            else self._policy_ref(policy.id),
            "escalation_level": level,
            "schedule": schedule,
            "user": self._user_json(user_id) if "users" in view.include else self._user_ref(user_id),
            "start": _fmt(start, view.tz),
            "end": _fmt(end, view.tz),
        }

    # --- escalation policies, services -----------------------------------------------------------
    def _target_ref(self, target_id: str) -> dict:
        return self._schedule_ref(target_id) if target_id in self.schedules else self._user_ref(target_id)

    def _policy_json(self, policy: _Policy) -> dict:
        path = f"/escalation_policies/{policy.id}"
        return {
            "id": policy.id,
            "type": "escalation_policy",
            "summary": policy.name,
            "self": self._api(path),
            "html_url": self._html(path),
            "name": policy.name,
            "description": "",
            "num_loops": 0,
            "on_call_handoff_notifications": "if_has_services",
            "escalation_rules": [
                {"id": rule_id, "escalation_delay_in_minutes": 30, "targets": [self._target_ref(t) for t in targets]}
                for rule_id, targets in zip(policy.rule_ids, policy.levels, strict=True)
            ],
            "services": [
                self._service_ref(s.id) for s in self.services.values() if s.escalation_policy_id == policy.id
            ],
            "teams": [],
        }

    def _list_policies(self, request: FakeRequest) -> dict:
        found = [p for p in self.policies.values() if self._matches_query(request, p.name)]
        return self._page(request, "escalation_policies", found, self._policy_json)

    def _get_policy(self, request: FakeRequest, policy_id: str) -> dict:
        if policy_id not in self.policies:
            raise FakeError(404)
        return {"escalation_policy": self._policy_json(self.policies[policy_id])}

    def _service_json(self, service: _Service, view: _View = PLAIN) -> dict:
        path = f"/services/{service.id}"
        last = max((i.created_at for i in self.incidents.values() if i.service_id == service.id), default=None)
        integrations = []
        if service.routing_key:
            integrations.append(
                self._ref("events_api_v2_inbound_integration", "integrations", service.routing_key[:7], "Events API")
            )
        return {
            "id": service.id,
            "type": "service",
            "summary": service.name,
            "self": self._api(path),
            "html_url": self._html(path),
            "name": service.name,
            "description": None,
            "status": "active",
            "created_at": _fmt(service.created_at, view.tz),
            "last_incident_timestamp": _fmt(last, view.tz),
            "auto_resolve_timeout": None,
            "acknowledgement_timeout": None,
            "alert_creation": "create_alerts_and_incidents",
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
            "escalation_policy": self._policy_ref(service.escalation_policy_id)
            if service.escalation_policy_id in self.policies
            else None,
            "integrations": integrations,
            "teams": [],
        }

    def _list_services(self, request: FakeRequest) -> dict:
        view = self._view(request)
        found = [s for s in self.services.values() if self._matches_query(request, s.name)]
        return self._page(request, "services", found, lambda s: self._service_json(s, view))

    def _get_service(self, request: FakeRequest, service_id: str) -> dict:
        if service_id not in self.services:
            raise FakeError(404)
        return {"service": self._service_json(self.services[service_id], self._view(request))}

    # --- priorities ------------------------------------------------------------------------------
    def _add_priority(self, name: str, color: str, order: int) -> dict:
        priority_id = self._new_id()
        stamp = _fmt(time.time())
        self.priorities[name] = {
            "id": priority_id,
            "type": "priority",
            "summary": name,
            "html_url": None,
            "name": name,
            "description": f"Priority {name}",
            "color": color,
            "order": (len(DEFAULT_PRIORITIES) - order) * 32,
            "schema_version": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
        return self.priorities[name]

    def _priority_json(self, name: str | None) -> dict | None:
        if name is None:
            return None
        priority = dict(self.priorities[name])
        priority["self"] = self._api(f"/priorities/{priority['id']}")
        return priority

    def _priority_by_id(self, priority_id: str) -> str:
        for name, priority in self.priorities.items():
            if priority["id"] == priority_id:
                return name
        raise _pd_error("Priority not found")

    # --- incidents: state changes shared by the REST API, the Events API and the helpers ---------
    def _log_entry(
        self, inc: _Incident, entry_type: str, summary: str, agent: dict | None, channel: dict, **extra: Any
    ) -> _LogEntry:
        self._log_seq += 1
        entry = _LogEntry(
            self._new_id("R", 25), self._log_seq, entry_type, summary, self.now(), inc.id, agent, channel, extra
        )
        self.log[entry.id] = entry
        return entry

    def _first_responder(self, service_id: str) -> str | None:
        """Whoever is on call now at level 1 of the service's escalation policy gets the assignment."""
        policy = self.policies.get(self.services[service_id].escalation_policy_id or "")
        now = self.now()
        for target in policy.levels[0] if policy and policy.levels else []:
            if target in self.users:
                return target
            spans = self._spans_in(self.schedules[target], now, now) if target in self.schedules else []
            if spans:
                return spans[0][2]
        return None

    def _open_incident(
        self,
        service_id: str,
        title: str,
        *,
        agent: dict,
        channel: dict,
        summary: str,
        incident_key: str,
        details: Any = None,
        priority: str | None = None,
        urgency: str = "high",
        alert: _Alert | None = None,
    ) -> _Incident:
        now = self.now()
        inc = _Incident(self._new_id(), len(self.incidents) + 1, title, service_id, now, incident_key, details, urgency)
        inc.priority, inc.updated_at, inc.last_change_at, inc.last_change_by = priority, now, now, agent
        inc.alerts.extend([alert] if alert else [])
        self.incidents[inc.id] = inc
        inc.trigger_log_id = self._log_entry(inc, "trigger_log_entry", summary, agent, channel).id
        assignee = self._first_responder(service_id)
        if assignee is not None:
            inc.assignments.append((assignee, now))
            self._log_entry(
                inc,
                "assign_log_entry",
                f"Assigned to {self.users[assignee].name}",
                self._service_ref(service_id),
                {"type": "auto"},
                assignees=[self._user_ref(assignee)],
            )
        return inc

    def _open_by_key(self, service_id: str, key: str) -> _Incident | None:
        return next(
            (
                i
                for i in self.incidents.values()
                if i.service_id == service_id and i.incident_key == key and i.status != "resolved"
            ),
            None,
        )

    def _set_status(self, inc: _Incident, status: str, agent: dict, channel: dict, how: str) -> None:
        """`how` completes the log summary: "by Alice" or "through the API"."""
        if inc.status == "resolved":
            raise _pd_error("Incident Already Resolved", message="Arguments Caused Error", code=2002)
        if status == inc.status:
            return
        now = self.now()
        inc.status, inc.updated_at, inc.last_change_at, inc.last_change_by = status, now, now, agent
        if status == "acknowledged":
            inc.acknowledgements.append((agent, now))
            self._log_entry(inc, "acknowledge_log_entry", f"Acknowledged {how}", agent, channel)
            return
        inc.resolved_at = now
        for alert in inc.alerts:
            alert.status = "resolved"
        self._log_entry(inc, "resolve_log_entry", f"Resolved {how}", agent, channel)

    def _set_priority(self, inc: _Incident, name: str, agent: dict | None, channel_type: str, who: str | None) -> None:
        if name == inc.priority:
            return
        old, suffix = inc.priority, f" by {who}" if who else ""
        summary = f'Priority changed from "{old}" to "{name}"{suffix}' if old else f'Priority set to "{name}"{suffix}'
        channel = {
            "type": channel_type,
            "old_priority": self._priority_json(old),
            "new_priority": self._priority_json(name),
        }
        inc.priority, inc.updated_at = name, self.now()
        self._log_entry(inc, "priority_change_log_entry", summary, agent, channel)

    def _add_note(self, inc: _Incident, user_id: str, content: str) -> dict:
        note = {
            "id": self._new_id(),
            "user": self._user_ref(user_id),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": content,
            "created_at": self.now(),
        }
        inc.notes.append(note)
        self._log_entry(inc, "annotate_log_entry", content, note["user"], {"type": "note", "summary": content})
        return note

    # --- incidents: rendering --------------------------------------------------------------------
    def _incident_json(self, inc: _Incident, view: _View = PLAIN) -> dict:
        path = f"/incidents/{inc.id}"
        trigger = self.log[inc.trigger_log_id]
        if "first_trigger_log_entries" in view.include:
            first = self._log_entry_json(trigger, _View(view.tz))
        else:
            first = self._ref("trigger_log_entry", "log_entries", trigger.id, trigger.summary)
            first["html_url"] = self._html(f"{path}/log_entries/{trigger.id}")
        service = self.services[inc.service_id]
        triggered = sum(a.status == "triggered" for a in inc.alerts)
        result = {
            "id": inc.id,
            "type": "incident",
            "summary": f"[#{inc.number}] {inc.title}",
            "self": self._api(path),
            "html_url": self._html(path),
            "incident_number": inc.number,
            "title": inc.title,
            "description": inc.title,
            "created_at": _fmt(inc.created_at, view.tz),
            "updated_at": _fmt(inc.updated_at, view.tz),
            "status": inc.status,
            "incident_key": inc.incident_key,
            "service": self._service_json(service, view)
            if "services" in view.include
            else self._service_ref(service.id),
            "assignments": []
            if inc.status == "resolved"
            else [{"at": _fmt(at, view.tz), "assignee": self._user_ref(u)} for u, at in inc.assignments],
            "assigned_via": "escalation_policy",
            "acknowledgements": [{"at": _fmt(at, view.tz), "acknowledger": who} for who, at in inc.acknowledgements],
            "last_status_change_at": _fmt(inc.last_change_at, view.tz),
            "last_status_change_by": inc.last_change_by,
            "first_trigger_log_entry": first,
            "alert_counts": {"all": len(inc.alerts), "triggered": triggered, "resolved": len(inc.alerts) - triggered},
            "is_mergeable": True,
            "escalation_policy": self._policy_ref(service.escalation_policy_id)
            if service.escalation_policy_id in self.policies
            else None,
            "teams": [],
            "pending_actions": [],
            "alert_grouping": None,
            "priority": self._priority_json(inc.priority),
            "urgency": inc.urgency,
            "resolved_at": _fmt(inc.resolved_at, view.tz),
            "resolve_reason": None,
        }
        if inc.details is not None:
            result["body"] = {"type": "incident_body", "details": inc.details}
        return result

    def _log_entry_json(self, entry: _LogEntry, view: _View = PLAIN) -> dict:
        inc = self.incidents[entry.incident_id]
        is_trigger = entry.type == "trigger_log_entry"
        result = {
            "id": entry.id,
            "type": entry.type,
            "summary": entry.summary,
            "self": self._api(f"/log_entries/{entry.id}"),
            "html_url": self._html(f"/incidents/{inc.id}/log_entries/{entry.id}") if is_trigger else None,
            "created_at": _fmt(entry.created_at, view.tz),
            "agent": entry.agent,
            "channel": entry.channel,
            "service": self._service_json(self.services[inc.service_id], view)
            if "services" in view.include
            else self._service_ref(inc.service_id),
            "incident": self._incident_json(inc, _View(view.tz))
            if "incidents" in view.include
            else self._incident_ref(inc),
            "teams": [],
            "contexts": [],
            **entry.extra,
        }
        if is_trigger:
            result["event_details"] = {"description": inc.title}
        return result

    def _alert_json(self, inc: _Incident, alert: _Alert, view: _View) -> dict:
        path = f"/incidents/{inc.id}/alerts/{alert.id}"
        return {
            "id": alert.id,
            "type": "alert",
            "summary": alert.summary,
            "self": self._api(path),
            "html_url": self._html(f"/alerts/{alert.id}"),
            "created_at": _fmt(alert.created_at, view.tz),
            "status": alert.status,
            "alert_key": alert.alert_key,
            "severity": alert.severity,
            "suppressed": False,
            "service": self._service_ref(inc.service_id),
            "incident": self._incident_ref(inc),
            "body": {"type": "alert_body", "contexts": [], "details": alert.details},
        }

    def _note_json(self, note: dict, view: _View = PLAIN) -> dict:
        return {**note, "created_at": _fmt(note["created_at"], view.tz)}

    # --- incidents: endpoints --------------------------------------------------------------------
    def _history_window(self, request: FakeRequest, view: _View, max_days: float | None) -> tuple[float, float]:
        """`since`/`until` over past records: until defaults to now, since to a month before until."""
        until = self._time_param(request, "until", view)
        until = self.now() if until is None else until
        since = self._time_param(request, "since", view)
        since = until - 30 * DAY if since is None else since
        if since > until:
            raise _pd_error("Since must be before until", code=2005, message="Invalid Query Date Range")
        if max_days is not None and until - since > max_days * DAY:
            raise _pd_error("The date range is too large (maximum 6 months)", code=2005)
        return since, until

    def _incident_or_404(self, incident_id: str | None) -> _Incident:
        if incident_id not in self.incidents:
            raise FakeError(404)
        return self.incidents[incident_id]

    def _list_incidents(self, request: FakeRequest) -> dict:
        view = self._view(request)
        found = list(self.incidents.values())
        if request.q("date_range") != "all":
            since, until = self._history_window(request, view, max_days=183)
            found = [i for i in found if since <= i.created_at <= until]
        statuses = request.q_list("statuses")
        if any(s not in STATUSES for s in statuses):
            raise _pd_error("Statuses must be one of triggered, acknowledged or resolved")
        filters = {
            "status": set(statuses),
            "service_id": set(request.q_list("service_ids")),
            "urgency": set(request.q_list("urgencies")),
            "incident_key": {request.q("incident_key")} - {None, ""},
        }
        for attribute, wanted in filters.items():
            found = [i for i in found if not wanted or getattr(i, attribute) in wanted]
        return self._page(
            request, "incidents", self._sorted_incidents(request, found), lambda i: self._incident_json(i, view)
        )

    @staticmethod
    def _sorted_incidents(request: FakeRequest, found: list[_Incident]) -> list[_Incident]:
        sort_by = (request.q_list("sort_by") or ["created_at:asc"])[0]
        name, _, direction = sort_by.partition(":")
        keys: dict[str, Callable[[_Incident], Any]] = {
            "incident_number": lambda i: i.number,
            "created_at": lambda i: (i.created_at, i.number),
            "resolved_at": lambda i: (i.resolved_at or 0.0, i.number),
            "urgency": lambda i: (i.urgency == "high", i.number),
        }
        if name not in keys or direction not in ("", "asc", "desc"):
            raise _pd_error(f"Invalid sort_by value: {sort_by}")
        return sorted(found, key=keys[name], reverse=direction == "desc")

    def _get_incident(self, request: FakeRequest, incident_id: str) -> dict:
        return {"incident": self._incident_json(self._incident_or_404(incident_id), self._view(request))}

    def _create_incident(self, request: FakeRequest) -> Any:
        writer = self._writer(request)
        spec = self._body(request, "incident")
        if not isinstance(spec, dict) or spec.get("type", "incident") != "incident":
            raise _pd_error("Incident type must be incident")
        title = str(spec.get("title") or "").strip()
        service_id = (spec.get("service") or {}).get("id")
        if not title:
            raise _pd_error("Title cannot be empty")
        if service_id not in self.services:
            raise _pd_error("Service not found")
        key = spec.get("incident_key") or uuid.uuid4().hex
        if self._open_by_key(service_id, key) is not None:
            raise _pd_error(
                "Open incident with matching dedup key already exists on this service",
                message="Arguments Caused Error",
                code=2002,
            )
        priority = self._priority_by_id((spec.get("priority") or {}).get("id")) if spec.get("priority") else None
        urgency = spec.get("urgency", "high")
        if urgency not in ("high", "low"):
            raise _pd_error("Urgency must be high or low")
        details = (spec.get("body") or {}).get("details")
        agent = self._user_ref(writer.id)
        channel = {"type": "web_trigger", "summary": title, "details": details}
        inc = self._open_incident(
            service_id,
            title,
            agent=agent,
            channel=channel,
            summary="Triggered through the API",
            incident_key=key,
            details=details,
            priority=priority,
            urgency=urgency,
        )
        return 201, {"incident": self._incident_json(inc, self._view(request))}

    def _check_update(self, inc: _Incident, spec: Any) -> None:
        status = spec.get("status")
        if status is not None and status not in ("acknowledged", "resolved"):
            raise _pd_error("Status must be acknowledged or resolved")
        if status is not None and inc.status == "resolved":
            raise _pd_error("Incident Already Resolved", message="Arguments Caused Error", code=2002)
        if spec.get("priority"):
            self._priority_by_id(spec["priority"].get("id"))
        if spec.get("urgency", "high") not in ("high", "low"):
            raise _pd_error("Urgency must be high or low")

    def _apply_update(self, inc: _Incident, spec: dict, writer: _User) -> None:
        agent = self._user_ref(writer.id)
        if spec.get("title"):
            inc.title, inc.updated_at = str(spec["title"]), self.now()
        if spec.get("urgency"):
            inc.urgency, inc.updated_at = spec["urgency"], self.now()
        if spec.get("priority"):
            self._set_priority(inc, self._priority_by_id(spec["priority"]["id"]), agent, "api", writer.name)
        if spec.get("status"):
            self._set_status(inc, spec["status"], agent, {"type": "api"}, f"by {writer.name}")

    def _update_incidents(self, request: FakeRequest) -> dict:
        writer = self._writer(request)
        specs = self._body(request, "incidents")
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise _pd_error("incidents must be a list of incident references")
        if len(specs) > 250:
            raise FakeError(413, "At most 250 incidents can be updated at once")
        targets = [(self._incident_or_404(spec.get("id")), spec) for spec in specs]
        for inc, spec in targets:  # validate everything first so a bad entry changes nothing
            self._check_update(inc, spec)
        for inc, spec in targets:
            self._apply_update(inc, spec, writer)
        view = self._view(request)
        return {"incidents": [self._incident_json(inc, view) for inc, _ in targets]}

    def _update_incident(self, request: FakeRequest, incident_id: str) -> dict:
        writer = self._writer(request)
        inc = self._incident_or_404(incident_id)
        spec = self._body(request, "incident")
        if not isinstance(spec, dict):
            raise _pd_error("incident must be an object")
        self._check_update(inc, spec)
        self._apply_update(inc, spec, writer)
        return {"incident": self._incident_json(inc, self._view(request))}

    def _list_notes(self, request: FakeRequest, incident_id: str) -> dict:
        view = self._view(request)
        return {"notes": [self._note_json(n, view) for n in self._incident_or_404(incident_id).notes]}

    def _create_note(self, request: FakeRequest, incident_id: str) -> Any:
        writer = self._writer(request)
        inc = self._incident_or_404(incident_id)
        content = str((self._body(request, "note") or {}).get("content") or "").strip()
        if not content:
            raise _pd_error("Note content cannot be empty")
        return 201, {"note": self._note_json(self._add_note(inc, writer.id, content), self._view(request))}

    def _list_alerts(self, request: FakeRequest, incident_id: str) -> dict:
        inc, view = self._incident_or_404(incident_id), self._view(request)
        statuses = set(request.q_list("statuses"))
        alerts = [a for a in inc.alerts if not statuses or a.status in statuses]
        return self._page(request, "alerts", alerts, lambda a: self._alert_json(inc, a, view))

    # --- log entries -----------------------------------------------------------------------------
    def _log_page(self, request: FakeRequest, entries: Iterable[_LogEntry]) -> dict:
        view = self._view(request)
        since, until = self._history_window(request, view, max_days=None)
        chosen = [e for e in entries if since <= e.created_at <= until]
        if (request.q("is_overview") or "").lower() == "true":
            chosen = [e for e in chosen if e.type in OVERVIEW_TYPES]
        chosen.sort(key=lambda e: (e.created_at, e.seq), reverse=True)  # newest first, as the real API
        return self._page(request, "log_entries", chosen, lambda e: self._log_entry_json(e, view))

    def _list_log_entries(self, request: FakeRequest) -> dict:
        return self._log_page(request, self.log.values())

    def _incident_log_entries(self, request: FakeRequest, incident_id: str) -> dict:
        self._incident_or_404(incident_id)
        return self._log_page(request, (e for e in self.log.values() if e.incident_id == incident_id))

    def _get_log_entry(self, request: FakeRequest, entry_id: str) -> dict:
        if entry_id not in self.log:
            raise FakeError(404)
        return {"log_entry": self._log_entry_json(self.log[entry_id], self._view(request))}

    # --- Events API v2 ---------------------------------------------------------------------------
    @staticmethod
    def _invalid_event(*errors: str) -> FakeError:
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}
        return FakeError(400, body=body)

    def _check_routing_key(self, key: Any) -> None:
        if not isinstance(key, str) or len(key) != 32:
            raise self._invalid_event("Length of 'routing_key' is incorrect (should be 32 characters)")
        if key not in self.routing_keys:
            raise self._invalid_event("Invalid routing key")

    def _event_errors(self, event: dict) -> list[str]:
        action, dedup_key, payload = event.get("event_action"), event.get("dedup_key"), event.get("payload")
        if action not in ("trigger", "acknowledge", "resolve"):
            return ["'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"]
        if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
            return ["'dedup_key' is invalid (must be a string of at most 255 characters)"]
        if action != "trigger":
            return [] if dedup_key else ["'dedup_key' is missing or blank"]
        if not isinstance(payload, dict):
            return ["'payload' is missing or blank"]
        errors = [f"'payload.{key}' is missing or blank" for key in ("summary", "source") if not payload.get(key)]
        if len(str(payload.get("summary") or "")) > 1024:
            errors.append("'payload.summary' is too long (max 1024 characters)")
        if payload.get("severity") not in SEVERITIES:
            errors.append(
                "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
            )
        return errors

    def _enqueue(self, request: FakeRequest) -> Any:
        event = request.json
        if not isinstance(event, dict):
            raise self._invalid_event("Event object must be a JSON object")
        self._check_routing_key(event.get("routing_key"))
        errors = self._event_errors(event)
        if errors:
            raise self._invalid_event(*errors)
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        self.events.append({**event, "dedup_key": dedup_key})
        service = next((s for s in self.services.values() if s.routing_key == event["routing_key"]), None)
        if service is not None:
            self._apply_event(service, event["event_action"], dedup_key, event.get("payload") or {})
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

    def _apply_event(self, service: _Service, action: str, dedup_key: str, payload: dict) -> None:
        """Same dedup key + open incident: trigger is absorbed, acknowledge/resolve act on it."""
        agent, open_incident = self._service_ref(service.id), self._open_by_key(service.id, dedup_key)
        if action != "trigger":
            if open_incident is not None:
                status = "acknowledged" if action == "acknowledge" else "resolved"
                self._set_status(open_incident, status, agent, {"type": "api"}, "through the API")
            return
        if open_incident is not None:
            return
        details = payload.get("custom_details")
        summary, severity = str(payload["summary"]), payload["severity"]
        alert = _Alert(self._new_id(), dedup_key, summary, severity, details, self.now())
        channel = {
            "type": "api",
            "summary": summary,
            "description": summary,
            "incident_key": dedup_key,
            "details": details if details is not None else {},
            "cef_details": {"source_location": payload.get("source"), "severity": severity, "message": summary},
        }
        self._open_incident(
            service.id,
            summary,
            agent=agent,
            channel=channel,
            summary="Triggered through the API",
            incident_key=dedup_key,
            details=details,
            alert=alert,
        )

    def _enqueue_change(self, request: FakeRequest) -> Any:
        event = request.json if isinstance(request.json, dict) else {}
        self._check_routing_key(event.get("routing_key"))
        if not (event.get("payload") or {}).get("summary"):
            raise self._invalid_event("'payload.summary' is missing or blank")
        self.events.append({**event, "event_action": "change"})
        return 202, {"status": "success", "message": "Change event processed"}

    # --- helpers for tests and the sandbox (act as the account admin or a human responder) -------
    def _claim_id(self, obj_id: str) -> str:
        self._ids.add(obj_id)
        return obj_id

    def reset(self) -> None:
        """Forget the account's data, the request log, faults and clock offset; keep the server and priorities."""
        with self.lock:
            for table in (self.users, self.schedules, self.policies, self.services, self.incidents, self.log):
                table.clear()
            self.events.clear()
            self.user_tokens.clear()
            self.tokens, self.routing_keys = set(self._initial_keys[0]), set(self._initial_keys[1])
            self._clock_offset, self._log_seq = 0.0, 0
            self._ids = {p["id"] for p in self.priorities.values()}
        self.reset_requests()
        self.clear_faults()
        self.notify()

    def _shifts(self, shifts: Iterable[Shift]) -> list[Shift]:
        normalized = [(user_id, float(start), float(end)) for user_id, start, end in shifts]
        unknown = sorted({user_id for user_id, _, _ in normalized} - set(self.users))
        if unknown:
            raise KeyError(f"unknown users: {unknown} (add_user first)")
        return normalized

    def _actor(self, inc: _Incident, user_id: str | None) -> tuple[dict, str, str | None]:
        """(agent, how, name) for a helper action: a user on the website, or the service through the API."""
        if user_id is None:
            return self._service_ref(inc.service_id), "through the API", None
        return self._user_ref(user_id), f"by {self.users[user_id].name}", self.users[user_id].name

    def add_user(self, user_id: str, name: str, email: str, *, deleted: bool = False, time_zone: str = "UTC") -> dict:
        with self.lock:
            user = _User(self._claim_id(user_id), name, email, deleted, time_zone)
            user.deleted_at = self.now() if deleted else None
            self.users[user_id] = user
            result = self._user_json(user_id)
        self.notify()
        return result

    def delete_user(self, user_id: str) -> None:
        """Deactivate a user: it stays in schedules as a nameless reference, like the real account."""
        with self.lock:
            self.users[user_id].deleted, self.users[user_id].deleted_at = True, self.now()
        self.notify()

    def add_user_token(self, token: str, user_id: str) -> None:
        """Register a user-level API token (GET /users/me answers for it; no `From` header needed)."""
        with self.lock:
            self.user_tokens[token] = user_id

    def add_schedule(
        self,
        schedule_id: str,
        name: str,
        *,
        shifts: Iterable[Shift] = (),
        overrides: Iterable[Shift] = (),
        time_zone: str = "UTC",
    ) -> dict:
        with self.lock:
            schedule = _Schedule(self._claim_id(schedule_id), name, time_zone, self._shifts(shifts))
            self.schedules[schedule_id] = schedule
            for user_id, start, end in self._shifts(overrides):
                schedule.overrides.append(_Override(self._new_id(), user_id, start, end))
            result = self._schedule_json(schedule, _View())
        self.notify()
        return result

    def set_shifts(self, schedule_id: str, shifts: Iterable[Shift]) -> None:
        with self.lock:
            self.schedules[schedule_id].shifts = self._shifts(shifts)
        self.notify()

    def add_override(self, schedule_id: str, user_id: str, start: float, end: float) -> dict:
        with self.lock:
            [(_, start, end)] = self._shifts([(user_id, start, end)])
            override = _Override(self._new_id(), user_id, start, end)
            self.schedules[schedule_id].overrides.append(override)
            result = self._override_json(override)
        self.notify()
        return result

    def add_escalation_policy(self, ep_id: str, name: str, levels: Sequence[Sequence[str]]) -> dict:
        """`levels[0]` are the level-1 targets (schedule or user ids), `levels[1]` level 2, and so on."""
        with self.lock:
            unknown = [t for level in levels for t in level if t not in self.schedules and t not in self.users]
            if unknown:
                raise KeyError(f"unknown escalation targets: {unknown}")
            rule_ids = [self._new_id() for _ in levels]
            self.policies[ep_id] = _Policy(self._claim_id(ep_id), name, [list(level) for level in levels], rule_ids)
            result = self._policy_json(self.policies[ep_id])
        self.notify()
        return result

    def add_service(
        self, service_id: str, name: str, *, escalation_policy_id: str | None = None, routing_key: str | None = None
    ) -> dict:
        with self.lock:
            service = _Service(self._claim_id(service_id), name, escalation_policy_id, routing_key, self.now())
            self.services[service_id] = service
            if routing_key:
                self.routing_keys.add(routing_key)
            result = self._service_json(service)
        self.notify()
        return result

    def trigger_incident(
        self,
        service_id: str,
        title: str,
        *,
        priority: str | None = None,
        tags: str | list[str] | None = None,
        channel_type: str = "api",
        body: str | None = None,
        details: dict | None = None,
        incident_key: str | None = None,
        urgency: str = "high",
    ) -> dict:
        """An integration opens an incident. `tags` lands in `channel.details.tags` (a string like Datadog's or a
        list like Pingdom's); `channel_type="email"` puts `body` in `channel.body` instead."""
        with self.lock:
            key = incident_key or uuid.uuid4().hex
            if channel_type == "email":
                channel = {"type": "email", "summary": title, "subject": title, "body": body or "", "details": details}
            else:
                channel_details = dict(details or {})
                if tags is not None:
                    channel_details["tags"] = tags
                channel = {"type": channel_type, "summary": title, "incident_key": key, "details": channel_details}
            alert = _Alert(self._new_id(), key, title, "critical", channel.get("details"), self.now())
            inc = self._open_incident(
                service_id,
                title,
                agent=self._service_ref(service_id),
                channel=channel,
                summary="Triggered through the API" if channel_type == "api" else f"Triggered through {channel_type}",
                incident_key=key,
                details=details,
                priority=priority,
                urgency=urgency,
                alert=alert,
            )
            result = self._incident_json(inc)
        self.notify()
        return result

    def _helper_status(self, incident_id: str, status: str, agent_user_id: str | None) -> dict:
        with self.lock:
            inc = self.incidents[incident_id]
            agent, how, _ = self._actor(inc, agent_user_id)
            self._set_status(inc, status, agent, {"type": "website" if agent_user_id else "api"}, how)
            result = self._incident_json(inc)
        self.notify()
        return result

    def acknowledge(self, incident_id: str, agent_user_id: str | None = None) -> dict:
        return self._helper_status(incident_id, "acknowledged", agent_user_id)

    def resolve(self, incident_id: str, agent_user_id: str | None = None) -> dict:
        return self._helper_status(incident_id, "resolved", agent_user_id)

    def set_priority(self, incident_id: str, priority: str, agent_user_id: str | None = None) -> dict:
        with self.lock:
            inc = self.incidents[incident_id]
            agent, _, who = self._actor(inc, agent_user_id)
            self._set_priority(inc, priority, agent, "website" if agent_user_id else "api", who)
            result = self._incident_json(inc)
        self.notify()
        return result

    def add_note(self, incident_id: str, content: str, user_id: str | None = None) -> dict:
        """A responder adds a note (defaults to the first user of the account)."""
        with self.lock:
            author = user_id or next(iter(self.users))
            note = self._note_json(self._add_note(self.incidents[incident_id], author, content))
        self.notify()
        return note

    def incident(self, incident_id: str) -> dict:
        with self.lock:
            return self._incident_json(self.incidents[incident_id])

    def incidents_by_status(self, status: str) -> list[dict]:
        with self.lock:
            return [self._incident_json(i) for i in self.incidents.values() if i.status == status]

    def log_entries(self, incident_id: str | None = None) -> list[dict]:
        """Log entries oldest first, optionally of one incident."""
        with self.lock:
            entries = sorted(self.log.values(), key=lambda e: e.seq)
            return [self._log_entry_json(e) for e in entries if incident_id in (None, e.incident_id)]

    def priority(self, name: str) -> dict:
        with self.lock:
            return self._priority_json(name) or {}

    def oncall_users(self, schedule_id: str, at: float | None = None) -> list[str]:
        """Ids of the users on call in a schedule at `at` (default: the fake's now)."""
        with self.lock:
            moment = self.now() if at is None else at
            return [u for _, _, u in self._spans_in(self.schedules[schedule_id], moment, moment)]
