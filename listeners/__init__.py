"""Slack surfaces: each package registers its listeners; handlers ack, call a service in bot/, and reply.

Capability commands and buttons are registered from the capability specs, so adding a capability needs no new
listener here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.capability import CapabilitySpec
from bot.clients.slack import App
from bot.runtime import Runtime
from listeners import actions, commands, events, middleware


def register_listeners(app: App, runtime: Runtime, specs: Sequence[CapabilitySpec]) -> None:
    middleware.register(app, runtime)
    commands.register(app, specs)
    events.register(app)
    actions.register(app, specs)
