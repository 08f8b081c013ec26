"""The SQS intake: long-polls a queue subscribed to the producers' SNS topic, so the bot needs no public URL.

Dispatch producers publish MESSAGE-SPEC JSON to an SNS topic; a queue subscribed to the topic holds each one in
SNS's notification envelope (or as the raw message, with raw message delivery on). One thread receives up to ten
at a time and takes each in through the same door as the CLI and the HTTP intake:

- a message is deleted only once its alarm is stored, or was already: SQS and SNS deliver at least once, and the
  alert store keeps one alert per requestId, so a redelivered message makes no second alarm;
- a message that is not a valid alarm is left on the queue and the log says why; once it has been received
  maxReceiveCount times, the queue's redrive policy moves it to the dead-letter queue;
- a message that could not be stored (the database failed) is left too, and received again after the visibility
  timeout.

Shutdown does not wait for a long poll: `stop()` waits only for the batch being taken in. Messages a poll returns
after that are left alone and received again once their visibility timeout is over.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Sequence

from bot.clients.sqs import QueueError, QueueMessage, SqsQueue
from bot.dispatch.message_spec import InvalidMessage
from bot.text import quoted

log = logging.getLogger(__name__)

SNS_NOTIFICATION = "Notification"
# The other messages SNS itself sends to a subscribed queue (none is an alarm), and what to do about each.
SNS_CONTROL_MESSAGES = {
    "SubscriptionConfirmation": "an SNS SubscriptionConfirmation, not an alarm; confirm the subscription in AWS",
    "UnsubscribeConfirmation": "an SNS UnsubscribeConfirmation, not an alarm",
}
MAX_BACKOFF_SECONDS = 60.0  # between receives while the queue cannot be reached
# SNS's MessageId is a UUID: anything else in an envelope is not used as a requestId (which it may become).
_NOTIFICATION_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
STOP_WAIT_SECONDS = 2.0  # how long stop() waits for the thread; a long poll in progress is not waited for

# (SQS message body, SQS message ID) -> anything; raises InvalidMessage when the message is not a valid alarm.
Accept = Callable[[str, str], object]


def unwrap_sns(body: str) -> tuple[str, str | None]:
    """The message inside an SNS notification envelope with the notification's MessageId, or the body itself (a
    raw MESSAGE-SPEC, or anything else: validating it says what is wrong) with None. InvalidMessage for SNS's
    own control messages and for an envelope without a message."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return body, None
    # MESSAGE-SPEC fields are lower camel case (`type`): a capitalised `Type` with a TopicArn is SNS's envelope.
    if not isinstance(envelope, dict) or "Type" not in envelope or "TopicArn" not in envelope:
        return body, None
    kind = envelope["Type"]
    if isinstance(kind, str) and kind in SNS_CONTROL_MESSAGES:
        raise InvalidMessage([SNS_CONTROL_MESSAGES[kind]])
    if kind != SNS_NOTIFICATION:
        raise InvalidMessage([f"an SNS message of Type {str(kind)[:100]!r}, not a Notification"])
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise InvalidMessage(["the SNS notification's Message must be a string holding the MESSAGE-SPEC JSON"])
    notification_id = envelope.get("MessageId")
    usable = isinstance(notification_id, str) and _NOTIFICATION_ID.fullmatch(notification_id)
    return message, notification_id if usable else None


class QueueIntake:
    def __init__(
        self,
        queue: SqsQueue,
        accept: Accept,
        *,
        wait_seconds: int,
        visibility_seconds: int,
        backoff_base: float,
    ):
        self.queue = queue
        self.wait_seconds = wait_seconds
        self.visibility_seconds = visibility_seconds
        self.backoff_base = backoff_base
        self._accept = accept
        self._stopping = threading.Event()
        self._batch = threading.Lock()  # held while a batch is taken in and deleted
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="dispatch-sqs", daemon=True)
        self._thread.start()
        log.info("dispatch: SQS intake polling %s", quoted(self.queue.queue_url))

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        with self._batch:  # a batch being taken in is finished, and deleted, before the store closes
            pass
        # A long poll still waiting is not waited for: whatever it returns is left for redelivery (the daemon
        # thread sees the stop flag before touching the store).
        thread.join(STOP_WAIT_SECONDS)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                messages = self.queue.receive(self.wait_seconds, self.visibility_seconds)
            except Exception as error:  # a bug or an unreachable queue must not end the intake
                failures += 1
                delay = min(self.backoff_base * 2 ** min(failures - 1, 16), MAX_BACKOFF_SECONDS)
                reason = error if isinstance(error, QueueError) else f"{type(error).__name__}: {error}"
                log.warning(
                    "dispatch: cannot receive from the SQS queue (%d time(s) in a row; next try in %.1f s): %s",
                    failures,
                    delay,
                    quoted(reason),
                )
                self._stopping.wait(delay)
                continue
            if failures:
                log.info("dispatch: the SQS queue answers again")
                failures = 0
            if messages:
                self.take_in(messages)

    def take_in(self, messages: Sequence[QueueMessage]) -> None:
        """Take each message in, then delete those whose alarm is stored; the others stay on the queue."""
        with self._batch:
            if self._stopping.is_set():
                return  # shutting down: received again once their visibility timeout is over
            self._delete([message for message in messages if self._stored(message)])

    def _stored(self, message: QueueMessage) -> bool:
        """True when the message's alarm is stored (now or by an earlier delivery): it may be deleted."""
        try:
            self._accept(message.body, message.message_id)
        except InvalidMessage as invalid:
            log.warning(
                "dispatch: SQS message %s is not a valid alarm (received %d time(s)); left on the queue for its "
                "dead-letter queue: %s",
                quoted(message.message_id),
                message.receive_count,
                quoted("; ".join(invalid.errors)),
            )
            return False
        except Exception:
            log.exception(
                "dispatch: could not store SQS message %s; it is received again after the visibility timeout",
                quoted(message.message_id),
            )
            return False
        return True

    def _delete(self, messages: list[QueueMessage]) -> None:
        if not messages:
            return
        try:
            failed = self.queue.delete(messages)
        except QueueError as error:
            log.warning(
                "dispatch: could not delete %d stored SQS message(s); when received again their requestId is "
                "recognised and they are deleted then: %s",
                len(messages),
                quoted(error),
            )
            return
        for message_id, reason in failed.items():
            log.warning("dispatch: SQS did not delete stored message %s: %s", quoted(message_id), quoted(reason))
