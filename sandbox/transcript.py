"""A readable, live transcript of the emulated world: who said what where, and what the bot did at each vendor."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from sandbox.fakes.base import FakeRequest, FakeService
from sandbox.world import World

# Slack Web API reads are plumbing; the visible effects come from the Slack fake's own change feed.
QUIET_SLACK_METHODS = {"auth.test", "apps.connections.open"}


class Transcript:
    def __init__(self, world: World, out: TextIO = sys.stdout):
        self.world = world
        self.out = out
        self._lock = threading.Lock()
        self.lines: list[str] = []

    def attach(self) -> None:
        self.world.slack.subscribe(self._on_slack_change)
        for fake in self.world.fakes:
            if fake is not self.world.slack:
                fake.observers.append(lambda request, fake=fake: self._on_vendor_request(fake, request))

    def say(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
            print(line, file=self.out, flush=True)

    def narrate(self, text: str) -> None:
        self.say(f"\n== {text}")

    # --- Slack -----------------------------------------------------------------------------------
    def who(self, user_id: str | None) -> str:
        if not user_id:
            return "someone"
        if user_id == "UBOT":
            return "Switchboard"
        user = self.world.slack.users.get(user_id) if hasattr(self.world.slack, "users") else None
        return (user or {}).get("name", user_id)

    def where(self, channel_id: str | None) -> str:
        channel = self.world.slack.channels.get(channel_id or "") if hasattr(self.world.slack, "channels") else None
        if channel and channel.get("is_im"):
            return f"DM with {self.who(channel.get('user'))}"
        return f"#{channel['name']}" if channel and channel.get("name") else str(channel_id)

    def _on_slack_change(self, change: dict[str, Any]) -> None:
        kind = change.get("kind", "")
        text = str(change.get("text") or "").replace("\n", "\n      ")
        speaker = "Switchboard" if change.get("bot") or change.get("user") == "UBOT" else self.who(change.get("user"))
        place = self.where(change.get("channel"))
        thread = " (in thread)" if change.get("thread_ts") and change.get("thread_ts") != change.get("ts") else ""
        if kind in ("message", "message_posted"):
            self.say(f"[{place}]{thread} {speaker}: {text}")
        elif kind in ("message_updated", "message_changed"):
            self.say(f"[{place}] {speaker} edited: {text}")
        elif kind in ("ephemeral", "response"):
            target = self.who(change.get("user")) if change.get("user") else "the user"
            self.say(f"[{place}] (only {target} sees) Switchboard: {text}")
        elif kind in ("topic", "topic_changed"):
            self.say(f"[{place}] topic is now: {change.get('topic', text)}")
        elif kind in ("usergroup", "usergroup_updated"):
            self.say(f"[usergroup {change.get('handle') or change.get('usergroup')}] members: {change.get('users')}")
        elif kind in ("reaction", "reaction_added"):
            self.say(f"[{place}] {speaker} reacted :{change.get('name')}:")
        elif kind in ("view", "view_published"):
            self.say(f"[Home tab of {self.who(change.get('user'))}] updated")
        elif kind not in ("message_deleted",):
            self.say(f"[slack] {kind}: {text}")

    # --- other vendors ---------------------------------------------------------------------------
    def _on_vendor_request(self, fake: FakeService, request: FakeRequest) -> None:
        self.say(f"  [{fake.name}] {request.method} {request.path} → {request.status}")
