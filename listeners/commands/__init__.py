from collections.abc import Callable, Sequence

from slack_bolt import App

from bot.capability import CapabilitySpec
from listeners.commands.capability import capability_command
from listeners.commands.switchboard import switchboard_command

# The foundation's own commands; each capability adds its own from its spec.
CORE_COMMANDS: dict[str, Callable[..., None]] = {"/switchboard": switchboard_command}


def command_names(specs: Sequence[CapabilitySpec]) -> set[str]:
    """Every slash command the bot answers; manifest.yml must list exactly these (a test checks both ways)."""
    return set(CORE_COMMANDS) | {command.name for spec in specs for command in spec.commands}


def register(app: App, specs: Sequence[CapabilitySpec]) -> None:
    for name, handler in CORE_COMMANDS.items():
        app.command(name)(handler)
    for spec in specs:
        for command in spec.commands:
            app.command(command.name)(capability_command(spec, command))
