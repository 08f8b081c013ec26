from slack_bolt import Ack, BoltContext, Respond

from bot.dispatch.slack_messages import ACTION_IDS


def dispatch_button(ack: Ack, body: dict, action: dict, context: BoltContext, respond: Respond) -> None:
    """Yes / No / Acknowledge on a Dispatch message: ack at once, answer on Switchboard's own pool."""
    ack()
    runtime = context["runtime"]
    service = runtime.services.get("dispatch")
    value = str(action.get("value") or "")
    if service is None or not value.isdigit():
        respond(
            text="This button no longer works here (alarm dispatch is off, or the button is broken).",
            replace_original=False,
        )
        return
    user = body.get("user") or {}
    container = body.get("container") or {}
    runtime.submit(
        service.answer,
        int(value),
        action["action_id"],
        user.get("id", ""),
        user.get("username") or user.get("name") or "",
        container.get("channel_id") or (body.get("channel") or {}).get("id", ""),
        container.get("message_ts", ""),
        lambda text: respond(text=text, replace_original=False, response_type="ephemeral"),
    )


# action_id -> handler, registered by listeners/actions/__init__.py
ACTIONS = {action_id: dispatch_button for action_id in ACTION_IDS}
