from slack_bolt import App

from listeners.actions.dispatch import ACTIONS as DISPATCH_ACTIONS


def register(app: App) -> None:
    """Button handlers arrive with the capabilities that send buttons (dispatch)."""
    for action_id, handler in DISPATCH_ACTIONS.items():
        app.action(action_id)(handler)
