from collections.abc import Callable

from slack_bolt import App

from listeners.events.app_home_opened import app_home_opened
from listeners.events.app_mention import app_mention
from listeners.events.message import message

# Every event type the bot listens to; manifest.yml subscribes to exactly these (a test checks both ways).
EVENTS: dict[str, Callable[..., None]] = {
    "app_home_opened": app_home_opened,
    "app_mention": app_mention,
    "message": message,
}


def register(app: App) -> None:
    for name, handler in EVENTS.items():
        app.event(name)(handler)
