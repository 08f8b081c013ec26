from slack_bolt import Ack, BoltContext, Respond

from bot.failures import retried_answer


def retry_effect(ack: Ack, body: dict, action: dict, context: BoltContext, respond: Respond) -> None:
    """The Retry button of a failure alert: admins re-queue the effect under its own idempotency key."""
    ack()
    runtime = context["runtime"]
    user_id = (body.get("user") or {}).get("id", "")
    value = str(action.get("value") or "")

    def retry() -> None:
        if not runtime.is_admin(user_id):
            text = "Only Switchboard admins (SWITCHBOARD_ADMINS, workspace admins and owners) can retry failed work."
        elif not value.isdigit() or runtime.failures is None:
            text = "This Retry button is broken: nothing was re-queued."
        else:
            text = retried_answer(user_id, int(value), runtime.failures.retry(int(value)))
        respond(text=text, replace_original=False, response_type="ephemeral")

    runtime.submit(retry)
