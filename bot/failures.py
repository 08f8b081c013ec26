"""Work that failed for good is never silent.

When an outbox effect gives up (its handler refused it, or it failed `max_attempts` times), the admins hear of
it: a message in SWITCHBOARD_ALERT_CHANNEL, or else a DM to each SWITCHBOARD_ADMINS user, naming the capability,
what was lost and the last error, with a Retry button. Retry re-queues the same row, under the same idempotency
key, so a retried effect still happens at most once. `/switchboard failed` lists what is failed now.

The alert is itself an outbox effect (`core.failure_alert`); an alert that fails for good is logged, not alerted
about, so a broken alert channel cannot loop.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import Effect, GiveUp, Outbox, RetryLater, vendor_retry_after
from bot.settings import Settings
from bot.store import Store
from bot.text import escape, mention

log = logging.getLogger(__name__)

ALERT_KIND = "core.failure_alert"
RETRY_ACTION = "core.retry_effect"
DM_REFUSALS = {"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot", "not_in_channel"}

# (kind, payload) -> (capability title, what was lost); built by the wiring from the capability specs.
Describe = Callable[[str, dict[str, Any]], tuple[str, str]]


@dataclass(frozen=True)
class FailedEffect:
    id: int
    key: str
    kind: str
    capability: str
    what: str
    error: str
    failed_at: float


class FailureAlerts:
    def __init__(self, settings: Settings, store: Store, outbox: Outbox, slack: WebClient, describe: Describe):
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.slack = slack
        self.describe = describe

    def effects(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {ALERT_KIND: self.send_alert}

    # --- when an effect fails for good -----------------------------------------------------------
    def on_failed(self, effect: Effect, error: str) -> None:
        if effect.kind == ALERT_KIND:
            log.error("the alert about failed effect %s could not be sent either: %s", effect.payload, error)
            return
        # One alert per failure: a retried effect that fails again is alerted again (attempts differ).
        self.outbox.enqueue(f"{ALERT_KIND}:{effect.id}:{effect.attempts}", ALERT_KIND, {"effect_id": effect.id})

    def send_alert(self, payload: dict[str, Any]) -> dict[str, Any]:
        failed = self.failed_effect(int(payload["effect_id"]))
        if failed is None:
            return {"skipped": "retried or removed before the alert went out"}
        text, blocks = alert_message(failed)
        channels = [self.settings.switchboard_alert_channel] if self.settings.switchboard_alert_channel else []
        channels = channels or list(self.settings.switchboard_admins)
        if not channels:
            log.error("effect %s failed for good and nobody is set to hear of it: %s", failed.key, failed.error)
            return {"skipped": "no SWITCHBOARD_ALERT_CHANNEL or SWITCHBOARD_ADMINS"}
        sent = {}
        for channel in channels:
            try:
                answer = self.slack.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
            except SlackApiError as error:
                code = slack_error(error)
                if code == "ratelimited":
                    raise RetryLater(code, vendor_retry_after(error)) from error
                if code in DM_REFUSALS and len(channels) > 1:
                    log.warning("cannot tell %s about failed effect %s: %s", channel, failed.key, code)
                    continue
                if code in DM_REFUSALS:
                    raise GiveUp(code) from error
                raise
            sent[channel] = answer.get("ts")
        return {"sent": sent}

    # --- reading and retrying --------------------------------------------------------------------
    def failed_effect(self, effect_id: int) -> FailedEffect | None:
        row = self.store.query_one("SELECT * FROM outbox WHERE id = ? AND state = 'failed'", [effect_id])
        return self._failed(row) if row else None

    def failed_effects(self) -> list[FailedEffect]:
        rows = self.store.query(
            "SELECT * FROM outbox WHERE state = 'failed' AND kind != ? ORDER BY done_at DESC, id DESC", [ALERT_KIND]
        )
        return [self._failed(row) for row in rows]

    def _failed(self, row: dict[str, Any]) -> FailedEffect:
        capability, what = self.describe(row["kind"], json.loads(row["payload"]))
        return FailedEffect(
            row["id"], row["key"], row["kind"], capability, what, row["last_error"] or "", row["done_at"] or 0.0
        )

    def retry(self, effect_id: int) -> bool:
        """Re-queue a failed effect under its own idempotency key; False when it is not failed (any more)."""
        changed = self.store.execute(
            "UPDATE outbox SET state = 'pending', failures = 0, next_attempt_at = ?, done_at = NULL "
            "WHERE id = ? AND state = 'failed'",
            [time.time(), effect_id],
        )
        if changed:
            self.outbox.wake()
        return bool(changed)


def alert_message(failed: FailedEffect) -> tuple[str, list[dict[str, Any]]]:
    text = (
        f":rotating_light: *{escape(failed.capability)}* gave up on: {failed.what}\n"
        f"Last error: `{escape(failed.error[:500])}`"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Effect `{escape(failed.key[:200])}` · only admins can retry"}],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": RETRY_ACTION,
                    "text": {"type": "plain_text", "text": "Retry"},
                    "value": str(failed.id),
                    "style": "primary",
                }
            ],
        },
    ]
    return text, blocks


def failed_list(failed: list[FailedEffect]) -> str:
    if not failed:
        return "No effect has failed for good: nothing was lost."
    lines = [f"*{len(failed)} effect(s) failed for good* (the alert message of each has a Retry button):"]
    lines += [
        f"• *{escape(f.capability)}*: {f.what} — `{escape(f.error[:150])}` (effect {f.id})" for f in failed
    ]
    return "\n".join(lines)


def retried_answer(user_id: str, effect_id: int, ok: bool) -> str:
    if ok:
        return f"{mention(user_id)} re-queued effect {effect_id}: it runs again under its own idempotency key."
    return f"Effect {effect_id} is not failed any more (already retried, or done)."
