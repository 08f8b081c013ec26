from slack_bolt import Ack, BoltContext, Respond

from bot.capabilities import describe
from bot.dispatch.commands import HELP, run_command


def dispatch_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/dispatch …`: ack at once; validation, access checks and routing run on Switchboard's own pool."""
    ack()
    runtime = context["runtime"]
    service = runtime.services.get("dispatch")
    if service is None:
        _, why = describe(runtime.settings.capability("dispatch"))
        respond(f"Alarm dispatch is not running in this Switchboard ({why}).\n{HELP}")
        return
    user, name, text = command["user_id"], command.get("user_name", ""), command.get("text", "")
    trigger = command.get("trigger_id")
    runtime.submit(lambda: respond(run_command(service, user, name, text, trigger)))
