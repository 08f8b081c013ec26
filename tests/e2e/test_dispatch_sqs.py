"""The SQS intake end to end: the real bot long-polls a queue on moto's SQS server (real HTTP from boto3 to
127.0.0.1), with a dead-letter queue behind a redrive policy, as a queue subscribed to producers' SNS topic."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bot.settings import SettingsError
from tests.e2e.test_dispatch import alert, broadcast, dispatch_bot, dm_messages, self_service, wait_prompt, wait_state

TOPIC = "arn:aws:sns:us-east-1:123456789012:dispatch"
MAX_RECEIVES = 2  # the redrive policy's maxReceiveCount
WAIT = 30.0  # the bad message needs a few receives and visibility timeouts before it is moved


@dataclass
class Queues:
    endpoint: str
    client: Any
    url: str
    dead_letters: str

    def send(self, body: str) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=body)

    def count(self, url: str, attribute: str) -> int:
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"]
        return int(attributes[attribute])

    def settings(self) -> dict[str, str]:
        return {
            "DISPATCH_SQS_QUEUE_URL": self.url,
            "DISPATCH_SQS_ENDPOINT_URL": self.endpoint,
            "DISPATCH_SQS_WAIT_SECONDS": "1",  # a short long poll: the bot stops quickly after each test
            "DISPATCH_SQS_VISIBILITY_SECONDS": "1",  # a message left on the queue comes back quickly
        }


@pytest.fixture
def queues(monkeypatch) -> Iterator[Queues]:
    """moto's SQS on 127.0.0.1 with a queue and its dead-letter queue; dummy AWS credentials for this test only
    (boto3 reads them from the environment)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_REGION", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
        dead_letters = client.create_queue(QueueName="dispatch-dead-letters")["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]
        policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": str(MAX_RECEIVES)}
        url = client.create_queue(QueueName="dispatch", Attributes={"RedrivePolicy": json.dumps(policy)})["QueueUrl"]
        yield Queues(endpoint, client, url, dead_letters)
    finally:
        server.stop()


def sns(message: dict[str, Any], notification_id: str) -> str:
    """A message as SNS delivers it to a subscribed queue: in its notification envelope."""
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": notification_id,
            "TopicArn": TOPIC,
            "Message": json.dumps(message),
            "Timestamp": "2026-01-01T00:00:00.000Z",
            "SignatureVersion": "1",
        }
    )


def alarms_from_sqs(bot: Any) -> list[str]:
    rows = bot.runtime.store.query("SELECT request_id FROM dispatch_alerts WHERE source = 'sqs' ORDER BY id")
    return [row["request_id"] for row in rows]


def texts(bot: Any, user: str) -> list[str]:
    return [message.get("text", "") for message in dm_messages(bot, user)]


