"""reactions.add, reactions.remove and reactions.get."""

from __future__ import annotations

import copy
import re

from sandbox.fakes.slack.access import message_in, readable_channel
from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.methods.family import MethodFamily

_REACTION_NAME = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")


class ReactionMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "reactions.add": self.add,
            "reactions.remove": self.remove,
            "reactions.get": self.get,
        }

    def _target(self, args: Json) -> tuple[Json, Json, str]:
        name = str(args.get("name") or "").strip(":")
        if not _REACTION_NAME.fullmatch(name):
            raise SlackMethodError("invalid_name")
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        message = message_in(self.workspace, channel, args.get("timestamp"))
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        return channel, message, name

    def add(self, args: Json) -> Json:
        channel, message, name = self._target(args)
        self.slack.changes.add_reaction(channel, message, BOT_USER_ID, name)
        return {}

    def remove(self, args: Json) -> Json:
        channel, message, name = self._target(args)
        self.slack.changes.remove_reaction(channel, message, BOT_USER_ID, name)
        return {}

    def get(self, args: Json) -> Json:
        channel = readable_channel(self.workspace, args.get("channel"), need_member=False)
        message = message_in(self.workspace, channel, args.get("timestamp"))
        return {"type": "message", "channel": channel["id"], "message": copy.deepcopy(message)}
