"""Which conversations a Web API call by the bot may read or write, with Slack's errors when it may not."""

from __future__ import annotations

from typing import Any

from sandbox.fakes.slack.arguments import Json, SlackMethodError
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.state import Workspace


def readable_channel(workspace: Workspace, channel_id: Any, *, need_member: bool) -> Json:
    channel = workspace.channels.get(str(channel_id or ""))
    if channel is None:
        raise SlackMethodError("channel_not_found")
    is_member = BOT_USER_ID in channel["members"]
    if not is_member and channel["is_private"]:
        raise SlackMethodError("channel_not_found")  # private conversations are invisible to outsiders
    if need_member and not is_member:
        raise SlackMethodError("not_in_channel")
    return channel


def writable_channel(workspace: Workspace, channel_id: Any) -> Json:
    channel = readable_channel(workspace, channel_id, need_member=True)
    if channel["is_archived"]:
        raise SlackMethodError("is_archived")
    return channel


def post_target(workspace: Workspace, value: Any) -> Json:
    """chat.* accept a conversation id, a `#name`, or a user id (meaning the app's DM with that user)."""
    target = str(value or "").strip()
    if target.startswith("#"):
        named = [c for c in workspace.channels.values() if c["name"] == target[1:] and not c["is_im"]]
        target = named[0]["id"] if named else target
    elif target in workspace.users and target not in workspace.channels:
        if target == BOT_USER_ID:
            raise SlackMethodError("cannot_dm_bot")
        return workspace.open_dm(target)
    return writable_channel(workspace, target)


def message_in(workspace: Workspace, channel: Json, ts: Any, error: str = "message_not_found") -> Json:
    """The message `ts` of a conversation the call may read; `error` if there is none."""
    message = workspace.find_message(channel["id"], str(ts or ""))
    if message is None:
        raise SlackMethodError(error)
    return message
