from slack_bolt import App

from listeners.commands.switchboard import switchboard_command


def register(app: App) -> None:
    app.command("/switchboard")(switchboard_command)
