from slack_bolt import Ack, BoltContext, Respond

from bot.doctor import report as doctor_report
from bot.failures import failed_list
from bot.status import HELP, status_text
from listeners.replies import reply


def switchboard_command(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
    """`/switchboard [status|digest|doctor|failed|help]`: what is on, the day so far, problems, failed work."""
    ack()
    words = command.get("text", "").split()
    if not words or words[0] == "help":
        respond(HELP)
    elif words[0] == "status":
        runtime = context["runtime"]
        reply(respond, runtime.slack, command.get("user_id", ""), status_text(runtime))
    elif words[0] == "digest":
        runtime = context["runtime"]
        user_id = command.get("user_id", "")
        runtime.submit(lambda: reply(respond, runtime.slack, user_id, runtime.digest_now()))
    elif words[0] == "doctor":
        runtime = context["runtime"]
        user_id = command.get("user_id", "")

        def examine() -> None:
            if not runtime.is_admin(user_id):
                respond("Only Switchboard admins can run the doctor (it reads every integration's configuration).")
            else:
                reply(respond, runtime.slack, user_id, doctor_report(runtime.doctor()))

        runtime.submit(examine)
    elif words[0] == "failed":
        runtime = context["runtime"]
        user_id = command.get("user_id", "")

        def answer() -> None:
            if not runtime.is_admin(user_id):
                respond("Only Switchboard admins can list failed work (it names people and tickets).")
            else:
                reply(respond, runtime.slack, user_id, failed_list(runtime.failures.failed_effects()))

        runtime.submit(answer)
    else:
        respond(f"I don't know `{words[0]}`. {HELP}")
