"""The SQS intake's parts: its settings, the SNS envelope, the batch rules (delete only what is stored), the client
against moto in-process, and boto3 staying unloaded without a queue."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from bot.clients.sqs import QueueError, QueueMessage, connect, region_of
from bot.dispatch.config import load
from bot.dispatch.message_spec import InvalidMessage
from bot.dispatch.sqs_intake import QueueIntake, unwrap_sns
from bot.settings import ROOT, SettingsError, load_settings

BASE = {"GITHUB_TOKEN": "t", "GITHUB_REPO": "acme/alerts"}
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/alarms"


def config(**env: str):
    return load(load_settings({**BASE, **env}, dotenv_path=None))


def envelope(message: Any, **fields: Any) -> str:
    """An SNS notification as SNS delivers it to a subscribed queue (raw message delivery off)."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "5f2a6c1e-sns",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:dispatch",
            "Message": message,
            "Timestamp": "2026-01-01T00:00:00.000Z",
            **fields,
        }
    )


# --- settings -----------------------------------------------------------------------------------------------


def test_the_queue_is_off_by_default_and_polls_for_20_seconds():
    cfg = config()
    assert (cfg.sqs_queue_url, cfg.sqs_endpoint_url) == (None, None)
    assert (cfg.sqs_wait_seconds, cfg.sqs_visibility_seconds) == (20, 60)


def test_queue_settings_are_read_and_checked():
    cfg = config(
        DISPATCH_SQS_QUEUE_URL=QUEUE_URL,
        DISPATCH_SQS_ENDPOINT_URL="http://127.0.0.1:4566",
        DISPATCH_SQS_WAIT_SECONDS="1",
        DISPATCH_SQS_VISIBILITY_SECONDS="30",
    )
    assert (cfg.sqs_queue_url, cfg.sqs_endpoint_url) == (QUEUE_URL, "http://127.0.0.1:4566")
    assert (cfg.sqs_wait_seconds, cfg.sqs_visibility_seconds) == (1, 30)
    assert config(DISPATCH_SQS_QUEUE_URL="http://127.0.0.1:5000/123456789012/alarms.fifo").sqs_queue_url


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DISPATCH_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/alarms"},
            "DISPATCH_SQS_QUEUE_URL must be an SQS queue URL such as "
            "https://sqs.us-east-1.amazonaws.com/123456789012/alarms, got 'https://sqs.eu-west-1.amazonaws.com/alarms'",
        ),
        (
            {"DISPATCH_SQS_QUEUE_URL": "http://sqs.eu-west-1.amazonaws.com/123456789012/alarms"},
            "DISPATCH_SQS_QUEUE_URL must use https://",
        ),
        (
            {"DISPATCH_SQS_WAIT_SECONDS": "0"},
            "DISPATCH_SQS_WAIT_SECONDS must be a whole number of seconds from 1 to 20",
        ),
        ({"DISPATCH_SQS_WAIT_SECONDS": "21"}, "DISPATCH_SQS_WAIT_SECONDS must be a whole number of seconds from 1"),
        ({"DISPATCH_SQS_VISIBILITY_SECONDS": "0"}, "DISPATCH_SQS_VISIBILITY_SECONDS must be a whole number of seconds"),
        ({"DISPATCH_SQS_ENDPOINT_URL": "http://sqs.internal:4566"}, "DISPATCH_SQS_ENDPOINT_URL must use https://"),
    ],
)
def test_a_bad_queue_setting_names_itself(env, expected):
    with pytest.raises(SettingsError, match="^" + re.escape(expected)):
        config(**env)


def test_the_region_comes_from_the_queue_url():
    assert region_of(QUEUE_URL) == "eu-west-1"
    assert region_of("https://us-gov-west-1.queue.amazonaws.com/123456789012/a") == "us-gov-west-1"
    assert region_of("https://vpce-0a1b.sqs.ap-southeast-2.vpce.amazonaws.com/123456789012/a") == "ap-southeast-2"
    assert region_of("http://127.0.0.1:4566/000000000000/alarms") is None


# --- the SNS envelope ---------------------------------------------------------------------------------------


def test_an_sns_notification_is_unwrapped_and_a_raw_message_kept():
    raw = json.dumps({"type": "low-priority", "requestId": "r1", "body": {"github": {"title": "t", "body": "b"}}})
    assert unwrap_sns(envelope(raw)) == (raw, "5f2a6c1e-sns")
    assert unwrap_sns(raw) == (raw, None)
    assert unwrap_sns("{not json") == ("{not json", None)  # validating it says what is wrong
    assert unwrap_sns(envelope(raw, MessageId=None)) == (raw, None)
    assert unwrap_sns(envelope(raw, MessageId="x\ny")) == (raw, None)  # never a requestId with a newline


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (envelope(None, Type="SubscriptionConfirmation"), "an SNS SubscriptionConfirmation, not an alarm; confirm"),
        (envelope({"type": "nag"}), "the SNS notification's Message must be a string holding the MESSAGE-SPEC JSON"),
        (envelope("x", Type="Surprise\n"), "an SNS message of Type 'Surprise\\n', not a Notification"),
    ],
)
def test_sns_messages_that_are_not_alarms_are_refused(body, expected):
    with pytest.raises(InvalidMessage) as refused:
        unwrap_sns(body)
    assert refused.value.errors[0].startswith(expected)


# --- a batch: only what is stored is deleted ------------------------------------------------------------------


