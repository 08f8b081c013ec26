from collections.abc import Callable

from slack_bolt import App

from listeners.commands.switchboard import switchboard_command

# Every slash command the bot answers; manifest.yml must list exactly these (a test checks both ways).
COMMANDS: dict[str, Callable[..., None]] = {
    "/switchboard": switchboard_command,
}


def register(app: App) -> None:
    for name, handler in COMMANDS.items():
        app.command(name)(handler)
