"""Changes both the Web API and simulated humans make: posts, edits, deletes, topics, reactions, ephemerals.

Each one updates the workspace, tells the transcript and pushes the matching event to the bot; each returns the
id of the envelope it pushed ("" if the bot does not get one). Callers hold the fake's lock.
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING

from sandbox.fakes.slack.arguments import Json, SlackMethodError
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.state import reply_thread_ts

if TYPE_CHECKING:
    from sandbox.fakes.slack.fake import SlackFake


def change_fields(channel: Json, message: Json) -> Json:
    """How the transcript sees a message."""
    return {
        "channel": channel["id"],
        "user": message.get("user"),
        "bot": bool(message.get("bot_id")),
        "text": message.get("text"),
        "thread_ts": reply_thread_ts(message),
        "ts": message["ts"],
        "subtype": message.get("subtype"),
    }


class Changes:
    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack

    def announce_message(self, channel: Json, message: Json) -> str:
        """Tell everybody about a message just stored with `Workspace.add_message`."""
        self.slack.transcript.emit("message", **change_fields(channel, message))
        return self.slack.events_api.push_message(channel, message)

    def change_message(self, channel: Json, message: Json, changes: Json, editor: str | None) -> str:
        """Apply `changes` (None or [] removes a field, except text); `editor` marks it edited."""
        workspace = self.slack.workspace
        previous = copy.deepcopy(message)
        for key, value in changes.items():
            if value in (None, []) and key != "text":
                message.pop(key, None)
            else:
                message[key] = value
        if editor:
            message["edited"] = {"user": editor, "ts": workspace.next_ts()}
        ts = workspace.next_ts()
        self.slack.transcript.emit("message_changed", **change_fields(channel, message))
        event = {"type": "message", "subtype": "message_changed", "hidden": True, "message": copy.deepcopy(message)}
        return self.slack.events_api.push_message(
            channel, {**event, "previous_message": previous, "ts": ts, "event_ts": ts}
        )

    def remove_message(self, channel: Json, message: Json) -> str:
        workspace = self.slack.workspace
        workspace.messages[channel["id"]].remove(message)
        parent = workspace.find_message(channel["id"], reply_thread_ts(message))
        if parent is not None:
            parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)
        ts = workspace.next_ts()
        self.slack.transcript.emit("message_deleted", **change_fields(channel, message))
        event = {"type": "message", "subtype": "message_deleted", "hidden": True, "deleted_ts": message["ts"]}
        return self.slack.events_api.push_message(
            channel, {**event, "previous_message": copy.deepcopy(message), "ts": ts}
        )

    def apply_topic(self, channel: Json, user: str, topic: str) -> str:
        """Set the topic and post Slack's `channel_topic` notice."""
        workspace = self.slack.workspace
        channel["topic"] = {"value": topic, "creator": user, "last_set": int(time.time())}
        fields = {"user": user, "subtype": "channel_topic", "text": f"set the channel topic: {topic}", "topic": topic}
        message = workspace.add_message(channel, {**fields, "team": workspace.team_id})
        bot = user == BOT_USER_ID
        self.slack.transcript.emit(
            "topic", channel=channel["id"], user=user, bot=bot, text=topic, ts=message["ts"], topic=topic
        )
        return self.slack.events_api.push_message(channel, message)

    def add_reaction(self, channel: Json, message: Json, user: str, name: str) -> str:
        reactions = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is not None and user in entry["users"]:
            raise SlackMethodError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
        entry["count"] += 1
        return self._reaction_changed("reaction_added", channel, message, user, name)

    def remove_reaction(self, channel: Json, message: Json, user: str, name: str) -> str:
        entry = next((r for r in message.get("reactions", []) if r["name"] == name), None)
        if entry is None or user not in entry["users"]:
            raise SlackMethodError("no_reaction")
        entry["users"].remove(user)
        entry["count"] -= 1
        if not entry["users"]:
            message["reactions"].remove(entry)
        if not message["reactions"]:
            del message["reactions"]
        return self._reaction_changed("reaction_removed", channel, message, user, name)

    def _reaction_changed(self, kind: str, channel: Json, message: Json, user: str, name: str) -> str:
        own = user == BOT_USER_ID
        self.slack.transcript.emit(
            kind, channel=channel["id"], user=user, bot=own, text=name, ts=message["ts"], name=name
        )
        return self.slack.events_api.push_reaction(kind, channel, message, user, name)

    def add_ephemeral(self, channel_id: str, user: str, content: Json, thread_ts: str | None, source: str) -> str:
        """A message only `user` sees (no event reaches the bot); returns its ts."""
        ts = self.slack.workspace.next_ts()
        record = {"channel": channel_id, "user": user, "ts": ts, "thread_ts": thread_ts, "source": source}
        record.update({k: v for k, v in content.items() if v is not None})
        self.slack.workspace.ephemerals.append(record)
        text = content.get("text")
        self.slack.transcript.emit(
            "ephemeral", channel=channel_id, user=user, bot=True, text=text, thread_ts=thread_ts, ts=ts
        )
        return ts
