"""What every REST resource module has: the fake it serves and its routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.fakes.pagerduty.fake import PagerDutyFake
    from sandbox.fakes.pagerduty.render_incidents import Renderer
    from sandbox.fakes.pagerduty.state import Account

Route = tuple[str, str, Callable[..., Any]]  # (HTTP method, path regex, handler)


class Resource:
    """Handlers run under the fake's lock, behind the token check."""

    def __init__(self, pd: PagerDutyFake) -> None:
        self.pd = pd

    @property
    def account(self) -> Account:
        return self.pd.account

    @property
    def render(self) -> Renderer:
        return self.pd.render

    def routes(self) -> list[Route]:
        raise NotImplementedError
