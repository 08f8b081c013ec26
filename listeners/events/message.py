from slack_bolt import BoltContext


def message(event: dict, context: BoltContext) -> None:
    """Every capability that reads messages (support threads, topic edits) gets the event, after the ack."""
    runtime = context["runtime"]
    for service in runtime.message_readers:
        runtime.submit(service.on_message, event)
