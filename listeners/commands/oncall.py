from slack_bolt import Ack, BoltContext, Respond

OFF = "On-call topics are off in this Switchboard: set PAGERDUTY_API_TOKEN and restart it."


def oncall_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/oncall …`: ack at once; the answer (PagerDuty and Slack lookups) comes from Switchboard's own pool."""
    ack()
    runtime = context["runtime"]
    service = runtime.services.get("oncall")
    if service is None:
        respond(OFF)
        return
    user, channel, text = command["user_id"], command["channel_id"], command.get("text", "")
    runtime.submit(lambda: respond(service.handle_command(user, channel, text)))
