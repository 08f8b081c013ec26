"""A loopback fake of the Zendesk Support API (the parts Switchboard uses), spoken to by the real zenpy client.

zenpy builds `<scheme>://<netloc>/api/v2/...json` from ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC, so the fake
sits at the root of its own port. State is kept like Zendesk keeps it: users, groups, tickets with audits
(the source of the ticket-event export), comments, an Idempotency-Key store and a clock tests can advance.

With vendor limits on (`vendor_limits=True` or `enforce_vendor_limits()`) the incremental exports behave as
Zendesk documents them: items changed in the minute before the request are left out (so `end_time` is never
newer than a minute ago), and the export endpoints together take at most 10 requests a minute, answering
429 with Retry-After past that:
https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api/
https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
"""

from __future__ import annotations

import base64
import binascii
import calendar
import copy
import html
import itertools
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from sandbox.fakes.base import FakeError, FakeRequest, FakeResponse, FakeService, SlidingWindowLimit, iso, retry_after

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
VIA_NAMES = {"web": "Web form", "email": "Mail", "api": "Web service"}  # the string `via` of export events
IDEMPOTENCY_TTL_SECONDS = 2 * 3600
ACCOUNT_LIMIT_PER_MINUTE = 700  # Enterprise plan; only reported in headers
EXPORT_DELAY_SECONDS = 60  # Zendesk leaves out what changed in the last minute
EXPORT_REQUESTS_PER_MINUTE = 10  # shared by the incremental export endpoints
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}


def _cursor(position: int) -> str:
    """An opaque cursor for a position (a list index, or a change sequence number)."""
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()[1:])
    except (ValueError, binascii.Error) as error:
        raise FakeError(400, body={"error": "InvalidValue", "description": "Invalid cursor"}) from error


def _as_id(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise _invalid(field, f"{field}: is invalid") from error


def _invalid(field: str, description: str) -> FakeError:
    """Zendesk's 422 for a failed validation."""
    body = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {field: [{"description": description, "error": "InvalidValue"}]},
    }
    return FakeError(422, description, body=body)


def _html_body(text: str) -> str:
    paragraphs = "".join(f'<p dir="auto">{html.escape(line)}</p>' for line in text.split("\n\n"))
    return f'<div class="zd-comment" dir="auto">{paragraphs}</div>'


def _plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", html_text)).strip()


