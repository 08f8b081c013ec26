"""The end-to-end harness: the real bot (bot.wiring.build + Socket Mode) against the loopback fakes."""

from __future__ import annotations

from typing import Any

from bot.runner import Bot
from bot.runtime import Runtime
from bot.wiring import build
from sandbox.world import World

WAIT = 10.0


class BotUnderTest:
    def __init__(self, world: World, **overrides: str):
        self.world = world
        self.slack = world.slack
        settings = world.settings(SWITCHBOARD_RETRY_PROFILE="test", **overrides)
        self.runtime: Runtime = build(settings)
        self.bot = Bot(self.runtime)
        self.bot.start()
        self.slack.wait_connected(timeout=WAIT)

    def command(self, user: str, channel: str, command: str, text: str = "") -> dict[str, Any]:
        """Run a slash command as `user`; return the ack frame (Slack shows operation_timeout without one)."""
        envelope = self.slack.slash_command(user, channel, command, text)
        return self.slack.wait_for_ack(envelope, timeout=WAIT)

    def command_reply(self, user: str, channel: str, command: str, text: str = "") -> str:
        """Run a slash command and return the text of the (ephemeral) answer, inline in the ack or via response_url."""
        before = len(self.slack.responses)
        ack = self.command(user, channel, command, text)
        inline = (ack.get("payload") or {}).get("text")
        if inline:
            return inline
        self.slack.wait_for(lambda: len(self.slack.responses) > before, timeout=WAIT, message=f"answer to {command}")
        return self.slack.responses[before]["body"].get("text", "")

    def drain_outbox(self, timeout: float = WAIT) -> None:
        """Wait until every queued effect (vendor writes, Slack posts) has been performed."""
        store = self.runtime.store
        pending = "SELECT COUNT(*) FROM outbox WHERE state = 'pending'"
        self.slack.wait_for(lambda: not store.scalar(pending), timeout, "the outbox to drain")

    def stop(self) -> None:
        self.bot.stop()