def test_an_sqs_round_trip_with_a_redelivered_message_makes_one_alarm(queues, make_bot, caplog):
    caplog.set_level(logging.WARNING, logger="bot.dispatch")
    bot = dispatch_bot(make_bot, **queues.settings())
    keys = broadcast("sqs-1", [{"slackId": "U0CAROL"}])
    queues.send(sns(keys, "sns-a"))
    queues.send(sns(keys, "sns-b"))  # the producer sent it again: same requestId, another notification
    unnamed = broadcast("ignored", [{"slackId": "U0DAVE"}])
    del unnamed["requestId"]
    queues.send(sns(unnamed, "sns-c"))
    queues.send(sns(unnamed, "sns-c"))  # SNS delivered one notification twice: known by its MessageId
    queues.send(json.dumps(self_service("sqs-raw")))  # raw message delivery: the MESSAGE-SPEC itself
    bad = json.dumps(self_service("sqs-bad", users=[{"slackId": "bob"}]))
    queues.send(bad)

    wait_prompt(bot, "U0BOB")
    wait_state(bot, "sqs-1", "notified")
    wait_state(bot, "sns-c", "notified")
    bot.slack.wait_for(
        lambda: queues.count(queues.dead_letters, "ApproximateNumberOfMessages") == 1,
        timeout=WAIT,
        message="the bad message in the dead-letter queue",
    )
    # Every good message was deleted once its alarm was stored, duplicates too: none is left, none in flight.
    bot.slack.wait_for(
        lambda: (
            not any(
                queues.count(queues.url, attribute)
                for attribute in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
            )
        ),
        timeout=WAIT,
        message="the good messages deleted",
    )
    bot.drain_outbox()

    assert sorted(alarms_from_sqs(bot)) == ["sns-c", "sqs-1", "sqs-raw"]  # one alarm per requestId
    assert texts(bot, "U0CAROL") == ["Please rotate your keys (sqs-1)"]  # one DM, not two
    assert texts(bot, "U0DAVE") == ["Please rotate your keys (ignored)"]
    assert alert(bot, "sqs-raw")["source"] == "sqs" and texts(bot, "U0BOB")[-1] == "Was this you?"
    [dead] = queues.client.receive_message(QueueUrl=queues.dead_letters, WaitTimeSeconds=1)["Messages"]
    assert dead["Body"] == bad

    why = [r.getMessage() for r in caplog.records if "not a valid alarm" in r.getMessage()]
    assert len(why) == MAX_RECEIVES  # once per receive, until the redrive policy moved it
    for receive, line in enumerate(why, start=1):
        assert line.endswith(
            f"is not a valid alarm (received {receive} time(s)); left on the queue for its dead-letter queue: "
            "\"users[0].slackId must be a Slack user ID such as U012AB3CD, got 'bob'\""
        )
    rejects = bot.runtime.store.query("SELECT source, payload FROM dispatch_rejects")
    assert [(row["source"], row["payload"]) for row in rejects] == [("sqs", bad)] * MAX_RECEIVES


def test_an_sns_subscription_confirmation_is_left_for_the_dead_letter_queue(queues, make_bot, caplog):
    caplog.set_level(logging.WARNING, logger="bot.dispatch")
    bot = dispatch_bot(make_bot, **queues.settings())
    confirmation = {"Type": "SubscriptionConfirmation", "MessageId": "sns-x", "TopicArn": TOPIC, "Token": "t"}
    queues.send(json.dumps(confirmation))
    bot.slack.wait_for(
        lambda: queues.count(queues.dead_letters, "ApproximateNumberOfMessages") == 1,
        timeout=WAIT,
        message="the confirmation in the dead-letter queue",
    )
    assert alarms_from_sqs(bot) == []
    assert "an SNS SubscriptionConfirmation, not an alarm; confirm the subscription in AWS" in caplog.text


def test_the_bot_stops_while_the_queue_is_long_polled_and_takes_up_where_it_left(queues, make_bot, world):
    first = dispatch_bot(make_bot, **queues.settings())
    queues.send(sns(self_service("sqs-before"), "sns-1"))
    wait_state(first, "sqs-before", "awaiting_answer")
    first.stop()  # bounded: it does not wait for the long poll in progress
    queues.send(sns(self_service("sqs-after", user="U0CAROL"), "sns-2"))
    second = dispatch_bot(make_bot, **queues.settings())
    wait_state(second, "sqs-after", "awaiting_answer")
    assert sorted(alarms_from_sqs(second)) == ["sqs-after", "sqs-before"]


def test_a_queue_without_a_region_stops_startup_naming_the_setting(make_bot, monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    with pytest.raises(SettingsError) as stopped:
        dispatch_bot(make_bot, DISPATCH_SQS_QUEUE_URL="http://127.0.0.1:9/000000000000/dispatch")
    assert str(stopped.value) == (
        "DISPATCH_SQS_QUEUE_URL cannot be used: the queue URL names no AWS region and none is configured: set "
        "AWS_REGION (or AWS_DEFAULT_REGION)"
    )
