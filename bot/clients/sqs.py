"""Amazon SQS, for dispatch's queue intake: the only module that imports boto3, an optional dependency.

boto3 is imported when a queue is connected (DISPATCH_SQS_QUEUE_URL is set), never when this module is imported, so
a bot without a queue neither needs nor loads it. Credentials come from AWS's standard chain (environment
variables, the shared credentials and config files, a container or instance role), never from a Switchboard
setting. Every call goes out from the bot: a queue needs no public URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.metrics import count_vendor_response
from bot.settings import Settings

__all__ = ["MAX_MESSAGES", "QueueError", "QueueMessage", "SqsQueue", "connect", "region_of"]

VENDOR = "sqs"
MAX_MESSAGES = 10  # the most one ReceiveMessage may return
# us-east-1, eu-central-2, us-gov-west-1, cn-north-1: a host label of an SQS URL that names its region.
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


class QueueError(Exception):
    """SQS could not be reached, refused the call, or cannot be used here; the text says why (never a secret)."""


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str  # what deleting this receipt of the message needs
    body: str
    receive_count: int  # 1 the first time; the queue's redrive policy counts these up to its maxReceiveCount


def region_of(queue_url: str) -> str | None:
    """The region an AWS queue URL names (`https://sqs.eu-west-1.amazonaws.com/…`, legacy
    `https://eu-west-1.queue.amazonaws.com/…`); None for a URL without one, such as a local emulator's."""
    host = urlsplit(queue_url).hostname or ""
    return next((label for label in host.split(".") if _REGION.fullmatch(label)), None)


class SqsQueue:
    """One queue: long-poll receives and batch deletes, errors as QueueError."""

    def __init__(self, client: Any, queue_url: str, errors: tuple[type[Exception], ...]):
        self.client = client
        self.queue_url = queue_url
        self._errors = errors  # botocore's exception bases: caught here, so callers never import botocore

    def receive(self, wait_seconds: int, visibility_seconds: int) -> list[QueueMessage]:
        """Up to MAX_MESSAGES messages, waiting up to `wait_seconds` for the first (a long poll). Each stays hidden
        from other receives for `visibility_seconds`; one not deleted by then is received again."""
        try:
            answer = self.client.receive_message(
                QueueUrl=self.queue_url,
                WaitTimeSeconds=wait_seconds,
                MaxNumberOfMessages=MAX_MESSAGES,
                VisibilityTimeout=visibility_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
        except self._errors as error:
            raise QueueError(_reason(error)) from error
        return [
            QueueMessage(
                message_id=str(item.get("MessageId", "")),
                receipt_handle=str(item["ReceiptHandle"]),
                body=str(item.get("Body", "")),
                receive_count=int((item.get("Attributes") or {}).get("ApproximateReceiveCount", 1)),
            )
            for item in answer.get("Messages", [])
        ]

    def delete(self, messages: Sequence[QueueMessage]) -> dict[str, str]:
        """Delete these receipts in one call (at most MAX_MESSAGES); returns {message ID: why} for those SQS did
        not delete. A QueueError means none is known to be deleted."""
        if not messages:
            return {}
        entries = [{"Id": str(index), "ReceiptHandle": m.receipt_handle} for index, m in enumerate(messages)]
        try:
            answer = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except self._errors as error:
            raise QueueError(_reason(error)) from error
        failed: dict[str, str] = {}
        for failure in answer.get("Failed", []):
            message = messages[int(failure["Id"])]
            failed[message.message_id] = f"{failure.get('Code', 'error')}: {failure.get('Message', '')}".rstrip(": ")
        return failed


def connect(settings: Settings, queue_url: str, *, endpoint_url: str | None, wait_seconds: int) -> SqsQueue:
    """A client for this queue. Raises QueueError when boto3 is not installed or no region can be found: the
    URL's own, else AWS_REGION or AWS_DEFAULT_REGION, else the shared AWS config file's."""
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError as error:
        raise QueueError("boto3 is not installed (it is optional): install it with pip install boto3") from error
    profile = settings.retry_profile
    region = region_of(queue_url) or next((os.environ[n] for n in _REGION_VARIABLES if os.environ.get(n)), None)
    session = boto3.session.Session(region_name=region)  # its own session: the default one is not thread-safe
    if not session.region_name:
        raise QueueError(
            "the queue URL names no AWS region and none is configured: set AWS_REGION (or AWS_DEFAULT_REGION)"
        )
    config = botocore.config.Config(
        connect_timeout=profile.timeout,
        read_timeout=wait_seconds + profile.timeout,  # a long poll legitimately keeps the answer for wait_seconds
        retries={"mode": "standard", "total_max_attempts": 1 + profile.network_retries},
    )
    client = session.client("sqs", endpoint_url=endpoint_url, config=config, verify=settings.ca_bundle or None)
    client.meta.events.register("response-received.sqs", _count_response)
    errors = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)
    return SqsQueue(client, queue_url, errors)


def _count_response(response_dict: dict[str, Any] | None = None, **_: Any) -> None:
    """Every HTTP answer SQS gives (retries count each time), for the metrics."""
    if response_dict is not None:
        count_vendor_response(VENDOR, int(response_dict.get("status_code", 0)))


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"SQS answered {details.get('Code', 'an error')}: {details.get('Message', '')}".rstrip(": ")
    return str(error) or type(error).__name__
