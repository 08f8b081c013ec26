"""Slack's per-method rate limits, counted when vendor limits are on (`SlackFake.enforce_vendor_limits`).

Slack applies them per method, per app and per workspace; past one it answers HTTP 429 with a Retry-After header
and `{"ok": false, "error": "ratelimited"}` (https://docs.slack.dev/apis/web-api/rate-limits). The tiers allow
"N+ per minute"; the fake holds each method to exactly N in any 60 seconds, the floor, so a bot that stays under it
also stays under Slack's. Each method's tier is the one on its reference page,
https://docs.slack.dev/reference/methods/<method>:

- Tier 1 (1+ a minute): none of the emulated methods.
- Tier 2 (20+): conversations.setTopic, conversations.list, users.list, usergroups.list, usergroups.users.list,
  usergroups.users.update, reactions.remove.
- Tier 3 (50+): apps.connections.open, team.info, chat.update, chat.delete, conversations.info, conversations.open,
  conversations.history, conversations.replies, conversations.join, users.lookupByEmail, reactions.add,
  reactions.get.
- Tier 4 (100+): chat.postEphemeral, conversations.members, users.info, views.publish.
- Special: chat.postMessage, about 1 message a second per channel with "generous burst behaviour" and "several
  hundred messages per minute" for the whole workspace: the fake allows 60 a minute per channel and 300 a minute in
  all. auth.test and chat.getPermalink allow "hundreds of requests per minute": the fake allows 200.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.fakes.base import FakeError, SlidingWindowLimit, retry_after
from sandbox.fakes.slack.arguments import Json

if TYPE_CHECKING:
    from sandbox.fakes.slack.state import Workspace

WINDOW_SECONDS = 60.0
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
SPECIAL_PER_MINUTE = 200  # auth.test, chat.getPermalink: "hundreds of requests per minute"
POST_MESSAGE_PER_CHANNEL_PER_MINUTE = 60  # "1 message per second per channel", bursts allowed
POST_MESSAGE_PER_WORKSPACE_PER_MINUTE = 300  # "several hundred messages per minute"
TIERS = {
    "conversations.setTopic": 2,
    "conversations.list": 2,
    "users.list": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "usergroups.users.update": 2,
    "reactions.remove": 2,
    "apps.connections.open": 3,
    "team.info": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.join": 3,
    "users.lookupByEmail": 3,
    "reactions.add": 3,
    "reactions.get": 3,
    "chat.postEphemeral": 4,
    "conversations.members": 4,
    "users.info": 4,
    "views.publish": 4,
}
SPECIAL_METHODS = {"auth.test", "chat.getPermalink"}


def per_minute(method: str) -> int:
    """The most calls of `method` the fake takes in any minute (chat.postMessage: per channel)."""
    if method == "chat.postMessage":
        return POST_MESSAGE_PER_CHANNEL_PER_MINUTE
    if method in SPECIAL_METHODS:
        return SPECIAL_PER_MINUTE
    return TIER_PER_MINUTE[TIERS[method]]


class RateLimits:
    """Callers hold the fake's lock."""

    def __init__(self) -> None:
        self._windows = SlidingWindowLimit()

    def admit(self, workspace: Workspace, method: str, args: Json, now: float) -> None:
        """Count a call, or raise Slack's 429 if it is past the method's limit (then it counts nowhere)."""
        if method == "chat.postMessage":
            channel = _channel_key(workspace, args.get("channel"))
            limits = [((method, "*"), POST_MESSAGE_PER_WORKSPACE_PER_MINUTE), ((method, channel), per_minute(method))]
        elif method in TIERS or method in SPECIAL_METHODS:
            limits = [((method, "*"), per_minute(method))]
        else:
            return
        wait = max(self._windows.wait(key, limit, WINDOW_SECONDS, now) for key, limit in limits)
        if wait:
            body = {"ok": False, "error": "ratelimited"}
            raise FakeError(429, "ratelimited", body=body, headers={"Retry-After": retry_after(wait)})
        for key, limit in limits:
            self._windows.admit(key, limit, WINDOW_SECONDS, now)

    def calls_in_last_minute(self, method: str, now: float, channel: str = "*") -> int:
        return self._windows.count((method, channel), WINDOW_SECONDS, now)

    def reset(self) -> None:
        self._windows.reset()


def _channel_key(workspace: Workspace, value: Any) -> str:
    """chat.postMessage's `channel` as the conversation id it lands in (a `#name` or a user id means that one)."""
    target = str(value or "").strip()
    if target.startswith("#"):
        named = [c["id"] for c in workspace.channels.values() if c["name"] == target[1:] and not c["is_im"]]
        return named[0] if named else target
    return workspace.dm_by_user.get(target, target)
