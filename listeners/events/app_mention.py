from slack_bolt import BoltContext


def app_mention(event: dict, context: BoltContext) -> None:
    """Someone @-mentioned the bot: every capability that answers mentions gets the event, after the ack."""
    runtime = context["runtime"]
    for service in runtime.mention_readers:
        runtime.submit(service.on_mention, event)