_SEARCH_TERM = re.compile(r'(-?)(?:(\w+)(<=|>=|:|<|>))?("[^"]*"|\S+)')
_RELATIVE_TIME = re.compile(r"(\d+)(minute|hour|day|week)s?")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_COMPARE = {
    ":": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _search_terms(query: str) -> list[tuple[bool, str, str, str]]:
    """`-status<solved "two words" via:email` -> (negated, key, operator, value) tuples; key "" is free text."""
    return [
        (neg == "-", key.lower(), op, value.strip('"').lower()) for neg, key, op, value in _SEARCH_TERM.findall(query)
    ]


def _search_time(value: str, now: float) -> float | None:
    relative = _RELATIVE_TIME.fullmatch(value)
    if relative:
        return now - int(relative[1]) * _UNIT_SECONDS[relative[2]]
    for layout in ("%Y-%m-%dt%H:%M:%Sz", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(value, layout))
        except ValueError:
            continue
    return None


def _term_matches(view: dict[str, Any], key: str, op: str, value: str, now: float) -> bool:
    if key not in view or key == "text":
        return value in view["text"].lower()
    actual = view[key]
    if key == "status":
        return value in STATUSES and _COMPARE[op](STATUSES.index(actual), STATUSES.index(value))
    if key in ("created", "updated"):
        wanted = _search_time(value, now)
        if wanted is None:
            return False
        return int(actual // 86400) == int(wanted // 86400) if op == ":" else _COMPARE[op](actual, wanted)
    if isinstance(actual, list):
        return value in [str(item).lower() for item in actual]
    if key in ("subject", "name"):
        return value in str(actual).lower()
    return str(actual).lower() == value


def _search_matches(view: dict[str, Any], query: str, now: float) -> bool:
    return all(_term_matches(view, key, op, value, now) != negated for negated, key, op, value in _search_terms(query))


class ZendeskFake(FakeService):
    name = "zendesk"
    BOT_AGENT_ID = 900001

    def __init__(
        self,
        email: str = "bot@sandbox.example",
        token: str = "zd-sandbox",
        subdomain: str = "sandbox",
        *,
        export_delay_seconds: float = 0,
        export_rate_limit_per_minute: int | None = None,
        vendor_limits: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: Any = None,
    ):
        self.email = email
        self.token = token
        self.subdomain = subdomain
        self.export_delay_seconds = export_delay_seconds
        self.export_rate_limit_per_minute = export_rate_limit_per_minute
        self._export_calls = SlidingWindowLimit()
        super().__init__(host, port, ssl_context)
        self.reset()
        if vendor_limits:
            self.enforce_vendor_limits()

    def enforce_vendor_limits(self, on: bool = True) -> None:
        """Hold back the last minute of the exports and allow them 10 requests a minute (or neither, when off)."""
        super().enforce_vendor_limits(on)
        with self.lock:
            self.export_delay_seconds = EXPORT_DELAY_SECONDS if on else 0
            self.export_rate_limit_per_minute = EXPORT_REQUESTS_PER_MINUTE if on else None

    def reset(self) -> None:
        """Forget every object, request, fault and clock offset: a fresh account with only the bot agent."""
        with self.lock:
            self._clock_offset = 0.0
            self._users: dict[int, dict[str, Any]] = {}
            self._groups: dict[int, dict[str, Any]] = {}
            self._tickets: dict[int, dict[str, Any]] = {}
            self._comments: dict[int, list[dict[str, Any]]] = {}
            self._audits: list[dict[str, Any]] = []  # every ticket change, in order: the ticket-event stream
            self._idempotency: dict[str, tuple[str, float, FakeResponse]] = {}
            self._export_calls.reset()
            self._ticket_ids = itertools.count(1)
            self._user_ids = itertools.count(self.BOT_AGENT_ID + 1)
            self._event_ids = itertools.count(7_000_000_001)  # comments, audits and events share one id space
            self._change_seq = itertools.count(1)  # orders ticket changes for the cursor export
            self._add_user(self.BOT_AGENT_ID, "Switchboard Bot", self.email, "agent")
        self.reset_requests()
        self.clear_faults()
        self.notify()

    # --- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        api = "/api/v2"
        routes = [
            ("GET", r"/users/me", self._get_me),
            ("GET", r"/users/show_many", self._show_users),
            ("GET", r"/users/search", self._search_users),
            ("POST", r"/users/create_or_update", self._create_or_update_user),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("GET", r"/groups", self._list_groups),
            ("GET", r"/tickets", self._list_tickets),
            ("POST", r"/tickets", self._post_ticket),
            ("GET", r"/tickets/show_many", self._show_tickets),
            ("GET", r"/tickets/(?P<ticket_id>\d+)", self._get_ticket),
            ("PUT", r"/tickets/(?P<ticket_id>\d+)", self._put_ticket),
            ("GET", r"/tickets/(?P<ticket_id>\d+)/comments", self._list_comments),
            ("GET", r"/incremental/tickets/cursor", self._export_tickets),
            ("GET", r"/incremental/ticket_events", self._export_ticket_events),
            ("GET", r"/search", self._search),
        ]
        for method, path, handler in routes:
            self.add_route(method, api + path + r"(?:\.json)?", self._authenticated(handler))

    def _authenticated(self, handler: Any) -> Any:
        def guarded(request: FakeRequest, **groups: str) -> Any:
            return handler(request, self._actor(request), **groups)

        return guarded

    def _actor(self, request: FakeRequest) -> dict[str, Any]:
        """The user a request acts as: Basic `<email>/token:<token>` or `Bearer <token>` (+ X-On-Behalf-Of)."""
        header = request.header("authorization", "")
        email = None
        if header.startswith("Bearer ") and header[7:] == self.token:
            email = request.header("x-on-behalf-of") or self.email
        elif header.startswith("Basic "):
            try:
                login, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, binascii.Error):
                login, secret = "", ""
            if login.endswith("/token") and secret == self.token:
                email = login[: -len("/token")]
        user = self._find_user_by_email(email) if email else None
        if user is None or user["role"] == "end-user":
            raise FakeError(401, body={"error": "Couldn't authenticate you"})
        return user

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        response = super().handle(request)
        if response is not None:
            cutoff = time.time() - 60
            recent = sum(1 for r in self.calls() if r.at > cutoff)
            response.headers.setdefault("X-Rate-Limit", str(ACCOUNT_LIMIT_PER_MINUTE))
            response.headers.setdefault("X-Rate-Limit-Remaining", str(max(0, ACCOUNT_LIMIT_PER_MINUTE - recent)))
        return response

    def error_body(self, status: int, message: str = "") -> Any:
        if status == 401:
            return {"error": "Couldn't authenticate you"}
        if status == 404:
            return dict(NOT_FOUND)
        if status == 429:
            return {"error": "APIRateLimitExceeded", "description": message or "Rate limit exceeded"}
        if status >= 500:
            return {"error": "InternalError", "description": message or "Something went wrong"}
        return {"error": "InvalidValue", "description": message or f"HTTP {status}"}

    def unknown_route(self, request: FakeRequest, path_matched: bool) -> FakeResponse:
        description = f"{request.method} {request.path} is not emulated"
        return FakeResponse(404, {"error": "InvalidEndpoint", "description": description})

    # --- rendering -------------------------------------------------------------------------------
    def _root(self) -> str:
        return self.origin if self._server is not None else f"https://{self.subdomain}.zendesk.com"

    def _user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": user["id"],
            "url": f"{self._root()}/api/v2/users/{user['id']}.json",
            "name": user["name"],
            "email": user["email"],
            "role": user["role"],
            "external_id": user["external_id"],
            "created_at": iso(user["created_ts"]),
            "updated_at": iso(user["updated_ts"]),
            "time_zone": "UTC",
            "iana_time_zone": "Etc/UTC",
            "locale": "en-US",
            "organization_id": None,
            "default_group_id": user["default_group_id"],
            "active": True,
            "verified": True,
            "suspended": False,
            "tags": [],
            "user_fields": {},
        }

    def _group_json(self, group: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": group["id"],
            "url": f"{self._root()}/api/v2/groups/{group['id']}.json",
            "name": group["name"],
            "description": "",
            "default": False,
            "deleted": False,
            "is_public": True,
            "created_at": iso(group["created_ts"]),
            "updated_at": iso(group["created_ts"]),
        }

    def _ticket_json(self, ticket: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in ticket.items() if not k.endswith("_ts") and not k.startswith("_")}
        return {
            **fields,
            "url": f"{self._root()}/api/v2/tickets/{ticket['id']}.json",
            "raw_subject": ticket["subject"],
            "via": copy.deepcopy(ticket["via"]),
            "custom_fields": copy.deepcopy(ticket["custom_fields"]),
            "created_at": iso(ticket["created_ts"]),
            "updated_at": iso(ticket["updated_ts"]),
            "generated_timestamp": int(ticket["updated_ts"]),
            "tags": list(ticket["tags"]),
            "followup_ids": list(ticket["followup_ids"]),
            "organization_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "problem_id": None,
            "has_incidents": False,
            "due_at": None,
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "fields": [],
            "brand_id": None,
            "ticket_form_id": None,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }

    def _audit_json(self, audit: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": audit["id"],
            "ticket_id": audit["ticket_id"],
            "created_at": iso(audit["ts"]),
            "author_id": audit["author_id"],
            "metadata": {"system": {}, "custom": {}},
            "via": audit["via"],
            "events": copy.deepcopy(audit["events"]),
        }

    def _ticket_event_json(self, audit: dict[str, Any], with_comments: bool) -> dict[str, Any]:
        via_name = VIA_NAMES.get(audit["via"]["channel"], audit["via"]["channel"])
        children = []
        for event in audit["events"]:
            if event["type"] == "Comment" and with_comments:
                children.append({**event, "event_type": "Comment", "via_reference_id": None})
            elif event["type"] == "Comment":
                children.append(
                    {
                        "id": event["id"],
                        "comment_present": True,
                        "comment_public": event["public"],
                        "event_type": "Comment",
                    }
                )
            else:
                children.append(
                    {**event, event["field_name"]: event["value"], "event_type": event["type"], "via": via_name}
                )
        return {
            "id": audit["id"],
            "ticket_id": audit["ticket_id"],
            "timestamp": int(audit["ts"]),
            "created_at": iso(audit["ts"]),
            "updater_id": audit["author_id"],
            "via": via_name,
            "system": {},
            "metadata": {},
            "event_type": "Audit",
            "merged_ticket_ids": [],
            "child_events": children,
        }

    def _url(self, path: str, params: dict[str, Any]) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self._root()}{path}" + (f"?{query}" if query else "")

    def _page(self, request: FakeRequest, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """One page of `items`: cursor pagination when `page[size]` is given, else offset pagination."""
        params = {k: v[0] for k, v in request.query.items()}
        size_text = request.q("page[size]")
        if size_text is None:
            return self._offset_page(request, key, items, params)
        size = int(size_text)
        if not 1 <= size <= 100:
            raise FakeError(
                400, body={"error": "InvalidPaginationParameter", "description": "page[size] must be <= 100"}
            )
        after, before = request.q("page[after]"), request.q("page[before]")
        start = _uncursor(after) if after else max(0, _uncursor(before) - size) if before else 0
        stop = min(start + size, _uncursor(before)) if before else start + size
        chunk = items[start:stop]
        has_more = stop < len(items)
        params.pop("page[before]", None)
        params.pop("page[after]", None)
        next_link = self._url(request.path, {**params, "page[after]": _cursor(stop)}) if has_more else None
        prev_link = self._url(request.path, {**params, "page[before]": _cursor(start)}) if start > 0 else None
        return {
            key: chunk,
            "meta": {
                "has_more": has_more,
                "after_cursor": _cursor(stop) if chunk else None,
                "before_cursor": _cursor(start) if chunk else None,
            },
            "links": {"next": next_link, "prev": prev_link},
        }

    def _offset_page(
        self, request: FakeRequest, key: str, items: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        per_page = min(int(request.q("per_page", "100")), 100)
        page = int(request.q("page", "1"))
        if page > 100:
            raise FakeError(
                400, body={"error": "InvalidPaginationParameter", "description": "Offset pagination limit reached"}
            )
        chunk = items[(page - 1) * per_page : page * per_page]
        has_next = page * per_page < len(items)
        return {
            key: chunk,
            "next_page": self._url(request.path, {**params, "page": page + 1}) if has_next else None,
            "previous_page": self._url(request.path, {**params, "page": page - 1}) if page > 1 else None,
            "count": len(items),
        }

    # --- users and groups ------------------------------------------------------------------------
    def _add_user(self, user_id: int, name: str, email: str | None, role: str, **extra: Any) -> dict[str, Any]:
        ts = self.now()
        user = {"id": user_id, "name": name, "email": email, "role": role, "external_id": None}
        user.update(default_group_id=None, created_ts=ts, updated_ts=ts, **extra)
        self._users[user_id] = user
        return user

    def _find_user_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().lower()
        return next((u for u in self._users.values() if (u["email"] or "").lower() == wanted), None)

    def _user(self, user_id: Any) -> dict[str, Any]:
        user = self._users.get(int(user_id)) if str(user_id).isdigit() else None
        if user is None:
            raise FakeError(404, body=dict(NOT_FOUND))
        return user

    def _end_user(self, name: str | None, email: str) -> dict[str, Any]:
        """Find a user by email, else create an end-user named after the address like Zendesk does."""
        existing = self._find_user_by_email(email)
        if existing is not None:
            return existing
        return self._add_user(next(self._user_ids), name or email.split("@")[0], email, "end-user")

    def _get_me(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._user_json(actor)}

    def _get_user(self, request: FakeRequest, actor: dict[str, Any], user_id: str) -> dict[str, Any]:
        return {"user": self._user_json(self._user(user_id))}

    def _show_users(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        ids = [int(i) for i in (request.q("ids") or "").split(",") if i.strip().isdigit()]
        users = [self._user_json(self._users[i]) for i in ids if i in self._users]
        return self._page(request, "users", users)

    def _search_users(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        query = (request.q("query") or "").strip().lower().removeprefix("email:")
        external_id = request.q("external_id")
        users = [
            u
            for u in self._users.values()
            if (external_id is not None and u["external_id"] == external_id)
            or (query and (query == (u["email"] or "").lower() or query in u["name"].lower()))
        ]
        return self._page(request, "users", [self._user_json(u) for u in users])

    def _create_or_update_user(self, request: FakeRequest, actor: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        fields = (request.json or {}).get("user") or {}
        email, external_id = fields.get("email"), fields.get("external_id")
        user = self._find_user_by_email(email) if email else None
        if user is None and external_id is not None:
            user = next((u for u in self._users.values() if u["external_id"] == str(external_id)), None)
        if user is None:
            if not fields.get("name"):
                raise _invalid("name", "Name: is too short (minimum is 1 character)")
            role = fields.get("role") or "end-user"
            user = self._add_user(next(self._user_ids), fields["name"], email, role, external_id=external_id)
            return 201, {"user": self._user_json(user)}
        for key in ("name", "email", "role", "external_id", "default_group_id"):
            if fields.get(key) is not None:
                user[key] = fields[key]
        user["updated_ts"] = self.now()
        return 200, {"user": self._user_json(user)}

    def _list_groups(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        return self._page(request, "groups", [self._group_json(g) for g in self._groups.values()])

    # --- tickets ---------------------------------------------------------------------------------
    def _ticket(self, ticket_id: Any) -> dict[str, Any]:
        ticket = self._tickets.get(int(ticket_id))
        if ticket is None:
            raise FakeError(404, body=dict(NOT_FOUND))
        return ticket

    def _check_refs(self, fields: dict[str, Any]) -> None:
        """Validate (and normalise to int) the ids a ticket refers to, as Zendesk's 422s do."""
        for key in ("requester_id", "submitter_id", "assignee_id", "group_id"):
            if fields.get(key) is not None:
                fields[key] = _as_id(fields[key], key)
        for key in ("requester_id", "submitter_id", "assignee_id"):
            if fields.get(key) is not None and fields[key] not in self._users:
                raise _invalid(key.removesuffix("_id"), f"{key.removesuffix('_id').title()}: is invalid")
        if fields.get("assignee_id") is not None and self._users[fields["assignee_id"]]["role"] == "end-user":
            raise _invalid("assignee", "Assignee: is not an agent")
        if fields.get("group_id") is not None and fields["group_id"] not in self._groups:
            raise _invalid("group", "Group: is invalid")
        if fields.get("status") is not None and fields["status"] not in STATUSES:
            raise _invalid("status", f"Status: {fields['status']} is not a valid status")

    def _new_comment(
        self, ticket_id: int, fields: dict[str, Any], author_id: int, channel: str, ts: float
    ) -> dict[str, Any]:
        body = fields.get("body")
        html_body = fields.get("html_body") or _html_body(body or "")
        text = body if body is not None else _plain(html_body)
        author_id = _as_id(author_id, "author_id")
        if author_id not in self._users:
            raise _invalid("author_id", "Author: is invalid")
        comment = {
            "id": next(self._event_ids),
            "type": "Comment",
            "author_id": author_id,
            "body": text,
            "html_body": html_body,
            "plain_body": _plain(html_body) if fields.get("html_body") else text,
            "public": bool(fields.get("public", True)),
            "attachments": [],
            "audit_id": None,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
            "created_at": iso(ts),
        }
        self._comments.setdefault(ticket_id, []).append(comment)
        return comment

    def _record_audit(
        self, ticket_id: int, author_id: int, via: dict[str, Any], events: list[dict[str, Any]], ts: float
    ) -> dict[str, Any]:
        audit = {"id": next(self._event_ids), "ticket_id": ticket_id, "ts": ts, "author_id": author_id}
        audit.update(via=via, events=events)
        for event in events:
            event["audit_id"] = audit["id"]
        self._audits.append(audit)
        return audit

    def _field_event(self, kind: str, field: str, value: Any, previous: Any = None) -> dict[str, Any]:
        event = {"id": next(self._event_ids), "type": kind, "field_name": field, "value": value}
        if kind == "Change":
            event["previous_value"] = previous
        return event

    def _create_ticket(
        self, fields: dict[str, Any], actor: dict[str, Any], channel: str, source: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        comment_fields = dict(fields.get("comment") or {})
        text = comment_fields.get("body") or comment_fields.get("html_body") or fields.get("description")
        if not text:
            raise _invalid("description", "Description: cannot be blank")
        requester = fields.get("requester") or {}
        if fields.get("requester_id") is None and requester.get("email"):
            fields["requester_id"] = self._end_user(requester.get("name"), requester["email"])["id"]
        self._check_refs(fields)
        followup_source = self._followup_source(fields.get("via_followup_source_id"))
        ts, ticket_id = self.now(), next(self._ticket_ids)
        assignee_id = fields.get("assignee_id")
        requester_id = fields.get("requester_id") or actor["id"]
        submitter_id = fields.get("submitter_id") or actor["id"]
        status = fields.get("status") or ("open" if assignee_id else "new")
        author_id = _as_id(comment_fields.get("author_id") or submitter_id, "author_id")
        if author_id not in self._users:
            raise _invalid("author_id", "Author: is invalid")
        via = {"channel": channel, "source": source or {"from": {}, "to": {}, "rel": None}}
        if followup_source is not None:
            via["source"] = {"from": {"ticket_id": followup_source["id"], "subject": followup_source["subject"]}}
            via["source"].update(to={}, rel="follow_up")
            followup_source["followup_ids"].append(ticket_id)
        comment_fields.setdefault("body", None if comment_fields.get("html_body") else text)
        comment = self._new_comment(ticket_id, comment_fields, author_id, channel, ts)
        ticket = {
            "id": ticket_id,
            "external_id": fields.get("external_id"),
            "via": via,
            "type": fields.get("type"),
            "subject": fields.get("subject") or comment["body"][:60],
            "description": comment["body"],
            "priority": fields.get("priority"),
            "status": status,
            "recipient": fields.get("recipient"),
            "requester_id": requester_id,
            "submitter_id": submitter_id,
            "assignee_id": assignee_id,
            "group_id": fields.get("group_id"),
            "is_public": comment["public"],
            "tags": sorted(set(fields.get("tags") or [])),
            "custom_fields": list(fields.get("custom_fields") or []),
            "custom_status_id": None,
            "followup_ids": [],
            "created_ts": ts,
            "updated_ts": ts,
            "_seq": next(self._change_seq),
        }
        self._tickets[ticket_id] = ticket
        events = [comment] + [
            self._field_event("Create", name, ticket[name])
            for name in ("subject", "status", "requester_id", "group_id", "assignee_id", "priority", "tags")
            if ticket[name] not in (None, [])
        ]
        return ticket, self._record_audit(ticket_id, comment["author_id"], via, events, ts)

    def _followup_source(self, source_id: Any) -> dict[str, Any] | None:
        if source_id is None:
            return None
        source = self._tickets.get(int(source_id))
        if source is None or source["status"] != "closed":
            raise _invalid("via_followup_source_id", "Via followup source: must be a closed ticket")
        return source

    def _update_ticket(
        self, ticket: dict[str, Any], fields: dict[str, Any], actor: dict[str, Any], channel: str
    ) -> dict[str, Any]:
        if ticket["status"] == "closed":
            raise _invalid("status", "Status: closed prevents ticket update")
        self._check_refs(fields)
        if fields.get("status") == "new" and ticket["status"] != "new":
            raise _invalid("status", "Status: new is not valid for an existing ticket")
        changes = self._field_changes(ticket, fields)
        if (
            fields.get("status") in ("solved", "closed")
            and ticket["assignee_id"] is None
            and "assignee_id" not in changes
        ):
            if actor["role"] == "end-user":
                raise _invalid("assignee", "Assignee: is required when solving")
            changes["assignee_id"] = actor["id"]  # Zendesk assigns an unassigned ticket to the agent who solves it
        ts = self.now()
        events: list[dict[str, Any]] = []
        comment_fields = fields.get("comment")
        if comment_fields and (comment_fields.get("body") or comment_fields.get("html_body")):
            author_id = comment_fields.get("author_id") or actor["id"]
            events.append(self._new_comment(ticket["id"], comment_fields, author_id, channel, ts))
        for name, value in changes.items():
            events.append(self._field_event("Change", name, value, ticket[name]))
            ticket[name] = value
        if events:
            ticket["updated_ts"], ticket["_seq"] = ts, next(self._change_seq)
        author = events[0]["author_id"] if events and events[0]["type"] == "Comment" else actor["id"]
        via = {"channel": channel, "source": {"from": {}, "to": {}, "rel": None}}
        return self._record_audit(ticket["id"], author, via, events, ts)

    def _field_changes(self, ticket: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        wanted: dict[str, Any] = {}
        for name in ("subject", "status", "priority", "type", "external_id", "recipient", "custom_fields"):
            if name in fields:
                wanted[name] = fields[name]
        for name in ("requester_id", "assignee_id", "group_id"):
            if name in fields:
                wanted[name] = fields[name]  # already normalised by _check_refs
        tags = set(fields["tags"]) if fields.get("tags") is not None else set(ticket["tags"])
        tags |= set(fields.get("additional_tags") or [])
        tags -= set(fields.get("remove_tags") or [])
        wanted["tags"] = sorted(tags)
        return {name: value for name, value in wanted.items() if ticket.get(name) != value}

    def _post_ticket(self, request: FakeRequest, actor: dict[str, Any]) -> FakeResponse:
        key = request.header("idempotency-key")
        fingerprint = json.dumps(request.json, sort_keys=True)
        if key:
            replay = self._idempotent_replay(key, fingerprint)
            if replay is not None:
                return replay
        fields = dict((request.json or {}).get("ticket") or {})
        ticket, audit = self._create_ticket(fields, actor, (fields.get("via") or {}).get("channel") or "api")
        body = {"ticket": self._ticket_json(ticket), "audit": self._audit_json(audit)}
        headers = {"Location": f"{self._root()}/api/v2/tickets/{ticket['id']}.json"}
        if key:
            headers["x-idempotency-lookup"] = "miss"
            stored = FakeResponse(201, body, {**headers, "x-idempotency-lookup": "hit"})
            self._idempotency[key] = (fingerprint, self.now(), stored)
        return FakeResponse(201, body, headers)

    def _idempotent_replay(self, key: str, fingerprint: str) -> FakeResponse | None:
        stored = self._idempotency.get(key)
        if stored is None or self.now() - stored[1] > IDEMPOTENCY_TTL_SECONDS:
            return None
        if stored[0] != fingerprint:
            raise FakeError(
                400,
                body={
                    "error": "IdempotentRequestError",
                    "description": "Request parameters don't match the given idempotency key",
                },
            )
        return FakeResponse(stored[2].status, stored[2].body, dict(stored[2].headers))

    def _get_ticket(self, request: FakeRequest, actor: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        return {"ticket": self._ticket_json(self._ticket(ticket_id))}

    def _put_ticket(self, request: FakeRequest, actor: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        ticket = self._ticket(ticket_id)
        audit = self._update_ticket(ticket, dict((request.json or {}).get("ticket") or {}), actor, "api")
        return {"ticket": self._ticket_json(ticket), "audit": self._audit_json(audit)}

    def _show_tickets(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        ids = [int(i) for i in (request.q("ids") or "").split(",") if i.strip().isdigit()]
        return self._page(request, "tickets", [self._ticket_json(self._tickets[i]) for i in ids if i in self._tickets])

    def _list_tickets(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        external_id = request.q("external_id")
        tickets = [t for t in self._tickets.values() if external_id is None or t["external_id"] == external_id]
        return self._page(request, "tickets", [self._ticket_json(t) for t in tickets])

    def _list_comments(self, request: FakeRequest, actor: dict[str, Any], ticket_id: str) -> dict[str, Any]:
        comments = copy.deepcopy(self._comments.get(self._ticket(ticket_id)["id"], []))
        if request.q("sort_order") == "desc" or request.q("sort") == "-created_at":
            comments.reverse()
        return self._page(request, "comments", comments)

    # --- incremental exports ---------------------------------------------------------------------
    def _check_export_limit(self) -> None:
        """The export endpoints share one budget per minute; past it Zendesk answers 429 with Retry-After."""
        limit = self.export_rate_limit_per_minute
        if limit is None:
            return
        wait = self._export_calls.admit("incremental", limit, 60.0, self.now())
        if wait:
            description = "Number of allowed incremental export API requests per minute exceeded"
            raise FakeError(
                429,
                body={"error": "APIRateLimitExceeded", "description": description},
                headers={"Retry-After": retry_after(wait)},
            )

    def _export_horizon(self) -> float:
        """Items changed after this moment are not exported yet (Zendesk holds back the last minute)."""
        return self.now() - self.export_delay_seconds

    def _start_time(self, request: FakeRequest) -> int:
        raw = request.q("start_time")
        if raw is None or not raw.lstrip("-").isdigit():
            raise FakeError(400, body={"error": "InvalidValue", "description": "start_time is required"})
        start_time = int(raw)
        if start_time > self._export_horizon():
            description = f"Too recent start_time. Use a start_time older than {self.export_delay_seconds} seconds"
            raise FakeError(400, body={"error": "InvalidValue", "description": description})
        return start_time

    def _export_tickets(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        self._check_export_limit()
        cursor = request.q("cursor")
        if cursor:
            position = _uncursor(cursor)
        else:  # start_time is inclusive; tickets ordered by change are also ordered by updated time
            start = self._start_time(request)
            position = max((t["_seq"] for t in self._tickets.values() if int(t["updated_ts"]) < start), default=0)
        per_page = min(int(request.q("per_page", "1000")), 1000)
        pending = sorted((t for t in self._tickets.values() if t["_seq"] > position), key=lambda t: t["_seq"])
        horizon = self._export_horizon()
        visible = list(itertools.takewhile(lambda t: t["updated_ts"] <= horizon, pending))
        page = visible[:per_page]
        after_cursor = _cursor(page[-1]["_seq"] if page else position)
        return {
            "tickets": [self._ticket_json(t) for t in page],
            "after_cursor": after_cursor,
            "after_url": self._url(request.path, {"cursor": after_cursor, "per_page": request.q("per_page")}),
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(visible) <= per_page,
        }

    def _export_ticket_events(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        self._check_export_limit()
        start_time = self._start_time(request)
        per_page = min(int(request.q("per_page", "1000")), 1000)
        with_comments = "comment_events" in (request.q("include") or "").split(",")
        horizon = self._export_horizon()
        pending = [a for a in self._audits if start_time <= int(a["ts"]) and a["ts"] <= horizon]
        page = pending[:per_page]
        if len(pending) > per_page:  # like Zendesk, never split one second across pages
            page += [a for a in pending[per_page:] if int(a["ts"]) == int(page[-1]["ts"])]
        end_time = int(page[-1]["ts"]) if page else start_time
        if page and end_time == start_time and len(page) < len(pending):
            end_time += 1  # a page full of one second would otherwise be asked for forever
        params = {"start_time": end_time, "include": request.q("include"), "per_page": request.q("per_page")}
        return {
            "ticket_events": [self._ticket_event_json(a, with_comments) for a in page],
            "count": len(page),
            "end_time": end_time,
            "next_page": self._url(request.path, params),
            "end_of_stream": len(page) == len(pending),
        }

    # --- search ----------------------------------------------------------------------------------
    def _search(self, request: FakeRequest, actor: dict[str, Any]) -> dict[str, Any]:
        query, now = request.q("query") or "", self.now()
        terms = _search_terms(query)
        wanted_type = request.q("filter[type]") or next((v for _, k, _, v in terms if k == "type"), "ticket")
        if wanted_type == "user":
            users = [u for u in self._users.values() if _search_matches(self._user_search_view(u), query, now)]
            results = [{**self._user_json(u), "result_type": "user"} for u in users]
        else:
            tickets = [t for t in self._tickets.values() if _search_matches(self._ticket_search_view(t), query, now)]
            if request.q("sort_order") == "desc":
                tickets.reverse()
            results = [{**self._ticket_json(t), "result_type": "ticket"} for t in tickets]
        return {**self._page(request, "results", results), "facets": None}

    def _ticket_search_view(self, ticket: dict[str, Any]) -> dict[str, Any]:
        group = self._groups.get(ticket["group_id"] or 0)
        requester = self._users.get(ticket["requester_id"])
        return {
            "type": "ticket",
            "status": ticket["status"],
            "group": [str(ticket["group_id"] or "none"), (group or {}).get("name", "")],
            "via": ticket["via"]["channel"],
            "created": ticket["created_ts"],
            "updated": ticket["updated_ts"],
            "external_id": ticket["external_id"] or "",
            "requester": [str(ticket["requester_id"]), (requester or {}).get("email") or ""],
            "assignee": [str(ticket["assignee_id"] or "none")],
            "tags": ticket["tags"],
            "subject": ticket["subject"],
            "text": f"{ticket['subject']} {ticket['description']}",
        }

    @staticmethod
    def _user_search_view(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "user",
            "role": user["role"],
            "email": user["email"] or "",
            "name": user["name"],
            "created": user["created_ts"],
            "text": f"{user['name']} {user['email'] or ''}",
        }

    # --- helpers for tests and the sandbox -------------------------------------------------------
    def add_group(self, group_id: int, name: str) -> dict[str, Any]:
        with self.lock:
            self._groups[group_id] = {"id": group_id, "name": name, "created_ts": self.now()}
            group = self._group_json(self._groups[group_id])
        self.notify()
        return group

    def add_agent(self, user_id: int, name: str, email: str) -> dict[str, Any]:
        with self.lock:
            user = self._user_json(self._add_user(user_id, name, email, "agent"))
        self.notify()
        return user

    def add_end_user(self, name: str, email: str, *, user_id: int | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._user_json(self._add_user(user_id or next(self._user_ids), name, email, "end-user"))
        self.notify()
        return user

    def _human_agent(self) -> dict[str, Any]:
        """The first agent who is not the bot; created on demand so helpers work without seeding."""
        for user in self._users.values():
            if user["role"] in ("agent", "admin") and user["id"] != self.BOT_AGENT_ID:
                return user
        return self._add_user(next(self._user_ids), "Sandbox Agent", f"agent@{self.subdomain}.example", "agent")

    def agent_comment(
        self, ticket_id: int, body: str, *, author_id: int | None = None, public: bool = True, via: str = "web"
    ) -> dict[str, Any]:
        """A human agent replies in Zendesk; returns the new comment."""
        with self.lock:
            author = self._user(author_id) if author_id else self._human_agent()
            comment = {"body": body, "public": public, "author_id": author["id"]}
            audit = self._update_ticket(self._ticket(ticket_id), {"comment": comment}, author, via)
            created = copy.deepcopy(audit["events"][0])
        self.notify()
        return created

    def end_user_comment(self, ticket_id: int, body: str, *, via: str = "email") -> dict[str, Any]:
        """The requester answers (by email by default); a pending or solved ticket reopens, as in Zendesk."""
        with self.lock:
            ticket = self._ticket(ticket_id)
            requester = self._users[ticket["requester_id"]]
            fields: dict[str, Any] = {"comment": {"body": body, "public": True, "author_id": requester["id"]}}
            if ticket["status"] in ("pending", "solved"):
                fields["status"] = "open"
            audit = self._update_ticket(ticket, fields, self._human_agent(), via)
            created = copy.deepcopy(audit["events"][0])
        self.notify()
        return created

    def set_status(self, ticket_id: int, status: str, *, author_id: int | None = None) -> dict[str, Any]:
        """A human agent changes the status in Zendesk; returns the ticket."""
        with self.lock:
            author = self._user(author_id) if author_id else self._human_agent()
            ticket = self._ticket(ticket_id)
            self._update_ticket(ticket, {"status": status}, author, "web")
            result = self._ticket_json(ticket)
        self.notify()
        return result

    def create_email_ticket(
        self, subject: str, body: str, requester_email: str, requester_name: str, *, group_id: int | None = None
    ) -> dict[str, Any]:
        """A customer emails the support address: a new ticket with via.channel "email"."""
        with self.lock:
            requester = self._end_user(requester_name, requester_email)
            support_address = f"support@{self.subdomain}.zendesk.com"
            source = {
                "from": {"address": requester_email, "name": requester_name},
                "to": {"address": support_address, "name": "Support"},
                "rel": None,
            }
            fields = {"subject": subject, "comment": {"body": body}, "requester_id": requester["id"]}
            fields.update(submitter_id=requester["id"], group_id=group_id, recipient=support_address)
            ticket, _ = self._create_ticket(fields, requester, "email", source)
            result = self._ticket_json(ticket)
        self.notify()
        return result

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        with self.lock:
            ticket = self._tickets.get(ticket_id)
            return self._ticket_json(ticket) if ticket else None

    def tickets(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._ticket_json(t) for t in self._tickets.values()]

    def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._comments.get(ticket_id, []))

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        with self.lock:
            user = self._find_user_by_email(email)
            return self._user_json(user) if user else None
