"""What tests read back: copies of the workspace's state, and waiting until something shows up in it."""

from __future__ import annotations

import copy
from collections.abc import Callable

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.parts import SlackFakeParts


class Inspection(SlackFakeParts):
    @property
    def users(self) -> dict[str, Json]:
        """Seeded users by id (raw state copies: id, name, real_name, email, is_bot, ...)."""
        with self.lock:
            return copy.deepcopy(self.workspace.users)

    @property
    def channels(self) -> dict[str, Json]:
        """Conversations by id, DMs included (raw state copies: id, name, is_private, is_im, user, members, topic)."""
        with self.lock:
            return copy.deepcopy(self.workspace.channels)

    @property
    def responses(self) -> list[Json]:
        """Every post to a response_url that Slack took, oldest first: {"id": <response id>, "body": <JSON posted>}
        (live list). A post past Block Kit's limits is answered 400 `invalid_blocks` and is in `refusals()` instead."""
        return self.response_urls.responses

    def refusals(self) -> list[Json]:
        """Payloads Slack would have refused for its limits, oldest first: {"source", "error", "messages", "payload"}.

        `source` is the Web API method, "response_url" or "ack"; `messages` are Slack's `[ERROR] ...` lines."""
        with self.lock:
            return copy.deepcopy(self.refused)

    def messages(self, channel: str) -> list[Json]:
        """Every message of a conversation (top level and replies) in posting order."""
        with self.lock:
            return copy.deepcopy(self.workspace.messages.get(channel, []))

    def replies(self, channel: str, thread_ts: str) -> list[Json]:
        """The thread's parent followed by its replies."""
        return [m for m in self.messages(channel) if thread_ts in (m["ts"], m.get("thread_ts"))]

    def dm_messages(self, user: str) -> list[Json]:
        with self.lock:
            dm_id = self.workspace.dm_by_user.get(user)
        return self.messages(dm_id) if dm_id else []

    def topic(self, channel: str) -> str:
        with self.lock:
            return self.workspace.require_channel(channel)["topic"]["value"]

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        with self.lock:
            return list(self.workspace.usergroups[usergroup_id]["users"])

    def home_view(self, user: str) -> Json | None:
        with self.lock:
            view = self.workspace.home_views.get(user)
            return copy.deepcopy(view) if view else None

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Json]:
        with self.lock:
            found = [
                e for e in self.workspace.ephemerals if channel in (None, e["channel"]) and user in (None, e["user"])
            ]
            return copy.deepcopy(found)

    def wait_for_message(
        self, channel: str, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0
    ) -> Json:
        """The first message in `channel` (a DM: pass `dm_channel(user)`) matching `predicate`."""

        def found() -> Json | None:
            return next((m for m in self.messages(channel) if predicate is None or predicate(m)), None)

        return self.wait_for(found, timeout, f"a matching message in {channel}")

    def wait_for_ephemeral(
        self, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0, user: str | None = None
    ) -> Json:
        def found() -> Json | None:
            return next((e for e in self.ephemerals(user=user) if predicate is None or predicate(e)), None)

        return self.wait_for(found, timeout, "a matching ephemeral message")

    def wait_for_response(self, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0) -> Json:
        """The first `responses` entry ({"id", "body"}) matching `predicate`."""

        def found() -> Json | None:
            with self.lock:
                matching = (r for r in self.responses if predicate is None or predicate(r))
                return copy.deepcopy(next(matching, None))

        return self.wait_for(found, timeout, "a response_url post")
