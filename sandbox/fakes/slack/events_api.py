"""Events API: wrapping workspace events in `event_callback` payloads and pushing them to the bot.

Slack sends message and reaction events only for conversations the bot is a member of, and (unless a bench turns
`echo_bot_events` off) the bot's own messages too. A message mentioning the bot also yields an `app_mention`.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import TYPE_CHECKING

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.identity import APP_ID, BOT_USER_ID, VERIFICATION_TOKEN, random_id

if TYPE_CHECKING:
    from sandbox.fakes.slack.fake import SlackFake


def channel_type(channel: Json) -> str:
    return "im" if channel["is_im"] else "group" if channel["is_private"] else "channel"


class EventsApi:
    """Callers hold the fake's lock; the envelopes go out once it is released."""

    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack

    def payload(self, event: Json) -> Json:
        team_id = self.slack.workspace.team_id
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "context_team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": random_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }

    def push(self, event: Json) -> str:
        """Queue an `events_api` envelope; returns its id."""
        return self.slack.queue_envelope("events_api", self.payload(event))

    def _silent(self, channel: Json, actor: str | None) -> bool:
        own = actor == BOT_USER_ID
        return BOT_USER_ID not in channel["members"] or (own and not self.slack.echo_bot_events)

    def push_message(self, channel: Json, fields: Json) -> str:
        """A `message` event (and an `app_mention` if it mentions the bot); "" if the bot does not get it."""
        if self._silent(channel, fields.get("user")):
            return ""
        own = fields.get("user") == BOT_USER_ID
        event = copy.deepcopy(fields)
        event.update(channel=channel["id"], event_ts=fields.get("event_ts", fields["ts"]))
        event["channel_type"] = channel_type(channel)
        envelope_id = self.push(event)
        mentioned = f"<@{BOT_USER_ID}>" in str(fields.get("text") or "")
        if mentioned and not own and not channel["is_im"] and not fields.get("subtype"):
            keep = ("user", "text", "ts", "thread_ts", "team", "blocks")
            mention = {k: event[k] for k in keep if k in event}
            self.push({"type": "app_mention", **mention, "channel": channel["id"], "event_ts": event["ts"]})
        return envelope_id

    def push_reaction(self, kind: str, channel: Json, message: Json, user: str, name: str) -> str:
        """A `reaction_added` / `reaction_removed` event; "" if the bot does not get it."""
        if self._silent(channel, user):
            return ""
        item = {"type": "message", "channel": channel["id"], "ts": message["ts"]}
        event = {"type": kind, "user": user, "reaction": name, "item_user": message.get("user"), "item": item}
        return self.push({**event, "event_ts": self.slack.workspace.next_ts()})
