"""Atlassian Statuspage manage-API fake (https://developer.statuspage.io): page, components and incidents.

Auth is `Authorization: OAuth <key>` (or the legacy `?api_key=`). Bodies are JSON wrapped as
`{"incident": {...}}` / `{"component": {...}}`, or the legacy form encoding (`incident[name]=…`,
`incident[components][<id>]=…`) that the original pagerstatus used; every route also answers with a
`.json` suffix. Limits: optional per-key pacing (`requests_per_second`) and the 1/min limit on
unpaginated `GET components`, both answered with 420 (or 429) and `Retry-After`.

With vendor limits on (`vendor_limits=True` or `enforce_vendor_limits()`) each API key gets about one request
a second, and the answer past it is 429 with Retry-After, as Statuspage announced:
https://community.atlassian.com/t5/Statuspage-articles/Upcoming-rate-limiting-changes-to-Statuspage-REST-API/ba-p/1455362
"""

from __future__ import annotations

import itertools
import random
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sandbox.fakes.base import FakeError, FakeRequest, FakeResponse, FakeService, SlidingWindowLimit, retry_after

PAGE = r"/v1/pages/(?P<page_id>[^/.]+)"
JSON = r"(?:\.json)?"
ID = r"(?P<item_id>[^/.]+)"
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
CLOSED_STATUSES = ("resolved", "completed", "postmortem")
IMPACTS = ("none", "maintenance", "minor", "major", "critical")
COMPONENT_STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")
IMPACT_OF_STATUS = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical"}
UNPAGINATED_WINDOW = 60.0  # seconds between unpaginated GET components calls
VENDOR_REQUESTS_PER_SECOND = 1.0  # per API key
VENDOR_LIMIT_STATUS = 429


@dataclass
class Incident:
    id: str
    name: str
    status: str
    impact: str
    impact_override: str | None
    created_at: float
    updated_at: float
    shortlink: str
    resolved_at: float | None = None
    monitoring_at: float | None = None
    component_ids: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # oldest first; rendered newest first
    metadata: dict[str, Any] = field(default_factory=dict)


