from slack_bolt import Ack, BoltContext, Respond

from bot.status import HELP, status_text


def switchboard_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/switchboard [status|help]`: what is on, and how the jobs are doing."""
    ack()
    words = command.get("text", "").split()
    if not words or words[0] == "help":
        respond(HELP)
    elif words[0] == "status":
        respond(status_text(context["runtime"]))
    else:
        respond(f"I don't know `{words[0]}`. {HELP}")
