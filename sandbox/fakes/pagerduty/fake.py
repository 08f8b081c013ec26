"""`PagerDutyFake`: the REST API v2 and the Events API v2 assembled into one loopback TLS service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.fakes.pagerduty.auth import Auth
from sandbox.fakes.pagerduty.errors import error_body
from sandbox.fakes.pagerduty.events_api import EventsApi
from sandbox.fakes.pagerduty.inspection import Inspection
from sandbox.fakes.pagerduty.lifecycle import IncidentLifecycle
from sandbox.fakes.pagerduty.model import Incident, LogEntry, Policy, Schedule, Service, User
from sandbox.fakes.pagerduty.render_incidents import Renderer
from sandbox.fakes.pagerduty.responders import Responders
from sandbox.fakes.pagerduty.rest.incidents import IncidentsResource
from sandbox.fakes.pagerduty.rest.log_entries import LogEntriesResource
from sandbox.fakes.pagerduty.rest.resource import Resource
from sandbox.fakes.pagerduty.rest.schedules import SchedulesResource
from sandbox.fakes.pagerduty.rest.services import ServicesResource
from sandbox.fakes.pagerduty.rest.users import UsersResource
from sandbox.fakes.pagerduty.seeding import Seeding
from sandbox.fakes.pagerduty.state import Account
from sandbox.fakes.tls import LoopbackCA

# Registration order matters where patterns overlap (`/users/me` before `/users/{id}`).
RESOURCES: tuple[type[Resource], ...] = (
    UsersResource,
    SchedulesResource,
    ServicesResource,
    IncidentsResource,
    LogEntriesResource,
)


class PagerDutyFake(Seeding, Responders, Inspection):
    """REST API v2 (auth `Token token=<one of tokens>`) and Events API v2 (`POST /v2/enqueue`, a known routing key)
    on one TLS port at `base_url`: the bot's PAGERDUTY_API_URL points there, and a test can send events to the same
    account with an Events API client pointed there too. Writes to incidents need a `From` header naming a
    (non-deleted) user's email, unless the token was registered with `add_user_token`."""

    name = "pagerduty"

    def __init__(
        self,
        ca: LoopbackCA,
        tokens: Iterable[str] = ("pd-sandbox",),
        routing_keys: Iterable[str] = ("R" * 32,),
        subdomain: str = "sandbox",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self._initial_keys = (frozenset(tokens), frozenset(routing_keys))
        self.tokens = set(self._initial_keys[0])
        self.user_tokens = {}
        self.routing_keys = set(self._initial_keys[1])
        self.subdomain = subdomain
        self.abilities = ["teams", "read_only_users", "urgencies", "incident_priorities"]
        self.events = []
        self.account = Account()
        self.render = Renderer(self)
        self.lifecycle = IncidentLifecycle(self)
        self.auth = Auth(self)
        self.events_api = EventsApi(self)
        self.resources = [resource(self) for resource in RESOURCES]
        super().__init__(host, port, ssl_context=ca.server_context())

    # --- the account's tables (live, as the REST API's state) ------------------------------------
    @property
    def users(self) -> dict[str, User]:
        return self.account.users

    @property
    def schedules(self) -> dict[str, Schedule]:
        return self.account.schedules

    @property
    def policies(self) -> dict[str, Policy]:
        return self.account.policies

    @property
    def services(self) -> dict[str, Service]:
        return self.account.services

    @property
    def incidents(self) -> dict[str, Incident]:
        return self.account.incidents

    @property
    def log(self) -> dict[str, LogEntry]:
        return self.account.log

    @property
    def priorities(self) -> dict[str, dict]:
        return self.account.priorities

    # --- HTTP ------------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        for resource in self.resources:
            for method, pattern, handler in resource.routes():
                self.add_route(method, pattern, self.auth.guard(handler))
        self.add_route("POST", r"/v2/enqueue", self.events_api.enqueue)
        self.add_route("POST", r"/v2/change/enqueue", self.events_api.enqueue_change)

    def error_body(self, status: int, message: str = "") -> Any:
        return error_body(status, message)
