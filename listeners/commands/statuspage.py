from slack_bolt import Ack, BoltContext, Respond


def statuspage_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/statuspage [status|map|unmap|help]`: ack at once; lookups and admin checks run on Switchboard's pool."""
    ack()
    runtime = context["runtime"]
    service = runtime.services.get("statuspage")
    if service is None:
        capability = runtime.settings.capability("statuspage")
        missing = ", ".join(capability.missing) or "nothing"
        respond(f"The status page is off in this Switchboard (missing settings: {missing}).")
        return
    user_id, text = command.get("user_id", ""), command.get("text", "")
    runtime.submit(lambda: respond(service.commands.answer(user_id, text)))
