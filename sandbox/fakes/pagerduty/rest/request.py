"""How the REST API reads a request: time zone and includes, times, integers, classic pagination, body fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fakes.base import FakeRequest
from sandbox.fakes.pagerduty.errors import pd_error
from sandbox.fakes.pagerduty.model import DAY, parse_time
from sandbox.fakes.pagerduty.render import View

MAX_OFFSET = 10000  # classic pagination ceiling: offset + limit


def view_of(request: FakeRequest) -> View:
    name = request.q("time_zone")
    tz: tzinfo | None = None
    if name and name != "UTC":
        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise pd_error("Time zone is not a valid time zone") from None
    return View(tz, frozenset(request.q_list("include")))


def time_param(request: FakeRequest, name: str, view: View) -> float | None:
    value = request.q(name)
    if not value:
        return None
    try:
        return parse_time(value, view.tz)
    except ValueError:
        raise pd_error(f"{name.capitalize()} is not a valid date", code=2004) from None


def int_param(request: FakeRequest, name: str, default: int) -> int:
    value = request.q(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise pd_error(f"{name} must be an integer") from None


def window(request: FakeRequest, view: View, now: float) -> tuple[float, float]:
    """`since`/`until` around now (schedules, on-calls): since defaults to now, until to max(since, now)."""
    since = time_param(request, "since", view)
    until = time_param(request, "until", view)
    since = now if since is None else since
    until = max(since, now) if until is None else until
    if until < since:
        raise pd_error("Since must be before until", code=2005)
    return since, until


def history_window(request: FakeRequest, view: View, now: float, max_days: float | None) -> tuple[float, float]:
    """`since`/`until` over past records: until defaults to now, since to a month before until."""
    until = time_param(request, "until", view)
    until = now if until is None else until
    since = time_param(request, "since", view)
    since = until - 30 * DAY if since is None else since
    if since > until:
        raise pd_error("Since must be before until", code=2005, message="Invalid Query Date Range")
    if max_days is not None and until - since > max_days * DAY:
        raise pd_error("The date range is too large (maximum 6 months)", code=2005)
    return since, until


def page(request: FakeRequest, wrapper: str, items: Sequence[Any], render: Callable[[Any], Any] | None = None) -> dict:
    """Classic pagination: `limit` (1-100, default 25) and `offset`, with `more` and `total` (if asked for)."""
    limit = min(max(int_param(request, "limit", 25), 1), 100)
    offset = max(int_param(request, "offset", 0), 0)
    if offset + limit > MAX_OFFSET:
        raise pd_error(f"Offset plus limit must not exceed {MAX_OFFSET}")
    wants_total = (request.q("total") or "").lower() == "true"
    chunk = items[offset : offset + limit]
    return {
        wrapper: [render(item) for item in chunk] if render else list(chunk),
        "limit": limit,
        "offset": offset,
        "more": offset + limit < len(items),
        "total": len(items) if wants_total else None,
    }


def matches_query(request: FakeRequest, *texts: str) -> bool:
    query = (request.q("query") or "").lower()
    return not query or any(query in text.lower() for text in texts)


def body_field(request: FakeRequest, key: str) -> Any:
    body = request.json
    if not isinstance(body, dict) or key not in body:
        raise pd_error(f"{key} is missing from the request body")
    return body[key]
