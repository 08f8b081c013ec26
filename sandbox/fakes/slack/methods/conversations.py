"""conversations.*: info, setTopic, open, members, history, replies, list and join."""

from __future__ import annotations

import copy

from sandbox.fakes.slack.access import message_in, readable_channel, writable_channel
from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError, flag, id_list, paginate, ts_key
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.methods.family import MethodFamily
from sandbox.fakes.slack.render import channel_view
from sandbox.fakes.slack.state import reply_thread_ts

TOPIC_MAX_CHARS = 250


class ConversationMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "conversations.info": self.info,
            "conversations.setTopic": self.set_topic,
            "conversations.open": self.open_conversation,
            "conversations.members": self.members,
            "conversations.history": self.history,
            "conversations.replies": self.replies,
            "conversations.list": self.list_conversations,
            "conversations.join": self.join,
        }

    def info(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        include_num_members = flag(args.get("include_num_members"))
        return {"channel": channel_view(self.workspace, channel, include_num_members=include_num_members)}

    def set_topic(self, args: Json) -> Json:
        channel = writable_channel(self.workspace, args.get("channel"))
        if channel["is_im"]:
            raise SlackMethodError("method_not_supported_for_channel_type")
        topic = str(args.get("topic") or "")
        if len(topic) > TOPIC_MAX_CHARS:
            raise SlackMethodError("too_long")
        self.slack.changes.apply_topic(channel, BOT_USER_ID, topic)
        return {"channel": channel_view(self.workspace, channel)}

    def open_conversation(self, args: Json) -> Json:
        if args.get("channel"):
            channel = readable_channel(self.workspace, args["channel"], need_member=False)
            return {"no_op": True, "already_open": True, "channel": {"id": channel["id"]}}
        users = id_list(args.get("users"))
        if not users:
            raise SlackMethodError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackMethodError("not_emulated_multiparty_dm")  # the fake has no mpims; fail loudly
        user = self.workspace.users.get(users[0])
        if user is None:
            raise SlackMethodError("user_not_found")
        if user["deleted"]:
            raise SlackMethodError("user_disabled")
        if user["id"] == BOT_USER_ID:
            raise SlackMethodError("cannot_dm_bot")
        existed = user["id"] in self.workspace.dm_by_user
        dm = self.workspace.open_dm(user["id"])
        view = channel_view(self.workspace, dm) if flag(args.get("return_im")) else {"id": dm["id"]}
        return {"no_op": True, "already_open": True, "channel": view} if existed else {"channel": view}

    def members(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        page, next_cursor = paginate(channel["members"], args, "member", lambda member: member)
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def history(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=True)
        oldest = ts_key(args.get("oldest") or "0")
        latest = ts_key(args["latest"]) if args.get("latest") else None
        inclusive = flag(args.get("inclusive"))

        def wanted(message: Json) -> bool:
            key = ts_key(message["ts"])
            after_oldest = key >= oldest if inclusive else key > oldest
            before_latest = latest is None or (key <= latest if inclusive else key < latest)
            top_level = not reply_thread_ts(message) or message.get("subtype") == "thread_broadcast"
            return after_oldest and before_latest and top_level

        newest_first = [m for m in reversed(self.workspace.messages[channel["id"]]) if wanted(m)]
        page, next_cursor = paginate(newest_first, args, "next_ts", lambda m: m["ts"], max_limit=999)
        result = {"messages": copy.deepcopy(page), "has_more": bool(next_cursor), "pin_count": 0}
        return {**result, "response_metadata": {"next_cursor": next_cursor}}

    def replies(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=True)
        message = message_in(self.workspace, channel, args.get("ts"), "thread_not_found")
        root_ts = message.get("thread_ts") or message["ts"]
        thread = [m for m in self.workspace.messages[channel["id"]] if root_ts in (m["ts"], m.get("thread_ts"))]
        page, next_cursor = paginate(thread, args, "next_ts", lambda m: m["ts"])
        result = {"messages": copy.deepcopy(page), "has_more": bool(next_cursor)}
        return {**result, "response_metadata": {"next_cursor": next_cursor}}

    def list_conversations(self, args: Json) -> Json:
        types = set(id_list(args.get("types") or "public_channel"))
        exclude_archived = flag(args.get("exclude_archived"))

        def listed(channel: Json) -> bool:
            if exclude_archived and channel["is_archived"]:
                return False
            if channel["is_im"]:
                return "im" in types
            if channel["is_private"]:
                return "private_channel" in types and BOT_USER_ID in channel["members"]
            return "public_channel" in types

        channels = [c for c in self.workspace.channels.values() if listed(c)]
        page, next_cursor = paginate(channels, args, "channel", lambda c: c["id"])
        views = [channel_view(self.workspace, c, include_num_members=True) for c in page]
        return {"channels": views, "response_metadata": {"next_cursor": next_cursor}}

    def join(self, args: Json) -> Json:
        channel = self.workspace.channels.get(str(args.get("channel") or ""))
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            raise SlackMethodError("channel_not_found")
        if channel["is_private"]:
            raise SlackMethodError("method_not_supported_for_channel_type")
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        if BOT_USER_ID in channel["members"]:
            warning = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
            return {"channel": channel_view(self.workspace, channel), **warning}
        channel["members"].append(BOT_USER_ID)
        return {"channel": channel_view(self.workspace, channel)}
