import math
from collections.abc import Callable

from slack_bolt import Ack, BoltContext, Respond

from bot.capability import Answer, CapabilitySpec, CommandRequest, SlashCommand
from bot.logs import bind
from bot.runtime import Runtime
from listeners.replies import reply


def capability_command(spec: CapabilitySpec, slash: SlashCommand) -> Callable[..., None]:
    """The listener of one capability's slash command: ack at once, answer on Switchboard's own pool."""

    def listener(ack: Ack, command: dict, context: BoltContext, respond: Respond) -> None:
        ack()
        runtime: Runtime = context["runtime"]
        service = runtime.services.get(spec.name)
        if service is None:
            respond(spec.off_message(runtime.settings))
            return
        wait = runtime.command_pacer.admit(command.get("user_id", ""))
        if wait:
            respond(f"You're running commands quickly: try again in {math.ceil(wait)} s.")
            return
        request = CommandRequest(
            user_id=command.get("user_id", ""),
            user_name=command.get("user_name", ""),
            channel_id=command.get("channel_id", ""),
            text=command.get("text", ""),
            trigger_id=command.get("trigger_id"),
        )

        def answer() -> None:
            reply(respond, runtime.slack, request.user_id, shadowed(runtime, request, slash.answer(service, request)))

        with bind(capability=spec.name):
            runtime.submit(answer)

    def shadowed(runtime: Runtime, request: CommandRequest, answer: Answer) -> Answer:
        """In shadow mode an answer that would have changed something says so."""
        verb = (request.text.split() or [""])[0].lower()
        if isinstance(answer, str) and verb in slash.changes and runtime.shadow.active(spec.name):
            return f"(shadow) {answer}"
        return answer

    listener.__name__ = f"{spec.name}_command"
    return listener
