"""The GitHub audit trail: title dedupe, issue creation that is never doubled, close, comments, and pacing.

Creating an issue or a comment is not idempotent, and a request can fail after GitHub acted on it (a timeout,
a 502). So every create first records an attempt; a retry of an attempt with an unknown outcome looks for the
earlier result (an issue with that title numbered above the newest issue seen before the first try, or a comment
with that exact body) before writing again. GitHub's content-creation limits (80/min, 500/h) are kept with
a persistent count, well below them by default.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.clients.github import Github, GithubException, build_github
from bot.outbox import RetryLater
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

SECONDARY_LIMIT_WAIT = 60.0  # GitHub's advice when a secondary limit hits without Retry-After


class GitHubRejected(Exception):
    """GitHub refused for good (404, 410, 422, 401, a 403 that is not a rate limit): retrying cannot help."""

    def __init__(self, status: int, message: str):
        super().__init__(f"GitHub answered {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class IssueRef:
    number: int
    url: str
    state: str = "open"


def _message(error: GithubException) -> str:
    data = error.data if isinstance(error.data, dict) else {}
    return str(data.get("message") or error.message or error.status)


def classify(error: GithubException) -> Exception:
    """What a GitHub error means for the outbox: wait (rate limit), retry with backoff (5xx) or give up."""
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    text = _message(error)
    limited = error.status == 429 or (
        error.status == 403 and ("rate limit" in text.lower() or "retry-after" in headers)
    )
    if limited:
        if headers.get("retry-after"):
            return RetryLater(f"GitHub rate limit: {text}", float(headers["retry-after"]))
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            return RetryLater(f"GitHub rate limit: {text}", max(float(headers["x-ratelimit-reset"]) - time.time(), 1))
        return RetryLater(f"GitHub rate limit: {text}", SECONDARY_LIMIT_WAIT)
    if error.status >= 500:
        return error
    return GitHubRejected(error.status, text)


class CreationPacer:
    """Spaces GitHub content creation (issues, comments) under per-minute and per-hour budgets, across restarts."""

    def __init__(self, store: Store, per_minute: int, per_hour: int):
        self.store = store
        self.per_minute = per_minute
        self.per_hour = per_hour

    def reserve(self, now: float | None = None) -> None:
        """Count one creation now, or raise RetryLater with the wait until the budget has room."""
        now = time.time() if now is None else now
        with self.store.write() as db:
            db.conn.execute("DELETE FROM dispatch_github_creations WHERE at <= ?", [now - 3600])
            recent = [r[0] for r in db.conn.execute("SELECT at FROM dispatch_github_creations ORDER BY at").fetchall()]
            last_minute = [at for at in recent if at > now - 60]
            if len(last_minute) >= self.per_minute:
                wait = last_minute[len(last_minute) - self.per_minute] + 60 - now
                raise RetryLater(f"pacing GitHub content creation ({self.per_minute}/min)", max(wait, 0.5))
            if len(recent) >= self.per_hour:
                wait = recent[len(recent) - self.per_hour] + 3600 - now
                raise RetryLater(f"pacing GitHub content creation ({self.per_hour}/h)", max(wait, 0.5))
            db.conn.execute("INSERT INTO dispatch_github_creations (at) VALUES (?)", [now])


class GitHubAudit:
    def __init__(self, settings: Settings, pacer: CreationPacer):
        self.settings = settings
        self.pacer = pacer
        self._client: Github | None = None
        self.calls = 0  # requests made, for the bench figures

    @property
    def client(self) -> Github:
        if self._client is None:
            self._client = build_github(self.settings)
        return self._client

    def _request(self, verb: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One raw request (the issue list must be read as JSON: PyGithub would fetch each issue again to learn
        whether it is a pull request)."""
        self.calls += 1
        try:
            headers, data = self.client.requester.requestJsonAndCheck(verb, path, parameters=params, input=body)
        except GithubException as error:
            mapped = classify(error)
            if mapped is error:
                raise
            raise mapped from error
        return headers, data

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = path
        query: dict[str, Any] | None = {**params, "per_page": 100}
        while url:
            headers, items = self._request("GET", url, query)
            yield from items
            url, query = _next_link(headers.get("link") or headers.get("Link") or ""), None

    def find_by_title(self, repo: str, title: str, retrigger: bool) -> IssueRef | None:
        """The issue with exactly this title: among open issues (retrigger) or all of them; pull requests excluded."""
        for item in self._pages(f"/repos/{repo}/issues", {"state": "open" if retrigger else "all"}):
            if "pull_request" not in item and item.get("title") == title:
                return IssueRef(int(item["number"]), str(item["html_url"]), str(item.get("state", "open")))
        return None

    def newest_number(self, repo: str) -> int:
        """The highest issue or pull request number so far (they share one sequence): 0 for an empty repo."""
        _, items = self._request("GET", f"/repos/{repo}/issues", {"state": "all", "per_page": 1})
        return int(items[0]["number"]) if items else 0

    def find_created_after(self, repo: str, title: str, floor: int) -> IssueRef | None:
        """An issue with this title numbered above `floor`: what an earlier, interrupted create made."""
        for item in self._pages(f"/repos/{repo}/issues", {"state": "all", "sort": "created", "direction": "desc"}):
            if int(item["number"]) <= floor:
                return None
            if "pull_request" not in item and item.get("title") == title:
                return IssueRef(int(item["number"]), str(item["html_url"]), str(item.get("state", "open")))
        return None

    def create_issue(self, repo: str, title: str, body: str, labels: tuple[str, ...]) -> IssueRef:
        """Not idempotent: the caller reserves a creation with the pacer and journals the attempt first."""
        fields: dict[str, Any] = {"title": title, "body": body}
        if labels:
            fields["labels"] = list(labels)
        _, data = self._request("POST", f"/repos/{repo}/issues", body=fields)
        return IssueRef(int(data["number"]), str(data["html_url"]))

    def close_issue(self, repo: str, number: int) -> None:
        """Idempotent: closing a closed issue changes nothing."""
        self._request("PATCH", f"/repos/{repo}/issues/{number}", body={"state": "closed", "state_reason": "completed"})

    def has_comment(self, repo: str, number: int, body: str) -> bool:
        return any(c.get("body") == body for c in self._pages(f"/repos/{repo}/issues/{number}/comments", {}))

    def comment(self, repo: str, number: int, body: str) -> None:
        """Not idempotent: the caller reserves a creation with the pacer and journals the attempt first."""
        self._request("POST", f"/repos/{repo}/issues/{number}/comments", body={"body": body})


def _next_link(header: str) -> str | None:
    """The rel="next" URL of a GitHub Link header."""
    for part in header.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None
