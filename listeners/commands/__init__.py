from collections.abc import Callable

from slack_bolt import App

from listeners.commands.dispatch import dispatch_command
from listeners.commands.oncall import oncall_command
from listeners.commands.statuspage import statuspage_command
from listeners.commands.support import support_command
from listeners.commands.switchboard import switchboard_command

# Every slash command the bot answers; manifest.yml must list exactly these (a test checks both ways).
COMMANDS: dict[str, Callable[..., None]] = {
    "/switchboard": switchboard_command,
    "/oncall": oncall_command,
    "/support": support_command,
    "/statuspage": statuspage_command,
    "/dispatch": dispatch_command,
}


def register(app: App) -> None:
    for name, handler in COMMANDS.items():
        app.command(name)(handler)
