"""Acting as people in the workspace, as tests and the sandbox's scenes do.

Post, edit, delete, set a topic, react, run a slash command, click a button, open the App Home: each changes the
workspace like the person's Slack client would, then pushes the matching envelope to the bot and returns its id
("" if the bot gets none).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.block_kit import find_button
from sandbox.fakes.slack.identity import APP_ID, VERIFICATION_TOKEN, trigger_id
from sandbox.fakes.slack.parts import SlackFakeParts
from sandbox.fakes.slack.state import reply_thread_ts


class HumanActions(SlackFakeParts):
    def post_message(
        self,
        user: str | None,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        subtype: str | None = None,
        files: Iterable[Json] | None = None,
        bot_id: str | None = None,
    ) -> tuple[str, str]:
        """A person (or another bot, with `bot_id`) posts; returns (ts, envelope id of the message event)."""

        def action() -> tuple[str, str]:
            target = self.workspace.require_channel(channel)
            team_id = self.workspace.team_id
            fields: Json = {"user": user, "bot_id": bot_id, "text": text, "team": team_id, "thread_ts": thread_ts}
            if files:
                fields.update(files=list(files), upload=False)
            fields["subtype"] = subtype or ("file_share" if files else None)
            message = self.workspace.add_message(target, fields)
            return message["ts"], self.changes.announce_message(target, message)

        return self._act(action)

    def edit_message(self, user: str, channel: str, ts: str, new_text: str) -> str:
        def action() -> str:
            target, message = self.workspace.require_channel(channel), self.workspace.require_message(channel, ts)
            return self.changes.change_message(target, message, {"text": new_text}, user)

        return self._act(action)

    def delete_message(self, channel: str, ts: str) -> str:
        def action() -> str:
            target, message = self.workspace.require_channel(channel), self.workspace.require_message(channel, ts)
            return self.changes.remove_message(target, message)

        return self._act(action)

    def set_topic_as(self, user: str, channel: str, topic: str) -> str:
        return self._act(lambda: self.changes.apply_topic(self.workspace.require_channel(channel), user, topic))

    def add_reaction_as(self, user: str, channel: str, ts: str, name: str) -> str:
        """Raises SlackMethodError("already_reacted") on a duplicate, like the API would."""

        def action() -> str:
            target, message = self.workspace.require_channel(channel), self.workspace.require_message(channel, ts)
            return self.changes.add_reaction(target, message, user, name)

        return self._act(action)

    def slash_command(self, user: str, channel: str, command: str, text: str = "") -> str:
        def action() -> str:
            target, person = self.workspace.require_channel(channel), self.workspace.require_user(user)
            response_id = self.response_urls.new_target(target["id"], user, None)
            payload = {
                "token": VERIFICATION_TOKEN,
                "team_id": self.workspace.team_id,
                "team_domain": self.workspace.domain,
                "channel_id": target["id"],
                "channel_name": "directmessage" if target["is_im"] else target["name"],
                "user_id": user,
                "user_name": person["name"],
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": self.response_urls.url(response_id),
                "trigger_id": trigger_id(),
            }
            return self.queue_envelope(
                "slash_commands", payload, accepts_response_payload=True, response_id=response_id
            )

        return self._act(action)

    def click_button(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        text: str | None = None,
    ) -> str:
        """A person clicks a button; value/block_id/text default to the stored button's, else "", "b", "Button"."""

        def action() -> str:
            target, person = self.workspace.require_channel(channel), self.workspace.require_user(user)
            message = self.workspace.require_message(channel, message_ts)
            found_block_id, button = find_button(message, action_id)
            button_text = text or (button.get("text") or {}).get("text") or "Button"
            clicked = {
                "action_id": action_id,
                "block_id": block_id or found_block_id or "b",
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value if value is not None else button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
            if "style" in button:
                clicked["style"] = button["style"]
            response_id = self.response_urls.new_target(target["id"], user, message_ts)
            container = {"type": "message", "message_ts": message_ts, "channel_id": target["id"], "is_ephemeral": False}
            if reply_thread_ts(message):
                container["thread_ts"] = message["thread_ts"]
            team_id = self.workspace.team_id
            payload = {
                "type": "block_actions",
                "user": {"id": user, "username": person["name"], "name": person["name"], "team_id": team_id},
                "api_app_id": APP_ID,
                "token": VERIFICATION_TOKEN,
                "container": container,
                "trigger_id": trigger_id(),
                "team": {"id": team_id, "domain": self.workspace.domain},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": target["id"], "name": "directmessage" if target["is_im"] else target["name"]},
                "message": copy.deepcopy(message),
                "state": {"values": {}},
                "response_url": self.response_urls.url(response_id),
                "actions": [clicked],
            }
            return self.queue_envelope("interactive", payload, response_id=response_id)

        return self._act(action)

    def open_home(self, user: str) -> str:
        def action() -> str:
            self.workspace.require_user(user)
            dm_id = self.workspace.open_dm(user)["id"]
            event = {"type": "app_home_opened", "user": user, "channel": dm_id, "tab": "home"}
            if user in self.workspace.home_views:
                event["view"] = copy.deepcopy(self.workspace.home_views[user])
            return self.events_api.push({**event, "event_ts": self.workspace.next_ts()})

        return self._act(action)
