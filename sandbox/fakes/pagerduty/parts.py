"""What the PagerDuty fake's mixins share: the FakeService machinery and the parts `PagerDutyFake` composes.

`PagerDutyFake` is assembled from a state object and helpers it owns (`account`, `render`, `lifecycle`, `auth`,
`events_api`, the REST resources) plus mixins that give tests their API on the fake itself (`Seeding`,
`Responders`, `Inspection`). This base declares what those mixins rely on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.fakes.base import FakeService

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.auth import Auth
    from sandbox.fakes.pagerduty.events_api import EventsApi
    from sandbox.fakes.pagerduty.lifecycle import IncidentLifecycle
    from sandbox.fakes.pagerduty.render_incidents import Renderer
    from sandbox.fakes.pagerduty.state import Account


class PagerDutyParts(FakeService):
    account: Account
    render: Renderer
    lifecycle: IncidentLifecycle
    auth: Auth
    events_api: EventsApi
    tokens: set[str]  # account-level REST API tokens
    user_tokens: dict[str, str]  # user-level REST API token -> user id
    routing_keys: set[str]  # Events API routing keys the account accepts
    events: list[dict]  # every accepted Events API event, for assertions
    abilities: list[str]
    subdomain: str
