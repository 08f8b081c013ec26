"""chat.postMessage, chat.postEphemeral, chat.update, chat.delete and chat.getPermalink."""

from __future__ import annotations

import copy

from sandbox.fakes.slack.access import message_in, post_target, readable_channel
from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError, flag
from sandbox.fakes.slack.block_kit import message_content
from sandbox.fakes.slack.identity import BOT_ID, BOT_USER_ID
from sandbox.fakes.slack.methods.family import MethodFamily
from sandbox.fakes.slack.state import reply_thread_ts


class ChatMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "chat.postMessage": self.post_message,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.update": self.update,
            "chat.delete": self.delete,
            "chat.getPermalink": self.get_permalink,
        }

    def post_message(self, args: Json) -> Json:
        channel = post_target(self.workspace, args.get("channel"))
        content = message_content(args)
        fields = {**self.workspace.bot_fields(), **content, "thread_ts": str(args.get("thread_ts") or "") or None}
        message = self.workspace.add_message(channel, fields)
        if flag(args.get("reply_broadcast")) and "thread_ts" in message:
            message["subtype"] = "thread_broadcast"
        self.slack.changes.announce_message(channel, message)
        return {"channel": channel["id"], "ts": message["ts"], "message": copy.deepcopy(message)}

    def post_ephemeral(self, args: Json) -> Json:
        channel = post_target(self.workspace, args.get("channel"))
        user = str(args.get("user") or "")
        if user not in self.workspace.users:
            raise SlackMethodError("user_not_found")
        if user not in channel["members"]:
            raise SlackMethodError("user_not_in_channel")
        content = message_content(args)
        ts = self.slack.changes.add_ephemeral(channel["id"], user, content, args.get("thread_ts"), "chat.postEphemeral")
        return {"message_ts": ts}

    def _own_message(self, args: Json, error: str) -> tuple[Json, Json]:
        """The app may only change its own messages."""
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        message = message_in(self.workspace, channel, args.get("ts"))
        if message.get("bot_id") != BOT_ID:
            raise SlackMethodError(error)
        return channel, message

    def update(self, args: Json) -> Json:
        channel, message = self._own_message(args, "cant_update_message")
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        self.slack.changes.change_message(channel, message, message_content(args, partial=True), editor=BOT_USER_ID)
        result = {"channel": channel["id"], "ts": message["ts"], "text": message.get("text", "")}
        return {**result, "message": copy.deepcopy(message)}

    def delete(self, args: Json) -> Json:
        channel, message = self._own_message(args, "cant_delete_message")
        self.slack.changes.remove_message(channel, message)
        return {"channel": channel["id"], "ts": message["ts"]}

    def get_permalink(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        message = message_in(self.workspace, channel, args.get("message_ts"))
        link = f"https://{self.workspace.domain}.slack.com/archives/{channel['id']}/p{message['ts'].replace('.', '')}"
        thread_ts = reply_thread_ts(message)
        if thread_ts:
            link += f"?thread_ts={thread_ts}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": link}
