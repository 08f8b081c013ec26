from collections.abc import Sequence

from slack_bolt import App

from bot.capability import CapabilitySpec
from bot.failures import RETRY_ACTION
from listeners.actions.capability import capability_button
from listeners.actions.retry import retry_effect


def register(app: App, specs: Sequence[CapabilitySpec]) -> None:
    """The foundation's buttons, then those of the capabilities that send buttons, from their specs."""
    app.action(RETRY_ACTION)(retry_effect)
    for spec in specs:
        for action in spec.actions:
            listener = capability_button(spec, action)
            for action_id in action.action_ids:
                app.action(action_id)(listener)
