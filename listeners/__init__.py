"""Slack surfaces: each package registers its listeners; handlers ack, call a service in bot/, and reply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from listeners import actions, commands, events, middleware

if TYPE_CHECKING:
    from bot.runtime import Runtime


def register_listeners(app: App, runtime: Runtime) -> None:
    middleware.register(app, runtime)
    commands.register(app)
    events.register(app)
    actions.register(app)
