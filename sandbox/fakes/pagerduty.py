"""PagerDuty REST API v2 and Events API v2 fake, served over loopback TLS (the `pagerduty` client is https-only).

State mirrors the real account: users, schedules (explicit shifts plus overrides), escalation policies, services,
priorities, incidents with alerts, notes and log entries. On-call answers are computed from the fake's clock
(`now()`, moved with `advance()`), so tests can step across a hand-off without sleeping.
"""

from __future__ import annotations

import random
import re
import string
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
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

    # --- clock -----------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._clock_offset += seconds
        self.notify()

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
            ref.update(self_=None) if False else None  # keep the shape simple: refs stay, full objects shrink
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
            ("GET", r"/priorities", lambda r: self._page(r, "priorities", list(self.priorities.values()))),
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
        title, code = STATUS_ERRORS.get(status, (message or "Internal Server Error", 2000 + status))
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

    def _page(self, request: FakeRequest, wrapper: str, items: Sequence[Any]) -> dict:
        limit = min(max(self._int_param(request, "limit", 25), 1), 100)
        offset = max(self._int_param(request, "offset", 0), 0)
        if offset + limit > MAX_OFFSET:
            raise _pd_error(f"Offset plus limit must not exceed {MAX_OFFSET}")
        wants_total = (request.q("total") or "").lower() == "true"
        return {
            wrapper: list(items[offset : offset + limit]),
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
        return self._page(request, "users", [self._user_json(u.id) for u in users])

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
        """The final schedule as (start, end, user_id) spans: overrides beat shifts, adjacent spans merge."""
        points = sorted(
            {t for _, s, e in schedule.shifts for t in (s, e)} | {t for o in schedule.overrides for t in (o.start, o.end)}
        )
        spans: list[tuple[float, float, str]] = []
        for start, end in zip(points, points[1:]):
            middle = (start + end) / 2
            user_id = next((o.user_id for o in reversed(schedule.overrides) if o.start <= middle < o.end), None)
            if user_id is None:
                user_id = next((u for u, s, e in schedule.shifts if s <= middle < e), None)
            if user_id is None:
                continue
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

    def _schedule_json(self, schedule: _Schedule, view: _View, window: tuple[float, float] | None = None) -> dict:
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
            result["final_schedule"] = self._rendered("Final Schedule", self._timeline(schedule), window, view)
            overrides = [(o.start, o.end, o.user_id) for o in schedule.overrides]
            result["overrides_subschedule"] = self._rendered("Overrides", overrides, window, view)
        return result

    def _rendered(self, name: str, spans: list[tuple[float, float, str]], window: tuple[float, float], view: _View):
        since, until = window
        clip = since < until  # entries are truncated at the requested bounds
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
        return self._page(request, "schedules", [self._schedule_json(s, view) for s in found])

    def _get_schedule(self, request: FakeRequest, schedule_id: str) -> dict:
        schedule = self._schedule_or_404(schedule_id)
        view = self._view(request)
        window = self._window(request, view)
        if (request.q("overflow") or "").lower() == "true":
            window = (window[0], window[0]) if window[0] == window[1] else window
        return {"schedule": self._schedule_json(schedule, view, window)}

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

    def _override_json(self, override: _Override, view: _View = _View()) -> dict:
        return {
            "id": override.id,
            "start": _fmt(override.start, view.tz),
            "end": _fmt(override.end, view.tz),
            "user": self._user_ref(override.user_id),
        }

    # --- on-calls --------------------------------------------------------------------------------
    def _oncall_rows(self, since: float, until: float) -> list[tuple[_Policy, int, str | None, str, float | None, float | None]]:
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
        return self._page(request, "oncalls", [self._oncall_json(row, view) for row in rows])

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
                for rule_id, targets in zip(policy.rule_ids, policy.levels)
            ],
            "services": [self._service_ref(s.id) for s in self.services.values() if s.escalation_policy_id == policy.id],
            "teams": [],
        }

    def _list_policies(self, request: FakeRequest) -> dict:
        found = [p for p in self.policies.values() if self._matches_query(request, p.name)]
        return self._page(request, "escalation_policies", [self._policy_json(p) for p in found])

    def _get_policy(self, request: FakeRequest, policy_id: str) -> dict:
        if policy_id not in self.policies:
            raise FakeError(404)
        return {"escalation_policy": self._policy_json(self.policies[policy_id])}

    def _service_json(self, service: _Service, view: _View = _View()) -> dict:
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
        return self._page(request, "services", [self._service_json(s, view) for s in found])

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
            "self": f"https://api.pagerduty.com/priorities/{priority_id}",
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

    def _priority_by_id(self, priority_id: str) -> str:
        for name, priority in self.priorities.items():
            if priority["id"] == priority_id:
                return name
        raise _pd_error("Priority not found")
