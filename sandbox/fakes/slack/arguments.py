"""Web API conventions: arguments as Slack reads them (form or JSON body), cursor pagination, `ok: false` failures."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from sandbox.fakes.base import FakeError

T = TypeVar("T")
Json = dict[str, Any]
Method = Callable[[Json], Json]  # a Web API method: the request's arguments in, the fields next to `ok: true` out


class SlackMethodError(FakeError):
    """A Web API failure as Slack reports it: HTTP 200 with `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(200, error, body={"ok": False, "error": error, **extra})


def flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"1", "true", "yes"}


def id_list(value: Any) -> list[str]:
    """`"U1,U2"` (form) or `["U1", "U2"]` (JSON) as a list."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def json_arg(args: Json, name: str, error: str) -> Any:
    """Block Kit fields arrive as JSON strings in form bodies and as objects in JSON bodies."""
    value = args.get(name)
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise SlackMethodError(error) from exc


def ts_key(ts: Any) -> tuple[int, int]:
    """Compare Slack timestamps exactly ("1700000000.000100"), without float rounding."""
    seconds, _, fraction = str(ts).partition(".")
    try:
        return int(seconds or 0), int((fraction + "000000")[:6])
    except ValueError as exc:
        raise SlackMethodError("invalid_ts") from exc


def paginate(
    items: list[T], args: Json, kind: str, key: Callable[[T], str], max_limit: int = 1000
) -> tuple[list[T], str]:
    """Slack cursor pagination: `limit` + `cursor` in; the page and `response_metadata.next_cursor` out."""
    try:
        limit = int(args.get("limit") or 0) or 100
    except (TypeError, ValueError) as exc:
        raise SlackMethodError("invalid_limit") from exc
    limit = max(1, min(limit, max_limit))
    start = 0
    cursor = str(args.get("cursor") or "")
    if cursor:
        try:
            cursor_kind, _, value = base64.b64decode(cursor).decode().partition(":")
        except ValueError as exc:
            raise SlackMethodError("invalid_cursor") from exc
        keys = [key(item) for item in items]
        if cursor_kind != kind or value not in keys:
            raise SlackMethodError("invalid_cursor")
        start = keys.index(value)
    end = start + limit
    next_cursor = base64.b64encode(f"{kind}:{key(items[end])}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor
