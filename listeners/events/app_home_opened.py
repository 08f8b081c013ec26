from slack_bolt import BoltContext


def app_home_opened(event: dict, context: BoltContext) -> None:
    """Events are acked by Bolt before this runs; the view is built and published after."""
    if event.get("tab", "home") == "home":
        runtime = context["runtime"]
        runtime.submit(runtime.home.publish, event["user"])
