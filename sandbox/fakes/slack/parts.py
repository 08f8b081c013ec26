"""What the Slack fake's mixins share: the FakeService machinery and the parts `SlackFake` composes.

`SlackFake` is assembled from a state object and helpers it owns (`workspace`, `deferred`, `transcript`,
`events_api`, `changes`, `response_urls`, `web_api`) plus mixins that give tests their API on the fake itself
(`SocketMode`, `Seeding`, `HumanActions`, `Inspection`). This base declares what those mixins rely on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sandbox.fakes.base import FakeService
from sandbox.fakes.slack.arguments import Json

if TYPE_CHECKING:
    from sandbox.fakes.slack.changes import Changes
    from sandbox.fakes.slack.deferred import DeferredWork
    from sandbox.fakes.slack.events_api import EventsApi
    from sandbox.fakes.slack.response_urls import ResponseUrls
    from sandbox.fakes.slack.state import Workspace
    from sandbox.fakes.slack.transcript import Transcript

T = TypeVar("T")


class SlackFakeParts(FakeService):
    workspace: Workspace
    deferred: DeferredWork
    transcript: Transcript
    events_api: EventsApi
    changes: Changes
    response_urls: ResponseUrls
    echo_bot_events: bool  # Slack delivers the bot's own messages too; Bolt's ignore-self drops them
    refused: list[Json]  # payloads refused for Slack's limits (see `SlackFake.note_refusal`)

    def queue_envelope(self, envelope_type: str, payload: Json, **options: Any) -> str:
        """Record an envelope and deliver it once the lock is released (provided by `SocketMode`)."""
        raise NotImplementedError

    def _act(self, action: Callable[[], T]) -> T:
        """Run a change under the lock, then wake waiters and deliver what it queued."""
        with self.lock:
            result = action()
        self.notify()
        self.deferred.run()
        return result
