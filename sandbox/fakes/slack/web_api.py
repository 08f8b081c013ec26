"""The Web API at `/api/<method>`: token checks, rate limits, dispatch to the method families, Slack's error shapes.

Answers are HTTP 200 `{"ok": true, ...}` or `{"ok": false, "error": ...}` like Slack's. With vendor limits on, each
method is held to its tier (`rate_limits`) and answered HTTP 429 `ratelimited` with Retry-After past it; tests may
also inject a 429 as a fault, which `error_body` words the same way. Payloads past Block Kit's limits are refused
whatever the setting, and remembered in `SlackFake.refusals()`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sandbox.fakes.base import FakeError, FakeRequest
from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError
from sandbox.fakes.slack.block_kit import BLOCK_KIT_ERRORS
from sandbox.fakes.slack.methods.auth import AuthMethods
from sandbox.fakes.slack.methods.chat import ChatMethods
from sandbox.fakes.slack.methods.conversations import ConversationMethods
from sandbox.fakes.slack.methods.reactions import ReactionMethods
from sandbox.fakes.slack.methods.usergroups import UsergroupMethods
from sandbox.fakes.slack.methods.users import UserMethods
from sandbox.fakes.slack.methods.views import ViewMethods

if TYPE_CHECKING:
    from sandbox.fakes.slack.fake import SlackFake

APP_TOKEN_METHODS = {"apps.connections.open"}
FAMILIES = (AuthMethods, ChatMethods, ConversationMethods, UserMethods, UsergroupMethods, ReactionMethods, ViewMethods)
_log = logging.getLogger(__name__)


def error_body(status: int, message: str = "") -> Any:
    """An injected HTTP failure in Slack's words."""
    errors = {429: "ratelimited", 404: "unknown_method", 401: "invalid_auth", 403: "invalid_auth"}
    return {"ok": False, "error": errors.get(status, "fatal_error" if status >= 500 else message or "fatal_error")}


class WebApi:
    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack
        self.methods: dict[str, Method] = {}
        for family in FAMILIES:
            self.methods.update(family(slack).table())

    def call(self, request: FakeRequest, method: str) -> Json:
        """Route handler of `/api/<method>` (runs under the fake's lock)."""
        handler = self.methods.get(method)
        if handler is None:
            raise SlackMethodError("unknown_method", req_method=method)
        args = request.args()
        self._authenticate(request, args.pop("token", None), app_level=method in APP_TOKEN_METHODS)
        if self.slack.vendor_limits:
            self.slack.rate_limits.admit(self.slack.workspace, method, args, self.slack.now())
        try:
            return {"ok": True, **handler(args)}
        except SlackMethodError as error:
            if error.body["error"] in BLOCK_KIT_ERRORS:
                self.slack.note_refusal(method, error.body, args)
            raise
        except FakeError:
            raise
        except Exception as exc:  # a fake bug: answer loudly instead of dropping the connection
            _log.exception("slack fake: %s failed", method)
            raise SlackMethodError("fake_internal_error", detail=repr(exc)) from exc

    def _authenticate(self, request: FakeRequest, token_field: Any, *, app_level: bool) -> None:
        """A bot token for every method but apps.connections.open, which wants the app-level token."""
        header = request.header("authorization") or ""
        token = header.split(" ", 1)[1].strip() if header.lower().startswith("bearer ") else str(token_field or "")
        bot_token, app_token = self.slack.bot_token, self.slack.app_token
        expected, other = (app_token, bot_token) if app_level else (bot_token, app_token)
        if not token:
            raise SlackMethodError("not_authed")
        if token == other:
            raise SlackMethodError("not_allowed_token_type")
        if token != expected:
            raise SlackMethodError("invalid_auth")