def sp_time(ts: float | None) -> str | None:
    """Statuspage timestamps: ISO-8601 UTC with milliseconds."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


class StatuspageFake(FakeService):
    name = "statuspage"
    scheme_path = "/v1"

    def __init__(
        self,
        api_key: str = "sp-sandbox",
        page_id: str = "sandboxpage",
        requests_per_second: float | None = None,
        *,
        limit_status: int = 420,
        page_name: str = "Switchboard Sandbox",
        start_time: float | None = None,
        vendor_limits: bool = False,
        **server: Any,
    ):
        super().__init__(**server)
        self.api_keys = {api_key}
        self.page_id = page_id
        self.page_name = page_name
        self.requests_per_second = requests_per_second
        self.limit_status = limit_status  # 420 (legacy) or 429
        self._start_time = start_time
        self._accepted = SlidingWindowLimit()
        self._init_state()
        if vendor_limits:
            self.enforce_vendor_limits()

    def enforce_vendor_limits(self, on: bool = True) -> None:
        """About one request a second per API key, refused with 429 past it (or no pacing, when off)."""
        super().enforce_vendor_limits(on)
        with self.lock:
            self.requests_per_second = VENDOR_REQUESTS_PER_SECOND if on else None
            self.limit_status = VENDOR_LIMIT_STATUS if on else 420

    def _init_state(self) -> None:
        self._clock_offset = 0.0 if self._start_time is None else self._start_time - time.time()
        self._created = self.now()
        self._random = random.Random(self.page_id)  # stable ids across runs
        self._components: dict[str, dict[str, Any]] = {}
        self._incidents: dict[str, Incident] = {}
        self._accepted.reset()
        self._last_unpaginated: dict[str, float] = {}

    # --- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        route = self._api
        route("GET", r"/v1/pages" + JSON, lambda request: [self._page_json()])
        route("GET", PAGE + JSON, lambda request, page_id: self._page_json())
        route("GET", PAGE + "/components" + JSON, self._list_components)
        route("GET", PAGE + "/components/" + ID + JSON, lambda request, page_id, item_id: self._component(item_id))
        for method in ("PATCH", "PUT"):
            route(method, PAGE + "/components/" + ID + JSON, self._edit_component)
            route(method, PAGE + "/incidents/" + ID + JSON, self._edit_incident)
        route("GET", PAGE + "/incidents/unresolved" + JSON, self._list_unresolved)
        route("GET", PAGE + "/incidents" + JSON, self._list_incidents)
        route("POST", PAGE + "/incidents" + JSON, self._create_incident)
        route("GET", PAGE + "/incidents/" + ID + JSON, lambda request, page_id, item_id: self._incident(item_id))
        route("DELETE", PAGE + "/incidents/" + ID + JSON, self._delete_incident)

    def _api(self, method: str, pattern: str, handler: Any) -> None:
        def guarded(request: FakeRequest, **groups: str) -> Any:
            key = self._key_of(request)
            if key not in self.api_keys:
                return FakeResponse(401, {"error": "Could not authenticate"})
            refusal = self._pace(key)
            if refusal is not None:
                return refusal
            if groups.get("page_id") not in (None, self.page_id):
                raise FakeError(404, "The page you are looking for could not be found.")
            return handler(request, **groups)

        self.add_route(method, pattern, guarded)

    def error_body(self, status: int, message: str = "") -> Any:
        return {"error": message or f"HTTP {status}"}

    @staticmethod
    def _key_of(request: FakeRequest) -> str | None:
        header = request.header("authorization") or ""
        if header.startswith("OAuth "):
            return header[len("OAuth ") :].strip()
        return request.q("api_key")

    def _pace(self, key: str) -> FakeResponse | None:
        """Per-key pacing over a sliding window; only accepted requests count, as with the real limiter."""
        if not self.requests_per_second:
            return None
        window = max(1.0, 1.0 / self.requests_per_second)
        allowed = max(1, int(self.requests_per_second * window))
        wait = self._accepted.admit(key, allowed, window, self.now())
        return self._limited(wait) if wait else None

    def _limited(self, wait: float) -> FakeResponse:
        seconds = retry_after(wait)
        body = {"error": f"Rate limit exceeded. Retry after {seconds} seconds."}
        return FakeResponse(self.limit_status, body, {"Retry-After": seconds})

    # --- handlers --------------------------------------------------------------------------------
    def _list_components(self, request: FakeRequest, page_id: str) -> Any:
        components = sorted(self._components.values(), key=lambda c: c["position"])
        if request.q("page") is None and request.q("per_page") is None:
            key = self._key_of(request) or ""
            last = self._last_unpaginated.get(key)
            if last is not None and self.now() - last < UNPAGINATED_WINDOW:
                return self._limited(last + UNPAGINATED_WINDOW - self.now())
            self._last_unpaginated[key] = self.now()
            return [self._component_json(c) for c in components]
        page, per_page = _int_param(request, "page", 1), _int_param(request, "per_page", 100)
        start = (page - 1) * per_page
        return [self._component_json(c) for c in components[start : start + per_page]]

    def _edit_component(self, request: FakeRequest, page_id: str, item_id: str) -> dict[str, Any]:
        component = self._components.get(item_id)
        if component is None:
            raise FakeError(404, "The component you are looking for could not be found.")
        data = _payload(request, "component")
        if "status" in data:
            component["status"] = _one_of(data["status"], COMPONENT_STATUSES, "Status")
        for name in ("name", "description", "group_id"):
            if name in data:
                component[name] = data[name]
        component["updated_at"] = self.now()
        return self._component_json(component)

    def _list_incidents(self, request: FakeRequest, page_id: str) -> list[dict[str, Any]]:
        wanted = (request.q("q") or "").lower()
        found = [i for i in self._newest_first() if not wanted or wanted in _searchable(i)]
        limit = min(_int_param(request, "limit", 100), 100)
        start = (_int_param(request, "page", 1) - 1) * limit
        return [self._incident_json(i) for i in found[start : start + limit]]

    def _list_unresolved(self, request: FakeRequest, page_id: str) -> list[dict[str, Any]]:
        found = [i for i in self._newest_first() if i.status not in CLOSED_STATUSES]
        per_page = _int_param(request, "per_page", 100)
        start = (_int_param(request, "page", 1) - 1) * per_page
        return [self._incident_json(i) for i in found[start : start + per_page]]

    def _create_incident(self, request: FakeRequest, page_id: str) -> tuple[int, dict[str, Any]]:
        incident = self._open(_payload(request, "incident"))
        return 201, self._incident_json(incident)

    def _edit_incident(self, request: FakeRequest, page_id: str, item_id: str) -> dict[str, Any]:
        incident = self._find_incident(item_id)
        self._change(incident, _payload(request, "incident"))
        return self._incident_json(incident)

    def _delete_incident(self, request: FakeRequest, page_id: str, item_id: str) -> dict[str, Any]:
        incident = self._find_incident(item_id)
        rendered = self._incident_json(incident)
        del self._incidents[incident.id]
        return rendered

    # --- state changes (callers hold the lock) ---------------------------------------------------
    def _open(self, data: dict[str, Any]) -> Incident:
        name = str(data.get("name") or "").strip()
        if not name:
            raise FakeError(422, "Name can't be blank")
        if len(name) > 255:
            raise FakeError(422, "Name is too long (maximum is 255 characters)")
        status = _one_of(data.get("status") or "investigating", INCIDENT_STATUSES + MAINTENANCE_STATUSES, "Status")
        override = self._impact_override(data)
        changes, affected = self._component_changes(data)
        now = self.now()
        incident = Incident(self._new_id(), name, status, override or "none", override, now, now, self._shortlink())
        incident.metadata = _metadata(data.get("metadata"), {})
        self._incidents[incident.id] = incident
        self._post_update(incident, status, _body_text(data), affected, changes, _flag(data, "deliver_notifications"))
        return incident

    def _change(self, incident: Incident, data: dict[str, Any]) -> None:
        if "name" in data:
            incident.name = str(data["name"] or incident.name)
        if "impact_override" in data:
            incident.impact_override = self._impact_override(data)
        if "metadata" in data:
            incident.metadata = _metadata(data["metadata"], incident.metadata)
        changes, affected = self._component_changes(data)
        status = incident.status
        if "status" in data:
            status = _one_of(data["status"], INCIDENT_STATUSES + MAINTENANCE_STATUSES, "Status")
        if "status" in data or "body" in data or "message" in data or affected:
            deliver = _flag(data, "deliver_notifications")
            self._post_update(incident, status, _body_text(data), affected, changes, deliver)
        incident.updated_at = self.now()

    def _post_update(
        self,
        incident: Incident,
        status: str,
        body: str,
        affected: list[str],
        changes: dict[str, str],
        deliver: bool,
    ) -> None:
        """Record an incident update: move components, set the status timestamps, recompute the impact."""
        if len(body) > 25000:
            raise FakeError(422, "Body is too long (maximum is 25000 characters)")
        now = self.now()
        affected_components = []
        for component_id in affected:
            component = self._components[component_id]
            old = component["status"]
            new = changes.get(component_id, old)
            component.update(status=new, updated_at=now)
            names = {"code": component_id, "name": component["name"]}
            affected_components.append({**names, "old_status": old, "new_status": new})
            if component_id not in incident.component_ids:
                incident.component_ids.append(component_id)
        update = {"id": self._new_id(), "incident_id": incident.id, "status": status, "body": body}
        update.update({"created_at": now, "display_at": now, "deliver_notifications": deliver})
        update["affected_components"] = affected_components
        incident.updates.append(update)
        incident.status = status
        incident.resolved_at = (incident.resolved_at or now) if status in CLOSED_STATUSES else None
        if status == "monitoring":
            incident.monitoring_at = now
        incident.impact = incident.impact_override or self._worst_impact(incident, changes)
        incident.updated_at = now

    def _worst_impact(self, incident: Incident, changes: dict[str, str]) -> str:
        candidates = [incident.impact] + [IMPACT_OF_STATUS.get(status, "none") for status in changes.values()]
        return max(candidates, key=IMPACTS.index)

    def _component_changes(self, data: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
        """The `components` map ({id: status}) and every affected id (`component_ids` plus the map's keys)."""
        raw_map = data.get("components") or {}
        if not isinstance(raw_map, dict):
            raise FakeError(422, "Components must be a map of component id to status")
        changes = {str(cid): _one_of(status, COMPONENT_STATUSES, "Component status") for cid, status in raw_map.items()}
        ids = data.get("component_ids") or []
        ids = [ids] if isinstance(ids, str) else [str(cid) for cid in ids]
        affected = list(dict.fromkeys([*ids, *changes]))
        missing = [cid for cid in affected if cid not in self._components]
        if missing:
            raise FakeError(422, f"Component {missing[0]} could not be found")
        return changes, affected

    def _impact_override(self, data: dict[str, Any]) -> str | None:
        value = data.get("impact_override")
        return None if value in (None, "") else _one_of(value, IMPACTS, "Impact override")

    def _find_incident(self, incident_id: str) -> Incident:
        incident = self._incidents.get(incident_id)
        if incident is None:
            raise FakeError(404, "The incident you are looking for could not be found.")
        return incident

    def _newest_first(self) -> list[Incident]:
        return sorted(self._incidents.values(), key=lambda i: i.created_at, reverse=True)

    def _new_id(self) -> str:
        alphabet = string.ascii_lowercase + string.digits
        return "".join(self._random.choice(alphabet) for _ in range(12))

    def _shortlink(self) -> str:
        alphabet = string.ascii_letters + string.digits
        return "https://stspg.io/" + "".join(self._random.choice(alphabet) for _ in range(5))

    # --- rendering -------------------------------------------------------------------------------
    def _page_json(self) -> dict[str, Any]:
        created = sp_time(self._created)
        page = {"id": self.page_id, "created_at": created, "updated_at": created, "name": self.page_name}
        page.update({"page_description": "", "headline": "", "branding": "basic", "subdomain": self.page_id})
        page.update({"domain": None, "url": "https://status.sandbox.example", "support_url": None})
        page.update({"hidden_from_search": False, "allow_page_subscribers": True, "allow_incident_subscribers": True})
        page.update({"allow_email_subscribers": True, "allow_sms_subscribers": False, "allow_rss_atom_feeds": True})
        page.update({"allow_webhook_subscribers": True, "time_zone": "Etc/UTC", "activity_score": 0})
        return page

    def _component_json(self, component: dict[str, Any]) -> dict[str, Any]:
        rendered = dict(component)
        for name in ("created_at", "updated_at"):
            rendered[name] = sp_time(component[name])
        return rendered

    def _incident_json(self, incident: Incident) -> dict[str, Any]:
        updates = []
        for update in reversed(incident.updates):  # newest first, as the API lists them
            rendered = {
                **update,
                "created_at": sp_time(update["created_at"]),
                "display_at": sp_time(update["display_at"]),
            }
            rendered.update({"updated_at": rendered["created_at"], "custom_tweet": None, "tweet_id": None})
            rendered.update({"twitter_updated_at": None, "wants_twitter_update": False})
            rendered["affected_components"] = [dict(c) for c in update["affected_components"]]
            updates.append(rendered)
        result = {"id": incident.id, "name": incident.name, "status": incident.status, "impact": incident.impact}
        result.update({"impact_override": incident.impact_override, "page_id": self.page_id})
        result.update({"created_at": sp_time(incident.created_at), "updated_at": sp_time(incident.updated_at)})
        result.update({"resolved_at": sp_time(incident.resolved_at), "monitoring_at": sp_time(incident.monitoring_at)})
        result.update({"shortlink": incident.shortlink, "metadata": dict(incident.metadata)})
        result["components"] = [self._component_json(self._components[c]) for c in incident.component_ids]
        result["incident_updates"] = updates
        result.update({"postmortem_body": None, "postmortem_published_at": None, "postmortem_ignored": False})
        result.update({"scheduled_for": None, "scheduled_until": None, "scheduled_remind_prior": False})
        return result

    # --- helpers for tests and the sandbox (act as a human on the status page) -------------------
    def reset(self) -> None:
        """Forget components, incidents, rate-limit windows and requests (and restart the clock)."""
        with self.lock:
            self._init_state()
            self.requests.clear()
        self.clear_faults()
        self.notify()

    def add_api_key(self, api_key: str) -> None:
        with self.lock:
            self.api_keys.add(api_key)

    def add_component(
        self, component_id: str, name: str, status: str = "operational", *, description: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            now = self.now()
            component = {"id": component_id, "page_id": self.page_id, "group_id": None, "created_at": now}
            component.update({"updated_at": now, "group": False, "name": name, "description": description})
            component.update({"position": len(self._components) + 1, "status": status, "showcase": True})
            component["start_date"] = time.strftime("%Y-%m-%d", time.gmtime(now))
            component["only_show_if_degraded"] = False
            component["automation_email"] = f"component+{component_id}@notifications.statuspage.io"
            self._components[component_id] = component
            result = self._component_json(component)
        self.notify()
        return result

    def set_component_status_as_human(self, component_id: str, status: str) -> dict[str, Any]:
        with self.lock:
            component = self._components[component_id]
            component.update(status=_one_of(status, COMPONENT_STATUSES, "Status"), updated_at=self.now())
            result = self._component_json(component)
        self.notify()
        return result

    def create_incident_as_human(
        self,
        name: str,
        component_ids: list[str],
        body: str = "",
        status: str = "investigating",
        *,
        component_status: str | None = "partial_outage",
    ) -> dict[str, Any]:
        """Open an incident from the Statuspage UI (the components move to `component_status` unless None)."""
        data: dict[str, Any] = {"name": name, "status": status, "body": body, "component_ids": component_ids}
        if component_status is not None:
            data["components"] = {component_id: component_status for component_id in component_ids}
        with self.lock:
            result = self._incident_json(self._open(data))
        self.notify()
        return result

    def update_incident_as_human(
        self, incident_id: str, *, status: str | None = None, body: str = "", components: dict[str, str] | None = None
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"body": body}
        if status is not None:
            data["status"] = status
        if components:
            data["components"] = components
        with self.lock:
            incident = self._find_incident(incident_id)
            self._change(incident, data)
            result = self._incident_json(incident)
        self.notify()
        return result

    def resolve_as_human(
        self, incident_id: str, body: str = "This incident has been resolved.", *, restore_components: bool = True
    ) -> dict[str, Any]:
        """Resolve from the UI; by default the incident's components go back to operational, as the UI offers."""
        with self.lock:
            incident = self._find_incident(incident_id)
            components = {cid: "operational" for cid in incident.component_ids} if restore_components else None
        return self.update_incident_as_human(incident_id, status="resolved", body=body, components=components)

    def incidents(self, unresolved_only: bool = False) -> list[dict[str, Any]]:
        """Incidents newest first, as the API renders them."""
        with self.lock:
            found = self._newest_first()
            if unresolved_only:
                found = [i for i in found if i.status not in CLOSED_STATUSES]
            return [self._incident_json(i) for i in found]

    def incident(self, incident_id: str) -> dict[str, Any]:
        with self.lock:
            return self._incident_json(self._find_incident(incident_id))

    def _incident(self, incident_id: str) -> dict[str, Any]:
        return self._incident_json(self._find_incident(incident_id))

    def component(self, component_id: str) -> dict[str, Any]:
        with self.lock:
            if component_id not in self._components:
                raise FakeError(404, "The component you are looking for could not be found.")
            return self._component_json(self._components[component_id])

    def _component(self, component_id: str) -> dict[str, Any]:
        return self.component(component_id)

    def components(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._component_json(c) for c in sorted(self._components.values(), key=lambda c: c["position"])]


# --- request parsing -------------------------------------------------------------------------------
def _payload(request: FakeRequest, wrapper: str) -> dict[str, Any]:
    """The object inside `{"<wrapper>": {...}}`, from JSON or from bracketed form fields."""
    content_type = request.header("content-type") or ""
    if "application/x-www-form-urlencoded" in content_type:
        data: Any = _nest_form(parse_qsl(request.body.decode(), keep_blank_values=True))
    else:
        data = request.json if request.body else {}
    inner = data.get(wrapper) if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise FakeError(400, f"param is missing or the value is empty: {wrapper}")
    return inner


def _nest_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rails-style `a[b][c]=v` and `a[b][]=v` fields as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if match is None:
            continue
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part, next_part in itertools.pairwise(path):
            if next_part == "":  # `a[b][]`: a list under b
                node.setdefault(part, []).append(value)
                break
            node = node.setdefault(part, {})
        else:
            node[path[-1]] = value
    return root


def _one_of(value: Any, allowed: tuple[str, ...], label: str) -> str:
    if value not in allowed:
        raise FakeError(422, f"{label} is not included in the list")
    return str(value)


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, True)
    return value not in (False, "false", "0", 0)


def _body_text(data: dict[str, Any]) -> str:
    return str(data.get("body") or data.get("message") or "")


def _metadata(value: Any, current: dict[str, Any]) -> dict[str, Any]:
    if value in (None, ""):
        return current
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise FakeError(422, "Metadata top level values must be objects")
    return {**current, **value}


def _searchable(incident: Incident) -> str:
    return " ".join([incident.name, *(u["body"] for u in incident.updates)]).lower()


def _int_param(request: FakeRequest, name: str, default: int) -> int:
    raw = request.q(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise FakeError(400, f"{name} must be an integer") from None
    if value < 1:
        raise FakeError(400, f"{name} must be greater than 0")
    return value
