from slack_bolt import Ack, BoltContext, Respond


def support_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/support report|status|forget <link>|help`: acked at once, answered from Switchboard's own pool."""
    ack()
    runtime = context["runtime"]
    service = runtime.services.get("support")
    if service is None:
        needs = "ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN and SUPPORT_CHANNELS"
        respond(f"The support desk is off: it needs {needs}.")
        return

    def answer() -> None:
        respond(service.command(command.get("user_id", ""), command.get("channel_id", ""), command.get("text", "")))

    runtime.submit(answer)
