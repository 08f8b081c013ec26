"""A loopback fake of the GitHub REST API (repos, issues, comments, labels) at `/api/v3`, spoken to by PyGithub.

PyGithub keeps only the path and query of URLs the server returns, so every API URL in a response (and in
`Link` headers) carries the same `/api/v3` prefix and host as the client's base URL. Rate-limit headers go
out on every response; a primary hourly limit and an optional secondary content-creation limit are enforced.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.fakes.base import FakeError, FakeRequest, FakeResponse, FakeService, iso

DOCS = "https://docs.github.com/rest"
HTML_ROOT = "https://github.sandbox"
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
    "Please retry your request again later."
)
REASONS = {
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    422: "Validation Failed",
    429: SECONDARY_LIMIT_MESSAGE,
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
STATE_REASONS = (None, "completed", "not_planned", "reopened", "duplicate")
REPO = r"/api/v3/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


def _error(status: int, message: str, docs: str = DOCS, **extra: Any) -> FakeError:
    return FakeError(
        status, message, body={"message": message, "documentation_url": docs, "status": str(status), **extra}
    )


def _validation_failed(resource: str, field: str, code: str = "invalid") -> FakeError:
    return _error(422, "Validation Failed", errors=[{"resource": resource, "code": code, "field": field}])


class GitHubFake(FakeService):
    name = "github"
    scheme_path = "/api/v3"

    def __init__(
        self,
        token: str = "ghp_sandbox",
        *,
        login: str = "switchboard-bot",
        create_limit_per_minute: int | None = None,
        rate_limit_per_hour: int = 5000,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: Any = None,
    ):
        self.token = token
        self.login = login
        self.create_limit_per_minute = create_limit_per_minute
        self.rate_limit_per_hour = rate_limit_per_hour
        super().__init__(host, port, ssl_context)
        self.reset()

    def reset(self) -> None:
        """Forget every repo, request, fault, rate-limit count and clock offset."""
        with self.lock:
            self._clock_offset = 0.0
            self._users: dict[str, dict[str, Any]] = {}
            self._repos: dict[str, dict[str, Any]] = {}
            self._ids = itertools.count(1_000_001)
            self._creations: deque[float] = deque()  # content-creating requests, for the secondary limit
            self._used = 0
            self._window_reset = int(self.now()) + 3600
            self._user(self.login)
        self.reset_requests()
        self.clear_faults()
        self.notify()

    # --- routes, auth and limits -----------------------------------------------------------------
    def setup_routes(self) -> None:
        routes = [
            ("GET", r"/api/v3/user", self._get_authenticated_user, False),
            ("GET", r"/api/v3/rate_limit", self._get_rate_limit, False),
            ("GET", r"/api/v3/search/issues", self._search_issues, False),
            ("GET", REPO, self._get_repo, False),
            ("GET", REPO + r"/issues", self._list_issues, False),
            ("POST", REPO + r"/issues", self._create_issue, True),
            ("GET", REPO + r"/issues/(?P<number>\d+)", self._get_issue, False),
            ("PATCH", REPO + r"/issues/(?P<number>\d+)", self._edit_issue, False),
            ("GET", REPO + r"/issues/(?P<number>\d+)/comments", self._list_comments, False),
            ("POST", REPO + r"/issues/(?P<number>\d+)/comments", self._create_comment, True),
            ("GET", REPO + r"/labels", self._list_labels, False),
            ("POST", REPO + r"/labels", self._create_label, True),
            ("GET", REPO + r"/labels/(?P<label>[^/]+)", self._get_label, False),
        ]
        for method, pattern, handler, creates in routes:
            self.add_route(method, pattern, self._guarded(handler, creates))

    def _guarded(self, handler: Any, creates: bool) -> Any:
        def guarded(request: FakeRequest, **groups: str) -> Any:
            self._authenticate(request)
            if not request.path.endswith("/rate_limit"):  # GET /rate_limit is free
                self._count_request()
            if creates:
                self._check_secondary_limit()
            return handler(request, **groups)

        return guarded

    def _authenticate(self, request: FakeRequest) -> None:
        header = request.header("authorization")
        if not header:
            raise _error(401, "Requires authentication")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or credential != self.token:
            raise _error(401, "Bad credentials")

    def _roll_window(self) -> None:
        if self.now() >= self._window_reset:
            self._used, self._window_reset = 0, int(self.now()) + 3600

    def _count_request(self) -> None:
        self._roll_window()
        if self._used >= self.rate_limit_per_hour:
            user_id = self._users[self.login.lower()]["id"]
            raise _error(403, f"API rate limit exceeded for user ID {user_id}.", f"{DOCS}#about-primary-rate-limits")
        self._used += 1

    def _check_secondary_limit(self) -> None:
        if self.create_limit_per_minute is None:
            return
        now = self.now()
        while self._creations and self._creations[0] <= now - 60:
            self._creations.popleft()
        if len(self._creations) >= self.create_limit_per_minute:
            error = _error(403, SECONDARY_LIMIT_MESSAGE, f"{DOCS}#about-secondary-rate-limits")
            error.headers["retry-after"] = "60"
            raise error
        self._creations.append(now)

    def _rate(self) -> dict[str, int]:
        self._roll_window()
        remaining = max(0, self.rate_limit_per_hour - self._used)
        return {
            "limit": self.rate_limit_per_hour,
            "remaining": remaining,
            "used": self._used,
            "reset": self._window_reset,
        }

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        response = super().handle(request)
        if response is not None:
            with self.lock:
                rate = self._rate()
            for key, value in rate.items():
                response.headers.setdefault(f"x-ratelimit-{key}", str(value))
            response.headers.setdefault("x-ratelimit-resource", "core")  # search is counted as core here too
            response.headers.setdefault("x-github-media-type", "github.v3; format=json")
            response.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        return response

    def error_body(self, status: int, message: str = "") -> Any:
        body = {"message": REASONS.get(status, message or f"HTTP {status}"), "documentation_url": DOCS}
        if message and message != body["message"]:
            body["detail"] = message  # the fake's own note, e.g. which route is not emulated
        return {**body, "status": str(status)}

    # --- rendering -------------------------------------------------------------------------------
    def _api(self, path: str) -> str:
        origin = self.origin if self._server is not None else f"http://{self.host}"
        return f"{origin}{self.scheme_path}{path}"

    def _user(self, login: str) -> dict[str, Any]:
        return self._users.setdefault(login.lower(), {"login": login, "id": next(self._ids)})

    def _user_json(self, login: str) -> dict[str, Any]:
        user = self._user(login)
        return {
            "login": user["login"],
            "id": user["id"],
            "node_id": f"U_kgDO{user['id']}",
            "avatar_url": f"{HTML_ROOT}/{user['login']}.png",
            "gravatar_id": "",
            "url": self._api(f"/users/{user['login']}"),
            "html_url": f"{HTML_ROOT}/{user['login']}",
            "type": "User",
            "site_admin": False,
        }

    def _repo_json(self, repo: dict[str, Any]) -> dict[str, Any]:
        full = repo["full_name"]
        api = self._api(f"/repos/{full}")
        open_count = sum(1 for i in repo["issues"].values() if i["state"] == "open")
        return {
            "id": repo["id"],
            "node_id": f"R_kgDO{repo['id']}",
            "name": repo["name"],
            "full_name": full,
            "private": repo["private"],
            "visibility": "private" if repo["private"] else "public",
            "owner": self._user_json(repo["owner"]),
            "html_url": f"{HTML_ROOT}/{full}",
            "description": None,
            "fork": False,
            "url": api,
            "issues_url": api + "/issues{/number}",
            "issue_comment_url": api + "/issues/comments{/number}",
            "labels_url": api + "/labels{/name}",
            "pulls_url": api + "/pulls{/number}",
            "created_at": iso(repo["created_ts"]),
            "updated_at": iso(repo["created_ts"]),
            "pushed_at": iso(repo["created_ts"]),
            "has_issues": repo["has_issues"],
            "archived": False,
            "disabled": False,
            "open_issues_count": open_count,
            "open_issues": open_count,
            "default_branch": "main",
            "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
        }

    def _label_json(self, repo: dict[str, Any], label: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": label["id"],
            "node_id": f"LA_kwDO{label['id']}",
            "url": self._api(f"/repos/{repo['full_name']}/labels/{quote(label['name'])}"),
            "name": label["name"],
            "color": label["color"],
            "default": False,
            "description": label["description"],
        }

    def _association(self, repo: dict[str, Any], login: str) -> str:
        return "OWNER" if login.lower() in (repo["owner"].lower(), self.login.lower()) else "NONE"

    def _issue_json(self, repo: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
        full, number = repo["full_name"], issue["number"]
        api = self._api(f"/repos/{full}/issues/{number}")
        kind = "pull" if issue["pull_request"] else "issues"
        assignees = [self._user_json(login) for login in issue["assignees"]]
        data = {
            "url": api,
            "repository_url": self._api(f"/repos/{full}"),
            "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments",
            "events_url": api + "/events",
            "timeline_url": api + "/timeline",
            "html_url": f"{HTML_ROOT}/{full}/{kind}/{number}",
            "id": issue["id"],
            "node_id": f"{'PR' if issue['pull_request'] else 'I'}_kwDO{issue['id']}",
            "number": number,
            "title": issue["title"],
            "user": self._user_json(issue["user"]),
            "labels": [self._label_json(repo, repo["labels"][name.lower()]) for name in issue["labels"]],
            "state": issue["state"],
            "state_reason": issue["state_reason"],
            "locked": False,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": None,
            "comments": len(issue["comments"]),
            "created_at": iso(issue["created_ts"]),
            "updated_at": iso(issue["updated_ts"]),
            "closed_at": iso(issue["closed_ts"]) if issue["closed_ts"] else None,
            "closed_by": self._user_json(issue["closed_by"]) if issue["closed_by"] else None,
            "author_association": self._association(repo, issue["user"]),
            "active_lock_reason": None,
            "body": issue["body"],
            "performed_via_github_app": None,
        }
        if issue["pull_request"]:
            pull = f"{HTML_ROOT}/{full}/pull/{number}"
            data["pull_request"] = {
                "url": self._api(f"/repos/{full}/pulls/{number}"),
                "html_url": pull,
                "diff_url": pull + ".diff",
                "patch_url": pull + ".patch",
                "merged_at": None,
            }
        return data

    def _comment_json(self, repo: dict[str, Any], issue: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
        full = repo["full_name"]
        return {
            "id": comment["id"],
            "node_id": f"IC_kwDO{comment['id']}",
            "url": self._api(f"/repos/{full}/issues/comments/{comment['id']}"),
            "html_url": f"{HTML_ROOT}/{full}/issues/{issue['number']}#issuecomment-{comment['id']}",
            "issue_url": self._api(f"/repos/{full}/issues/{issue['number']}"),
            "body": comment["body"],
            "user": self._user_json(comment["user"]),
            "created_at": iso(comment["created_ts"]),
            "updated_at": iso(comment["created_ts"]),
            "author_association": self._association(repo, comment["user"]),
            "performed_via_github_app": None,
        }

    def _paged(self, request: FakeRequest, items: list[Any]) -> FakeResponse:
        """One page of a list with GitHub's `Link` header (next/last/first/prev), URLs under /api/v3."""
        per_page = max(1, min(int(request.q("per_page", "30")), 100))
        page = max(1, int(request.q("page", "1")))
        last = max(1, -(-len(items) // per_page))
        params = {k: v[0] for k, v in request.query.items()}

        def link(number: int, rel: str) -> str:
            query = urlencode({**params, "per_page": per_page, "page": number})
            return f'<{self.origin}{request.path}?{query}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        headers = {"Link": ", ".join(links)} if links else {}
        return FakeResponse(200, items[(page - 1) * per_page : page * per_page], headers)

    # --- handlers --------------------------------------------------------------------------------
    def _repo(self, owner: str, name: str) -> dict[str, Any]:
        repo = self._repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise _error(404, "Not Found", f"{DOCS}/repos/repos#get-a-repository")
        return repo

    def _issue(self, repo: dict[str, Any], number: Any) -> dict[str, Any]:
        issue = repo["issues"].get(int(number))
        if issue is None:
            raise _error(404, "Not Found", f"{DOCS}/issues/issues#get-an-issue")
        return issue

    def _get_authenticated_user(self, request: FakeRequest) -> dict[str, Any]:
        return {**self._user_json(self.login), "name": "Switchboard", "email": None, "public_repos": 0}

    def _get_rate_limit(self, request: FakeRequest) -> dict[str, Any]:
        core = {**self._rate(), "resource": "core"}
        search = {"limit": 30, "remaining": 30, "used": 0, "reset": int(self.now()) + 60, "resource": "search"}
        return {"resources": {"core": core, "search": search}, "rate": core}

    def _get_repo(self, request: FakeRequest, owner: str, name: str) -> dict[str, Any]:
        return self._repo_json(self._repo(owner, name))

    def _list_issues(self, request: FakeRequest, owner: str, name: str) -> FakeResponse:
        repo = self._repo(owner, name)
        state = request.q("state", "open")
        if state not in ("open", "closed", "all"):
            raise _validation_failed("Issue", "state")
        wanted_labels = {label.strip().lower() for label in (request.q("labels") or "").split(",") if label.strip()}
        issues = [
            issue
            for issue in repo["issues"].values()
            if state in ("all", issue["state"]) and wanted_labels <= {label.lower() for label in issue["labels"]}
        ]
        sort_key = {"updated": "updated_ts", "comments": "comments"}.get(request.q("sort", "created"), "created_ts")
        issues.sort(
            key=lambda i: len(i["comments"]) if sort_key == "comments" else i[sort_key],
            reverse=request.q("direction", "desc") == "desc",
        )
        return self._paged(request, [self._issue_json(repo, issue) for issue in issues])

    def _label_names(self, repo: dict[str, Any], labels: Any) -> list[str]:
        """Label names for an issue; unknown labels are created like GitHub does."""
        if not isinstance(labels, list):
            raise _validation_failed("Issue", "labels")
        names = []
        for label in labels:
            label_name = str(label.get("name") if isinstance(label, dict) else label)
            names.append(self._ensure_label(repo, label_name)["name"])
        return names

    def _ensure_label(
        self, repo: dict[str, Any], label_name: str, color: str = "ededed", description: Any = None
    ) -> dict[str, Any]:
        if label_name.lower() not in repo["labels"]:
            label = {"id": next(self._ids), "name": label_name, "color": color, "description": description}
            repo["labels"][label_name.lower()] = label
        return repo["labels"][label_name.lower()]

    def _new_issue(self, repo: dict[str, Any], title: str, body: Any, user: str, pull_request: bool) -> dict[str, Any]:
        ts = self.now()
        number = len(repo["issues"]) + 1  # issues and pull requests share one numbering
        issue = {"id": next(self._ids), "number": number, "title": title, "body": body, "user": user}
        issue.update(labels=[], assignees=[], comments=[], state="open", state_reason=None, closed_by=None)
        issue.update(created_ts=ts, updated_ts=ts, closed_ts=None, pull_request=pull_request)
        repo["issues"][number] = issue
        return issue

    def _create_issue(self, request: FakeRequest, owner: str, name: str) -> FakeResponse:
        repo = self._repo(owner, name)
        if not repo["has_issues"]:
            raise _error(410, "Issues are disabled for this repo", f"{DOCS}/issues/issues#create-an-issue")
        fields = request.json if isinstance(request.json, dict) else {}
        title = fields.get("title")
        if title in (None, "") or not isinstance(title, str | int):
            raise _error(422, 'Invalid request.\n\n"title" wasn\'t supplied.', f"{DOCS}/issues/issues#create-an-issue")
        labels = self._label_names(repo, fields.get("labels") or [])
        assignees = list(fields.get("assignees") or ([fields["assignee"]] if fields.get("assignee") else []))
        issue = self._new_issue(repo, str(title), fields.get("body"), self.login, pull_request=False)
        issue.update(labels=labels, assignees=[self._user(login)["login"] for login in assignees])
        data = self._issue_json(repo, issue)
        return FakeResponse(201, data, {"Location": data["url"]})

    def _get_issue(self, request: FakeRequest, owner: str, name: str, number: str) -> dict[str, Any]:
        repo = self._repo(owner, name)
        return self._issue_json(repo, self._issue(repo, number))

    def _edit_issue(self, request: FakeRequest, owner: str, name: str, number: str) -> dict[str, Any]:
        repo = self._repo(owner, name)
        issue = self._issue(repo, number)
        fields = request.json if isinstance(request.json, dict) else {}
        state, reason = fields.get("state", issue["state"]), fields.get("state_reason")
        if state not in ("open", "closed"):
            raise _validation_failed("Issue", "state")
        if reason not in STATE_REASONS:
            raise _validation_failed("Issue", "state_reason")
        for key in ("title", "body"):
            if key in fields:
                issue[key] = fields[key]
        if "labels" in fields:
            issue["labels"] = self._label_names(repo, fields["labels"] or [])
        if "assignees" in fields:
            issue["assignees"] = [self._user(login)["login"] for login in fields["assignees"] or []]
        self._set_state(issue, state, reason, self.login)
        return self._issue_json(repo, issue)

    def _set_state(self, issue: dict[str, Any], state: str, reason: str | None, actor: str) -> None:
        now = self.now()
        if state == "closed" and issue["state"] == "open":
            issue.update(closed_ts=now, closed_by=actor, state_reason=reason or "completed")
        elif state == "open" and issue["state"] == "closed":
            issue.update(closed_ts=None, closed_by=None, state_reason="reopened")
        elif reason is not None:
            issue["state_reason"] = reason
        issue.update(state=state, updated_ts=now)

    def _list_comments(self, request: FakeRequest, owner: str, name: str, number: str) -> FakeResponse:
        repo = self._repo(owner, name)
        issue = self._issue(repo, number)
        since = request.q("since")
        comments = [c for c in issue["comments"] if since is None or iso(c["created_ts"]) >= since]
        return self._paged(request, [self._comment_json(repo, issue, c) for c in comments])

    def _add_comment(self, repo: dict[str, Any], issue: dict[str, Any], body: str, user: str) -> dict[str, Any]:
        comment = {"id": next(self._ids), "body": body, "user": self._user(user)["login"], "created_ts": self.now()}
        issue["comments"].append(comment)
        issue["updated_ts"] = comment["created_ts"]
        return self._comment_json(repo, issue, comment)

    def _create_comment(self, request: FakeRequest, owner: str, name: str, number: str) -> FakeResponse:
        repo = self._repo(owner, name)
        issue = self._issue(repo, number)
        body = (request.json or {}).get("body") if isinstance(request.json, dict) else None
        if not isinstance(body, str) or not body:
            docs = f"{DOCS}/issues/comments#create-an-issue-comment"
            raise _error(422, 'Invalid request.\n\n"body" wasn\'t supplied.', docs)
        data = self._add_comment(repo, issue, body, self.login)
        return FakeResponse(201, data, {"Location": data["url"]})

    def _list_labels(self, request: FakeRequest, owner: str, name: str) -> FakeResponse:
        repo = self._repo(owner, name)
        return self._paged(request, [self._label_json(repo, label) for label in repo["labels"].values()])

    def _get_label(self, request: FakeRequest, owner: str, name: str, label: str) -> dict[str, Any]:
        repo = self._repo(owner, name)
        found = repo["labels"].get(label.lower())
        if found is None:
            raise _error(404, "Not Found", f"{DOCS}/issues/labels#get-a-label")
        return self._label_json(repo, found)

    def _create_label(self, request: FakeRequest, owner: str, name: str) -> tuple[int, dict[str, Any]]:
        repo = self._repo(owner, name)
        fields = request.json if isinstance(request.json, dict) else {}
        label_name = fields.get("name")
        if not label_name:
            raise _validation_failed("Label", "name", "missing_field")
        if label_name.lower() in repo["labels"]:
            raise _validation_failed("Label", "name", "already_exists")
        label = self._ensure_label(repo, label_name, fields.get("color", "ededed"), fields.get("description"))
        return 201, self._label_json(repo, label)

    def _search_issues(self, request: FakeRequest) -> FakeResponse:
        """Enough of `q` for dedupe: repo:, is:/type: issue|pr|open|closed, state:, label:, in:title, words."""
        terms = re.findall(r'(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)', request.q("q") or "")
        filters: dict[str, list[str]] = {}
        words: list[str] = []
        for key, value, phrase, word in terms:
            if key:
                filters.setdefault(key.lower(), []).append(value.strip('"').lower())
            else:
                words.append((phrase or word).lower())
        found = []
        for repo in self._repos.values():
            if "repo" in filters and repo["full_name"].lower() not in filters["repo"]:
                continue
            found += [self._issue_json(repo, i) for i in repo["issues"].values() if self._hit(i, filters, words)]
        found.sort(key=lambda item: item["created_at"], reverse=True)
        page = self._paged(request, found)
        page.body = {"total_count": len(found), "incomplete_results": False, "items": page.body}
        return page

    @staticmethod
    def _hit(issue: dict[str, Any], filters: dict[str, list[str]], words: list[str]) -> bool:
        kinds = set(filters.get("is", []) + filters.get("type", []) + filters.get("state", []))
        if {"issue", "pr"} & kinds and ("pr" if issue["pull_request"] else "issue") not in kinds:
            return False
        if {"open", "closed"} & kinds and issue["state"] not in kinds:
            return False
        if not set(filters.get("label", [])) <= {label.lower() for label in issue["labels"]}:
            return False
        text = issue["title"] if filters.get("in") == ["title"] else f"{issue['title']} {issue['body'] or ''}"
        return all(word in text.lower() for word in words)

    # --- helpers for tests and the sandbox -------------------------------------------------------
    def _known_repo(self, full_name: str) -> dict[str, Any]:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            raise KeyError(f"no repo {full_name} in the GitHub fake")
        return repo

    def add_repo(self, full_name: str, *, private: bool = False, has_issues: bool = True) -> dict[str, Any]:
        owner, name = full_name.split("/")
        with self.lock:
            repo = {"id": next(self._ids), "owner": self._user(owner)["login"], "name": name, "full_name": full_name}
            repo.update(private=private, has_issues=has_issues, created_ts=self.now(), issues={}, labels={})
            self._repos[full_name.lower()] = repo
            data = self._repo_json(repo)
        self.notify()
        return data

    def set_has_issues(self, repo: str, enabled: bool) -> None:
        with self.lock:
            self._known_repo(repo)["has_issues"] = enabled
        self.notify()

    def add_issue(
        self, repo: str, title: str, body: str = "", *, state: str = "open", labels: Any = (), user: str = "octocat"
    ) -> dict[str, Any]:
        """A human opened an issue (closed right away when state="closed")."""
        with self.lock:
            known = self._known_repo(repo)
            issue = self._new_issue(known, title, body, user, pull_request=False)
            issue["labels"] = [self._ensure_label(known, label)["name"] for label in labels]
            if state == "closed":
                self._set_state(issue, "closed", "completed", user)
            data = self._issue_json(known, issue)
        self.notify()
        return data

    def add_pull_request(self, repo: str, title: str, *, body: str = "", user: str = "octocat") -> dict[str, Any]:
        """A human opened a pull request; it shows up in the issues list with a `pull_request` key."""
        with self.lock:
            known = self._known_repo(repo)
            data = self._issue_json(known, self._new_issue(known, title, body, user, pull_request=True))
        self.notify()
        return data

    def add_comment(self, repo: str, number: int, body: str, *, user: str = "octocat") -> dict[str, Any]:
        with self.lock:
            known = self._known_repo(repo)
            data = self._add_comment(known, known["issues"][number], body, user)
        self.notify()
        return data

    def close_issue(
        self, repo: str, number: int, *, user: str = "octocat", state_reason: str = "completed"
    ) -> dict[str, Any]:
        with self.lock:
            known = self._known_repo(repo)
            issue = known["issues"][number]
            self._set_state(issue, "closed", state_reason, self._user(user)["login"])
            data = self._issue_json(known, issue)
        self.notify()
        return data

    def issues(self, repo: str, state: str = "all") -> list[dict[str, Any]]:
        """Issues and pull requests, oldest first, as the API renders them."""
        with self.lock:
            known = self._known_repo(repo)
            return [self._issue_json(known, i) for i in known["issues"].values() if state in ("all", i["state"])]

    def issue(self, repo: str, number: int) -> dict[str, Any] | None:
        with self.lock:
            known = self._known_repo(repo)
            issue = known["issues"].get(number)
            return self._issue_json(known, issue) if issue else None

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            known = self._known_repo(repo)
            issue = known["issues"][number]
            return [self._comment_json(known, issue, c) for c in issue["comments"]]

    def labels(self, repo: str) -> list[dict[str, Any]]:
        with self.lock:
            known = self._known_repo(repo)
            return [self._label_json(known, label) for label in known["labels"].values()]
