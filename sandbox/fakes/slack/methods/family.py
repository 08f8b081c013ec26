"""What every family of Web API methods has: the fake it serves and a table of its methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.fakes.slack.arguments import Method

if TYPE_CHECKING:
    from sandbox.fakes.slack.fake import SlackFake
    from sandbox.fakes.slack.state import Workspace


class MethodFamily:
    """Handlers take the request's arguments and return the answer's fields; they run under the fake's lock."""

    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack

    @property
    def workspace(self) -> Workspace:
        return self.slack.workspace

    def table(self) -> dict[str, Method]:
        """Web API method name -> handler."""
        raise NotImplementedError
