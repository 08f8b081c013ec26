"""Jira Cloud fake: REST v2/v3 issues, sub-tasks, a simple workflow, comments, links, a select-list custom field
(Severity) and `/search/jql` with nextPageToken.

Shapes follow https://developer.atlassian.com/cloud/jira/platform/rest/v3/ closely enough for the `jira`
library: `serverInfo` says `deploymentType: Cloud`, `self` links point at the fake, v3 bodies carry ADF
(strings are accepted too), the removed `/search` answers 410 and bad credentials get Jira's plain-text 401. A
sub-task is created with `fields.parent` (`{"key"}` or `{"id"}`) and a sub-task issue type, in its parent's
project; the parent lists it in `fields.subtasks` and it shows its parent in `fields.parent`, as Jira does. Links
are made with `POST /issueLink` (`{type: {name}, inwardIssue: {key}, outwardIssue: {key}}`, 201 without a body).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from sandbox.fakes.base import FakeError, FakeRequest, FakeResponse, FakeService
from sandbox.fakes.jira_jql import JqlError, Query, compile_jql
from sandbox.fakes.jira_model import (
    FIELD_CATALOGUE,
    SEVERITY_FIELD,
    STATUSES,
    Issue,
    jira_time,
    ref_of,
)
from sandbox.fakes.jira_state import JiraState

API = r"/rest/api/(?P<v>2|3|latest)/"
REF = r"(?P<ref>[^/]+)"
UNAUTHORIZED = "Client must be authenticated to access this resource."
SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


class JiraFake(JiraState, FakeService):
    name = "jira"

    def __init__(
        self,
        email: str = "bot@sandbox.example",
        token: str = "jira-sandbox",
        *,
        display_name: str = "Switchboard Bot",
        start_time: float | None = None,
        search_lag: float = 0.0,
        **server: Any,
    ):
        super().__init__(**server)
        self.email = email
        self.token = token
        self.search_lag = search_lag  # seconds a change stays invisible to search unless reconciled
        self._identity = (display_name, email, start_time)
        self._init_state(*self._identity)

    def _origin(self) -> str:
        return self.origin if self._server is not None else f"http://{self.host}"

    # --- routes ----------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        api = self._api
        api("GET", "serverInfo", self._server_info, anonymous=True)
        api("GET", "myself", self._myself)
        api("GET", "field", lambda request, v: self._field_list())
        api("GET", "priority", lambda request, v: [self._priority_json(str(n), v, full=True) for n in range(1, 6)])
        api("GET", "issuetype", lambda request, v: [self._issuetype_json(name, v) for name in self.issue_types])
        api(
            "GET",
            "issueLinkType",
            lambda request, v: {"issueLinkTypes": [self._link_type_json(i, v) for i in self.link_types]},
        )
        api("GET", "project", lambda request, v: [self._project_json(p, v) for p in self.projects.values()])
        api("GET", f"project/{REF}", self._get_project)
        api("GET", f"project/{REF}/statuses", self._project_statuses)
        api("POST", "issue", self._create_issue)
        api("GET", f"issue/{REF}", self._get_issue)
        api("PUT", f"issue/{REF}", self._edit_issue)
        api("GET", f"issue/{REF}/transitions", self._list_transitions)
        api("POST", f"issue/{REF}/transitions", self._do_transition)
        api("GET", f"issue/{REF}/comment", self._list_comments)
        api("POST", f"issue/{REF}/comment", self._add_comment)
        api("GET", f"issue/{REF}/changelog", self._get_changelog)
        api("POST", "issueLink", self._create_link)
        api("GET", "search/jql", self._search)
        api("POST", "search/jql", self._search)
        api("POST", "search/approximate-count", self._approximate_count)
        for method in ("GET", "POST"):
            api(
                method,
                "(?:search|search/id|expression/eval)",
                lambda request, v: (410, self.error_body(410, SEARCH_GONE)),
            )

    def _api(self, method: str, suffix: str, handler: Callable[..., Any], anonymous: bool = False) -> None:
        def guarded(request: FakeRequest, **groups: str) -> Any:
            refusal = self._refuse(request, anonymous)
            return refusal if refusal is not None else handler(request, **groups)

        self.add_route(method, API + suffix, guarded)

    def _refuse(self, request: FakeRequest, anonymous: bool) -> FakeResponse | None:
        header = request.header("authorization")
        if header is None and anonymous:
            return None
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if header == expected:
            return None
        headers = {
            "WWW-Authenticate": 'Basic realm="protected-by-api-token"',
            "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
        }
        return FakeResponse(401, UNAUTHORIZED, headers, content_type="text/plain;charset=UTF-8")

    def error_body(self, status: int, message: str = "") -> Any:
        default = {429: "Rate limit exceeded.", 503: "Service Unavailable"}.get(status, f"HTTP {status}")
        return {"errorMessages": [message or default], "errors": {}}

    # --- handlers: metadata ----------------------------------------------------------------------
    def _server_info(self, request: FakeRequest, v: str) -> dict[str, Any]:
        return {
            "baseUrl": self._origin(),
            "displayUrl": self._origin(),
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100291,
            "buildDate": "2026-01-05T00:00:00.000+0000",
            "serverTime": jira_time(self.now()),
            "scmInfo": "3f1e8e2c7a9b4d6e0f1a2b3c4d5e6f708192a3b4",
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }

    def _myself(self, request: FakeRequest, v: str) -> dict[str, Any]:
        me = self._user_json(self.bot_account_id) or {}
        extra = {"locale": "en_US", "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []}}
        return {**me, **extra, "expand": "groups,applicationRoles"}

    def _field_list(self) -> list[dict[str, Any]]:
        fields = []
        for field_id, name, clauses, schema_type in FIELD_CATALOGUE:
            custom = field_id.startswith("customfield_")
            entry: dict[str, Any] = {"id": field_id, "key": field_id, "name": name, "custom": custom, "orderable": True}
            entry.update({"navigable": True, "searchable": True, "clauseNames": clauses})
            if schema_type and custom:
                plugin = "com.atlassian.jira.plugin.system.customfieldtypes:select"
                entry["schema"] = {"type": schema_type, "custom": plugin, "customId": int(field_id.split("_")[1])}
                entry["untranslatedName"] = name
            elif schema_type:
                entry["schema"] = {"type": schema_type, "system": field_id}
            fields.append(entry)
        return fields

    def _get_project(self, request: FakeRequest, v: str, ref: str) -> dict[str, Any]:
        project = self._project_by_ref(ref)
        if project is None:
            raise FakeError(404, f"No project could be found with key '{ref}'.")
        full = self._project_json(project, v)
        full.update({"description": "", "lead": self._user_json(self.bot_account_id), "style": "classic"})
        full.update({"isPrivate": False, "assigneeType": "UNASSIGNED", "properties": {}})
        full["issueTypes"] = [self._issuetype_json(name, v) for name in self.issue_types]
        return full

    def _project_statuses(self, request: FakeRequest, v: str, ref: str) -> list[dict[str, Any]]:
        """Every issue type of the project with the statuses of its workflow (one workflow for all, here)."""
        if self._project_by_ref(ref) is None:
            raise FakeError(404, f"No project could be found with key '{ref}'.")
        statuses = [self._status_json(name, v) for name in STATUSES]
        return [{**self._issuetype_json(name, v), "statuses": statuses} for name in self.issue_types]

    # --- handlers: issues ------------------------------------------------------------------------
    def _create_issue(self, request: FakeRequest, v: str) -> tuple[int, dict[str, Any]]:
        issue = self._new_issue(dict(self._body(request).get("fields") or {}), self.bot_account_id)
        return 201, {"id": issue.id, "key": issue.key, "self": self._issue_url(issue, v)}

    def _get_issue(self, request: FakeRequest, v: str, ref: str) -> dict[str, Any]:
        issue = self._find(ref)
        raw_fields = request.q_list("fields")
        wanted = _field_filter(raw_fields) if raw_fields else None
        return self._issue_json(issue, v, wanted, _split(request.q_list("expand")))

    def _edit_issue(self, request: FakeRequest, v: str, ref: str) -> FakeResponse:
        issue = self._find(ref)
        body = self._body(request)
        values = self._parse_or_400(dict(body.get("fields") or {}))
        op_values, new_comments = self._update_ops(issue, body.get("update") or {})
        self._apply(issue, {**values, **op_values}, self.bot_account_id)
        for text in new_comments:
            self._add_comment_to(issue, text, self.bot_account_id)
        return FakeResponse(204)

    def _list_transitions(self, request: FakeRequest, v: str, ref: str) -> dict[str, Any]:
        issue = self._find(ref)
        only = request.q("transitionId")
        available = [t for t in self._available(issue) if only is None or t.id == only]
        return {"expand": "transitions", "transitions": [self._transition_json(t, v) for t in available]}

    def _do_transition(self, request: FakeRequest, v: str, ref: str) -> FakeResponse:
        issue = self._find(ref)
        body = self._body(request)
        wanted = str((body.get("transition") or {}).get("id") or "")
        if not wanted:
            raise FakeError(400, "'transition' identifier must be specified.")
        transition = next((t for t in self._available(issue) if t.id == wanted), None)
        if transition is None:
            raise FakeError(400, f"Transition id '{wanted}' is not valid for this issue.")
        fields = {k: val for k, val in (body.get("fields") or {}).items() if k != "resolution"}
        values = self._parse_or_400(fields)
        op_values, new_comments = self._update_ops(issue, body.get("update") or {})
        self._move(issue, transition, self.bot_account_id)
        self._apply(issue, {**values, **op_values}, self.bot_account_id)
        for text in new_comments:
            self._add_comment_to(issue, text, self.bot_account_id)
        return FakeResponse(204)

    def _list_comments(self, request: FakeRequest, v: str, ref: str) -> dict[str, Any]:
        issue = self._find(ref)
        comments = sorted(issue.comments, key=lambda c: c.created, reverse=request.q("orderBy") == "-created")
        start, limit = int(request.q("startAt") or 0), int(request.q("maxResults") or 5000)
        page = [self._comment_json(issue, c, v) for c in comments[start : start + limit]]
        return {"startAt": start, "maxResults": limit, "total": len(comments), "comments": page}

    def _add_comment(self, request: FakeRequest, v: str, ref: str) -> tuple[int, dict[str, Any]]:
        issue = self._find(ref)
        comment = self._add_comment_to(issue, self._body(request).get("body"), self.bot_account_id)
        return 201, self._comment_json(issue, comment, v)

    def _get_changelog(self, request: FakeRequest, v: str, ref: str) -> dict[str, Any]:
        issue = self._find(ref)
        start, limit = int(request.q("startAt") or 0), int(request.q("maxResults") or 100)
        values = [self._history_json(h) for h in issue.histories[start : start + limit]]
        total = len(issue.histories)
        page = {"self": f"{self._issue_url(issue, v)}/changelog", "maxResults": limit, "startAt": start}
        return {**page, "total": total, "isLast": start + limit >= total, "values": values}

    def _create_link(self, request: FakeRequest, v: str) -> FakeResponse:
        body = self._body(request)
        wanted = body.get("type") or {}
        type_id = next(
            (i for i, (name, _, _) in self.link_types.items() if wanted.get("id") == i or wanted.get("name") == name),
            None,
        )
        if type_id is None:
            raise FakeError(404, f"No issue link type with name '{wanted.get('name')}' found.")
        inward = self._find(ref_of(body.get("inwardIssue")) or "")
        outward = self._find(ref_of(body.get("outwardIssue")) or "")
        self._link(type_id, inward, outward, self.bot_account_id)
        comment = (body.get("comment") or {}).get("body")
        if comment:
            self._add_comment_to(inward, comment, self.bot_account_id)
        return FakeResponse(201)

    # --- handlers: search ------------------------------------------------------------------------
    def _search(self, request: FakeRequest, v: str) -> dict[str, Any]:
        params = _search_params(request)
        query = self._compile(params["jql"])
        if query.where is None:
            raise FakeError(
                400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
            )
        hits = self._matching(query, {str(i) for i in params["reconcile"]})
        offset = self._decode_token(params["token"], params["jql"])
        only_ids = not [f for f in params["fields"] if f not in ("id", "")]
        limit = min(max(params["max"], 1), 5000 if only_ids else 100)
        page = hits[offset : offset + limit]
        wanted = _field_filter(params["fields"])
        expand = params["expand"]
        issues = [{"id": i.id} if only_ids else self._issue_json(i, v, wanted, expand) for i in page]
        result: dict[str, Any] = {"issues": issues, "isLast": offset + limit >= len(hits)}
        if not result["isLast"]:
            result["nextPageToken"] = self._encode_token(offset + limit, params["jql"])
        return result

    def _approximate_count(self, request: FakeRequest, v: str) -> dict[str, int]:
        query = self._compile(str(self._body(request).get("jql") or ""))
        return {"count": len(self._matching(query, set()))}

    def _compile(self, jql: str) -> Query:
        try:
            return compile_jql(jql, self._jql_context())
        except JqlError as error:
            raise FakeError(400, body={"errorMessages": [str(error)], "errors": {}, "warningMessages": []}) from None

    def _matching(self, query: Query, reconcile: set[str]) -> list[Issue]:
        now = self.now()
        visible = [i for i in self._issues.values() if now - i.updated >= self.search_lag or i.id in reconcile]
        hits = sorted((i for i in visible if query.matches(self._facts(i))), key=lambda i: int(i.id))
        for field_name, descending in reversed(query.order or [("created", True)]):
            hits.sort(key=lambda i, f=field_name: self._sort_value(i, f), reverse=descending)
        return hits

    def _encode_token(self, offset: int, jql: str) -> str:
        raw = json.dumps({"o": offset, "q": hashlib.sha1(jql.encode()).hexdigest()[:12]})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _decode_token(self, token: str | None, jql: str) -> int:
        if not token:
            return 0
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if data["q"] == hashlib.sha1(jql.encode()).hexdigest()[:12]:
                return int(data["o"])
        except (ValueError, KeyError, TypeError):
            pass
        raise FakeError(400, "The provided next page token is invalid or expired.")

    # --- helpers for tests and the sandbox (act as a human in Jira) ------------------------------
    def reset(self) -> None:
        """Forget every project, issue and request (and restart the clock), so one server can serve many tests."""
        with self.lock:
            self._init_state(*self._identity)
            self.requests.clear()
        self.clear_faults()
        self.notify()

    def add_project(self, key: str, name: str) -> dict[str, Any]:
        with self.lock:
            project = {"id": str(next(self._project_ids)), "key": key.upper(), "name": name, "counter": 0}
            self.projects[project["key"]] = project
        self.notify()
        return {k: project[k] for k in ("id", "key", "name")}

    def add_issue_type(self, name: str, *, subtask: bool = False) -> None:
        with self.lock:
            self.issue_types.setdefault(name, str(10001 + len(self.issue_types)))
            if subtask:
                self.subtask_types.add(name)

    def add_link_type(self, name: str, inward: str, outward: str) -> None:
        with self.lock:
            self.link_types[str(10000 + len(self.link_types))] = (name, inward, outward)

    def create_issue_as_human(
        self, project: str, summary: str, *, author: str = "Human", issuetype: str = "Task", **fields: Any
    ) -> dict[str, Any]:
        """Fields as the API takes them; `priority="High"` and plain strings for names are accepted too."""
        if isinstance(fields.get("priority"), str):
            fields["priority"] = {"name": fields["priority"]}
        if isinstance(fields.get(SEVERITY_FIELD), str):
            fields[SEVERITY_FIELD] = {"value": fields[SEVERITY_FIELD]}
        with self.lock:
            api_fields = {"project": {"key": project}, "issuetype": {"name": issuetype}, "summary": summary, **fields}
            issue = self._new_issue(api_fields, self._user(author))
            result = self._issue_json(issue, "2", expand={"changelog"})
        self.notify()
        return result

    def transition_as_human(self, key: str, to_status: str, author: str = "Human") -> dict[str, Any]:
        with self.lock:
            issue = self._require(key)
            transition = next((t for t in self._available(issue) if t.to.lower() == to_status.lower()), None)
            if transition is None:
                raise ValueError(f"{key} is {issue.status}; no transition to {to_status!r} is available")
            self._move(issue, transition, self._user(author))
            result = self._issue_json(issue, "2", expand={"changelog"})
        self.notify()
        return result

    def set_priority_as_human(self, key: str, priority_name: str, author: str = "Human") -> dict[str, Any]:
        return self.update_as_human(key, author=author, priority={"name": priority_name})

    def update_as_human(self, key: str, *, author: str = "Human", **fields: Any) -> dict[str, Any]:
        """Edit fields as a person would (API field shapes), recording a changelog entry."""
        with self.lock:
            issue = self._require(key)
            values, errors = self._parse_fields(fields)
            if errors:
                raise ValueError(errors)
            self._apply(issue, values, self._user(author))
            result = self._issue_json(issue, "2", expand={"changelog"})
        self.notify()
        return result

    def comment_as_human(self, key: str, body: str, author: str = "Human") -> dict[str, Any]:
        with self.lock:
            issue = self._require(key)
            comment = self._add_comment_to(issue, body, self._user(author))
            result = self._comment_json(issue, comment, "2")
        self.notify()
        return result

    def issue(self, key: str) -> dict[str, Any]:
        """The issue as REST v2 renders it, with its changelog."""
        with self.lock:
            return self._issue_json(self._require(key), "2", expand={"changelog"})

    def issues(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self._issue_json(i, "2", expand={"changelog"}) for i in self._issues.values()]

    def comments(self, key: str) -> list[dict[str, Any]]:
        with self.lock:
            issue = self._require(key)
            return [self._comment_json(issue, c, "2") for c in issue.comments]

    def subtasks(self, key: str) -> list[dict[str, Any]]:
        """The sub-tasks of an issue as REST v2 renders them, oldest first."""
        with self.lock:
            parent = self._require(key)
            return [self._issue_json(i, "2") for i in self._issues.values() if i.parent == parent.id]

    def links(self) -> list[dict[str, str]]:
        """Every issue link as {"type", "inward", "outward"} with issue keys."""
        with self.lock:
            return [
                {
                    "type": self.link_types[link["type"]][0],
                    "inward": self._issues[link["inward"]].key,
                    "outward": self._issues[link["outward"]].key,
                }
                for link in self._links
            ]

    def rate_limit(
        self, path: str = r"/rest/api/", *, retry_after: int = 1, reason: str = "jira-burst-based", times: int = 1
    ) -> Any:
        """Answer the next matching request(s) with Jira's 429 and its rate-limit headers."""
        reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now() + retry_after))
        headers = {"RateLimit-Reason": reason, "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
        headers["X-RateLimit-Reset"] = reset
        return self.inject_fault(path, 429, retry_after=retry_after, headers=headers, times=times)


def _split(values: list[str]) -> set[str]:
    return {part.strip() for value in values for part in str(value).split(",") if part.strip()}


def _field_filter(names: list[str]) -> Callable[[str], bool]:
    wanted = _split(names)
    include_all = bool(wanted & {"*all", "*navigable"})
    excluded = {name[1:] for name in wanted if name.startswith("-")}
    return lambda name: name not in excluded and (include_all or name in wanted)


def _search_params(request: FakeRequest) -> dict[str, Any]:
    """The search/jql parameters from a GET query or a POST body, normalised."""
    if request.method == "GET":
        raw: dict[str, Any] = {
            "jql": request.q("jql", ""),
            "nextPageToken": request.q("nextPageToken"),
            "maxResults": request.q("maxResults"),
            "fields": request.q_list("fields"),
            "expand": request.q_list("expand"),
            "reconcileIssues": request.q_list("reconcileIssues"),
        }
    else:
        raw = JiraFake._body(request)
    fields = raw.get("fields") or []
    expand = raw.get("expand") or []
    try:
        max_results = int(raw.get("maxResults") or 50)
    except (TypeError, ValueError):
        raise FakeError(400, "The value for 'maxResults' must be a number.") from None
    return {
        "jql": str(raw.get("jql") or ""),
        "token": raw.get("nextPageToken"),
        "max": max_results,
        "fields": [fields] if isinstance(fields, str) else [str(f) for f in fields],
        "expand": _split([expand] if isinstance(expand, str) else list(expand)),
        "reconcile": _split([str(i) for i in raw.get("reconcileIssues") or []]),
    }
