from slack_bolt import App


def register(app: App) -> None:
    """Button handlers arrive with the capabilities that send buttons (dispatch)."""
