"""PagerDuty's REST error bodies: `{"error": {"message", "code", "errors"?}}`, rate limits included."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from sandbox.fakes.base import FakeError

STATUS_ERRORS = {
    400: ("Invalid Input Provided", 2001),
    401: ("Unauthorized", 2006),
    403: ("Access Denied", 2010),
    404: ("Not Found", 2100),
    405: ("Method Not Allowed", 2100),
    413: ("Request Entity Too Large", 2001),
    429: ("Rate Limit Exceeded", 2020),
}


def pd_error(*errors: str, message: str = "Invalid Input Provided", code: int = 2001, status: int = 400) -> FakeError:
    return FakeError(status, body={"error": {"message": message, "code": code, "errors": list(errors)}})


def error_body(status: int, message: str = "") -> Any:
    """The body of a plain HTTP failure (a missing object, a bad token, an injected fault)."""
    title, code = STATUS_ERRORS.get(status, (HTTPStatus(status).phrase, 2000))
    error: dict[str, Any] = {"message": title, "code": code}
    if message and message != title:
        error["errors"] = [message]
    return {"error": error}
