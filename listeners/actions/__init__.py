from collections.abc import Sequence

from slack_bolt import App

from bot.capability import CapabilitySpec
from listeners.actions.capability import capability_button


def register(app: App, specs: Sequence[CapabilitySpec]) -> None:
    """Button handlers arrive with the capabilities that send buttons, from their specs."""
    for spec in specs:
        for action in spec.actions:
            listener = capability_button(spec, action)
            for action_id in action.action_ids:
                app.action(action_id)(listener)