class FakeQueue:
    queue_url = QUEUE_URL

    def __init__(self, fail_delete: bool = False) -> None:
        self.deleted: list[str] = []
        self.fail_delete = fail_delete

    def receive(self, wait_seconds: int, visibility_seconds: int) -> list[QueueMessage]:
        return []

    def delete(self, messages: Sequence[QueueMessage]) -> dict[str, str]:
        if self.fail_delete:
            raise QueueError("SQS answered AccessDenied: not allowed")
        self.deleted.extend(m.message_id for m in messages)
        return {}


def message(message_id: str, body: str, receive_count: int = 1) -> QueueMessage:
    return QueueMessage(message_id, f"receipt-{message_id}", body, receive_count)


def intake(queue: FakeQueue, accept: Any) -> QueueIntake:
    return QueueIntake(queue, accept, wait_seconds=1, visibility_seconds=1, backoff_base=0.01)  # type: ignore[arg-type]


def test_only_stored_messages_are_deleted_and_the_log_says_why_the_others_stay(caplog):
    queue = FakeQueue()
    taken: list[tuple[str, str]] = []

    def accept(body: str, message_id: str) -> None:
        taken.append((body, message_id))
        if body == "bad":
            raise InvalidMessage(["type is required", "a\nforged line"])
        if body == "crash":
            raise RuntimeError("database is locked")

    with caplog.at_level(logging.WARNING, logger="bot.dispatch.sqs_intake"):
        intake(queue, accept).take_in(
            [message("m1", "good"), message("m2", "bad", receive_count=2), message("m3", "crash"), message("m4", "dup")]
        )
    assert taken == [("good", "m1"), ("bad", "m2"), ("crash", "m3"), ("dup", "m4")]
    assert queue.deleted == ["m1", "m4"]
    warning = next(r.getMessage() for r in caplog.records if "not a valid alarm" in r.getMessage())
    assert warning == (
        "dispatch: SQS message 'm2' is not a valid alarm (received 2 time(s)); left on the queue for its "
        "dead-letter queue: 'type is required; a\\nforged line'"
    )
    assert any("could not store SQS message 'm3'" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_failed_delete_is_logged_and_the_intake_goes_on(caplog):
    queue = FakeQueue(fail_delete=True)
    with caplog.at_level(logging.WARNING, logger="bot.dispatch.sqs_intake"):
        intake(queue, lambda body, message_id: None).take_in([message("m1", "good")])
    assert "could not delete 1 stored SQS message(s)" in caplog.text and "AccessDenied" in caplog.text


def test_a_batch_received_while_stopping_is_left_for_redelivery():
    queue = FakeQueue()
    taken: list[str] = []
    stopping = intake(queue, lambda body, message_id: taken.append(body))
    stopping.start()
    stopping.stop()
    assert not stopping.running
    stopping.take_in([message("m1", "good")])  # what a long poll returns after stop()
    assert (taken, queue.deleted) == ([], [])


# --- the client, against moto in-process ----------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch):
    """Dummy credentials for moto; nothing leaves the process."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    from moto import mock_aws

    with mock_aws():
        yield


def test_receive_and_delete_through_boto3(aws):
    settings = load_settings({**BASE, "SWITCHBOARD_RETRY_PROFILE": "test"}, dotenv_path=None)
    import boto3

    url = boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="alarms")["QueueUrl"]
    queue = connect(settings, url, endpoint_url=None, wait_seconds=1)  # the region comes from the queue URL
    queue.client.send_message(QueueUrl=url, MessageBody="hello")
    [received] = queue.receive(wait_seconds=1, visibility_seconds=1)
    assert (received.body, received.receive_count) == ("hello", 1)
    assert queue.delete([received]) == {}
    assert queue.delete([received]) == {}  # SQS accepts a receipt deleted already
    assert queue.receive(wait_seconds=1, visibility_seconds=1) == []


def test_sqs_errors_become_queue_errors(aws):
    settings = load_settings(BASE, dotenv_path=None)
    queue = connect(
        settings, "https://sqs.eu-west-1.amazonaws.com/123456789012/missing", endpoint_url=None, wait_seconds=1
    )
    with pytest.raises(QueueError, match=r"^SQS answered .*NonExistentQueue"):
        queue.receive(wait_seconds=1, visibility_seconds=1)


def test_a_queue_without_a_region_needs_aws_region(aws, monkeypatch):
    settings = load_settings(BASE, dotenv_path=None)
    url = "http://127.0.0.1:4566/000000000000/alarms"
    with pytest.raises(QueueError, match=r"names no AWS region .* set AWS_REGION"):
        connect(settings, url, endpoint_url="http://127.0.0.1:4566", wait_seconds=1)
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert connect(settings, url, endpoint_url="http://127.0.0.1:4566", wait_seconds=1).client.meta.region_name == (
        "eu-north-1"
    )


def test_without_boto3_the_setting_is_named_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed: importing it raises ImportError
    settings = load_settings(BASE, dotenv_path=None)
    with pytest.raises(
        QueueError, match=r"boto3 is not installed \(it is optional\): install it with pip install boto3"
    ):
        connect(settings, QUEUE_URL, endpoint_url=None, wait_seconds=1)


def test_boto3_is_not_loaded_without_a_queue():
    code = (
        "import sys, bot.wiring, bot.clients.sqs, bot.dispatch.service, bot.dispatch.sqs_intake; "
        "sys.exit('boto3' in sys.modules or 'botocore' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0
