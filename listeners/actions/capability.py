from collections.abc import Callable

from slack_bolt import Ack, BoltContext, Respond

from bot.capability import ActionRequest, ButtonAction, CapabilitySpec
from bot.logs import bind


def capability_button(spec: CapabilitySpec, button: ButtonAction) -> Callable[..., None]:
    """The listener of one capability's buttons: ack at once, answer the clicker on Switchboard's own pool."""

    def listener(ack: Ack, body: dict, action: dict, context: BoltContext, respond: Respond) -> None:
        ack()
        runtime = context["runtime"]

        def reply(text: str) -> None:
            respond(text=text, replace_original=False, response_type="ephemeral")

        service = runtime.services.get(spec.name)
        if service is None:
            reply(f"This button no longer works here: {spec.off_message(runtime.settings)}")
            return
        user = body.get("user") or {}
        container = body.get("container") or {}
        request = ActionRequest(
            action_id=action["action_id"],
            value=str(action.get("value") or ""),
            user_id=user.get("id", ""),
            user_name=user.get("username") or user.get("name") or "",
            channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id", ""),
            message_ts=container.get("message_ts", ""),
        )
        with bind(capability=spec.name):
            runtime.submit(button.handle, service, request, reply)

    listener.__name__ = f"{spec.name}_button"
    return listener
