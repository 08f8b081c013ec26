"""`SlackFake`: the Web API, the response_url endpoint and Socket Mode assembled into one loopback service."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from sandbox.fakes.base import FakeRequest, FakeResponse
from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.changes import Changes
from sandbox.fakes.slack.deferred import DeferredWork
from sandbox.fakes.slack.events_api import EventsApi
from sandbox.fakes.slack.humans import HumanActions
from sandbox.fakes.slack.identity import BOT_ID, BOT_NAME, BOT_REAL_NAME, BOT_USER_ID
from sandbox.fakes.slack.inspection import Inspection
from sandbox.fakes.slack.rate_limits import RateLimits
from sandbox.fakes.slack.response_urls import ResponseUrls
from sandbox.fakes.slack.seeding import Seeding
from sandbox.fakes.slack.socket_mode import SocketMode
from sandbox.fakes.slack.state import Workspace
from sandbox.fakes.slack.transcript import Transcript
from sandbox.fakes.slack.web_api import WebApi, error_body

_log = logging.getLogger(__name__)


class SlackFake(SocketMode, Seeding, HumanActions, Inspection):
    """Slack Web API + Socket Mode. Point `WebClient(base_url=fake.base_url)` at it; the bot is UBOT / BBOT.

    Payloads past Block Kit's limits are always refused as Slack refuses them; Slack's per-method rate limits are
    counted only with `vendor_limits=True` (or `enforce_vendor_limits()`), so that most tests stay fast."""

    name = "slack"
    scheme_path = "/api/"

    def __init__(
        self,
        bot_token: str = "xoxb-sandbox",
        app_token: str = "xapp-sandbox",
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        vendor_limits: bool = False,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.echo_bot_events = True
        self.workspace = Workspace(team_id, team_name)
        self.deferred = DeferredWork()
        self.transcript = Transcript(self.deferred)
        self.events_api = EventsApi(self)
        self.changes = Changes(self)
        self.response_urls = ResponseUrls(self)
        self.web_api = WebApi(self)
        self.rate_limits = RateLimits()
        self.refused: list[Json] = []
        self._init_socket_mode()
        super().__init__(host, port)
        self.add_user(BOT_USER_ID, BOT_NAME, BOT_REAL_NAME, is_bot=True, bot_id=BOT_ID)
        if vendor_limits:
            self.enforce_vendor_limits()

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def team_name(self) -> str:
        return self.workspace.team_name

    @property
    def domain(self) -> str:
        return self.workspace.domain

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackFake:
        self._start_socket_server()
        super().start()
        return self

    def stop(self) -> None:
        self._stop_socket_server()
        super().stop()

    # --- HTTP ------------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        for verb in ("POST", "GET"):
            self.add_route(verb, r"/api/(?P<method>[\w.]+)", self.web_api.call)
        self.add_route("POST", r"/response/(?P<response_id>\w+)", self.response_urls.serve)

    def error_body(self, status: int, message: str = "") -> Any:
        return error_body(status, message)

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        try:
            return super().handle(request)
        finally:
            self.deferred.run()  # socket pushes and transcript callbacks the request queued

    # --- limits ----------------------------------------------------------------------------------
    def enforce_vendor_limits(self, on: bool = True) -> None:
        """Hold every Web API method to its rate-limit tier (429 `ratelimited` past it), or stop counting."""
        with self.lock:
            super().enforce_vendor_limits(on)
            self.rate_limits.reset()

    def note_refusal(self, source: str, answer: Json, payload: Json) -> None:
        """Remember (and log) a payload refused for Slack's limits; `source` is the method, "response_url" or "ack".

        Callers hold the lock."""
        messages = list((answer.get("response_metadata") or {}).get("messages") or [])
        record = {"source": source, "error": answer.get("error"), "messages": messages}
        self.refused.append({**record, "payload": copy.deepcopy(payload)})
        _log.warning("slack fake: refused a %s payload with %s %s", source, record["error"], " ".join(messages))

    # --- transcript ------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[Json], None]) -> Callable[[], None]:
        """Call `callback(change)` for every visible change; returns an unsubscribe function."""
        return self.transcript.subscribe(callback)
