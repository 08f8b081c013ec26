"""The Slack fake at Slack's limits, driven by the real slack_sdk: Block Kit refusals always, rate limits on demand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from sandbox.fakes.slack import SlackFake
from sandbox.fakes.slack.rate_limits import per_minute

BOT_TOKEN = "xoxb-sandbox"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str = "Ack", value: str = "v", action_id: str = "ack") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "value": value, "action_id": action_id}


def slack_error(call) -> SlackApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def messages_of(error: SlackApiError) -> list[str]:
    return error.response["response_metadata"]["messages"]


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    fake = SlackFake().start()
    fake.add_user("U1", "alice", "Alice Able", "alice@example.com")
    fake.add_channel("C1", "support", members=["UBOT", "U1"])
    fake.add_channel("C2", "ops", members=["UBOT", "U1"])
    yield fake
    fake.stop()


@pytest.fixture
def web(fake: SlackFake) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=fake.base_url, timeout=5, retry_handlers=[])


# --- Block Kit -----------------------------------------------------------------------------------
def test_fifty_blocks_post_and_fifty_one_are_invalid_blocks(fake: SlackFake, web: WebClient) -> None:
    assert web.chat_postMessage(channel="C1", text="50", blocks=[section("x")] * 50)["ok"] is True
    refused = slack_error(lambda: web.chat_postMessage(channel="C1", text="51", blocks=[section("x")] * 51))
    assert refused.response.status_code == 200
    assert refused.response["error"] == "invalid_blocks"
    assert refused.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert messages_of(refused) == ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    assert [m["text"] for m in fake.messages("C1")] == ["50"]


def test_a_section_of_3001_characters_is_invalid_blocks(fake: SlackFake, web: WebClient) -> None:
    assert web.chat_postMessage(channel="C1", text="fits", blocks=[section("x" * 3000)])["ok"] is True
    blocks = [{"type": "divider"}, section("x" * 3001)]
    refused = slack_error(lambda: web.chat_postMessage(channel="C1", text="too long", blocks=blocks))
    assert refused.response["error"] == "invalid_blocks"
    assert messages_of(refused) == [
        "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/1/text]",
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/1/text/text]",
    ]
    assert fake.refusals()[-1]["source"] == "chat.postMessage"
    assert fake.refusals()[-1]["messages"] == messages_of(refused)


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"],
        ),
        (
            [{"type": "actions", "elements": [button(text="b" * 76)]}],
            [
                "failed to match all allowed schemas [json-pointer:/blocks/0/elements/0]",
                "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
            ],
        ),
        (
            [{**section("pick"), "accessory": button(value="v" * 2001)}],
            [
                "failed to match all allowed schemas [json-pointer:/blocks/0/accessory]",
                "must be less than 2001 characters [json-pointer:/blocks/0/accessory/value]",
            ],
        ),
        (
            [{"type": "actions", "elements": [button(action_id=f"a{n}") for n in range(26)]}],
            ["no more than 25 items allowed [json-pointer:/blocks/0/elements]"],
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            ["no more than 10 items allowed [json-pointer:/blocks/0/elements]"],
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            ["no more than 10 items allowed [json-pointer:/blocks/0/fields]"],
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            [
                "failed to match all allowed schemas [json-pointer:/blocks/0/fields/0]",
                "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
            ],
        ),
        (
            [section("")],
            [
                "failed to match all allowed schemas [json-pointer:/blocks/0/text]",
                "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
            ],
        ),
        (
            [{**section("id"), "block_id": "b" * 256}],
            ["must be less than 256 characters [json-pointer:/blocks/0/block_id]"],
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*bold*"}}],
            ["failed to match all allowed schemas [json-pointer:/blocks/0/text]"],
        ),
    ],
    ids=[
        "header-151",
        "button-text-76",
        "button-value-2001",
        "actions-26",
        "context-11",
        "fields-11",
        "field-2001",
        "empty-text",
        "block-id-256",
        "mrkdwn-header",
    ],
)
def test_each_block_kit_limit_is_refused_in_slacks_words(
    web: WebClient, blocks: list[dict[str, Any]], expected: list[str]
) -> None:
    refused = slack_error(lambda: web.chat_postMessage(channel="C1", text="fallback", blocks=blocks))
    assert (refused.response["error"], refused.response["errors"]) == ("invalid_blocks", expected)
    assert messages_of(refused) == [f"[ERROR] {message}" for message in expected]


def test_limits_at_the_edge_are_taken(web: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10, "block_id": "b" * 255},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [button("b" * 75, "v" * 2000, f"a{n}") for n in range(25)]},
        {**section("s"), "accessory": {**button(), "style": "danger"}},
        {"type": "divider"},
    ]
    assert web.chat_postMessage(channel="C1", text="fits", blocks=blocks)["ok"] is True


def test_update_and_ephemeral_are_held_to_the_same_limits(fake: SlackFake, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="C1", text="original", blocks=[section("original")])
    too_many = [section("x")] * 51
    update = slack_error(lambda: web.chat_update(channel="C1", ts=posted["ts"], text="edit", blocks=too_many))
    assert update.response["error"] == "invalid_blocks"
    assert fake.messages("C1")[0]["blocks"] == [section("original")]
    ephemeral = slack_error(lambda: web.chat_postEphemeral(channel="C1", user="U1", text="e", blocks=too_many))
    assert ephemeral.response["error"] == "invalid_blocks"
    assert fake.ephemerals() == []
    assert [r["source"] for r in fake.refusals()] == ["chat.update", "chat.postEphemeral"]


def test_text_and_attachment_limits(web: WebClient) -> None:
    assert web.chat_postMessage(channel="C1", text="x" * 40_000)["ok"] is True
    too_long = slack_error(lambda: web.chat_postMessage(channel="C1", text="x" * 40_001))
    assert too_long.response["error"] == "msg_too_long"
    attachments = [{"text": "a", "fallback": "a"}] * 101
    too_many = slack_error(lambda: web.chat_postMessage(channel="C1", text="x", attachments=attachments))
    assert too_many.response["error"] == "too_many_attachments"


def test_home_tab_takes_100_blocks_and_refuses_101(fake: SlackFake, web: WebClient) -> None:
    assert web.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x")] * 100})["ok"] is True
    view = {"type": "home", "blocks": [section("y")] * 101}
    refused = slack_error(lambda: web.views_publish(user_id="U1", view=view))
    assert refused.response["error"] == "invalid_arguments"
    assert messages_of(refused) == ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]
    assert fake.home_view("U1")["blocks"][0] == section("x")  # type: ignore[index]
    bad_block = {"type": "home", "blocks": [section("z" * 3001)]}
    assert messages_of(slack_error(lambda: web.views_publish(user_id="U1", view=bad_block)))[-1] == (
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]"
    )
    metadata = {"type": "home", "blocks": [], "private_metadata": "m" * 3001}
    assert messages_of(slack_error(lambda: web.views_publish(user_id="U1", view=metadata))) == [
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
    ]


def test_response_url_refuses_a_message_past_the_limits(fake: SlackFake) -> None:
    envelope_id = fake.slash_command("U1", "C1", "/oncall", "list")
    response_url = fake.envelope(envelope_id)["envelope"]["payload"]["response_url"]  # type: ignore[index]
    webhook = WebhookClient(response_url, timeout=5)
    refused = webhook.send(text="all the links", blocks=[section("x")] * 51, response_type="in_channel")
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    assert fake.messages("C1") == [] and fake.responses == []
    assert fake.refusals()[-1]["source"] == "response_url"
    assert webhook.send(text="fits", blocks=[section("x")] * 50, response_type="in_channel").status_code == 200
    assert [m["text"] for m in fake.messages("C1")] == ["fits"]


# --- rate limits ---------------------------------------------------------------------------------
def test_rate_limits_are_off_unless_asked_for(web: WebClient) -> None:
    for n in range(per_minute("conversations.setTopic") + 5):
        assert web.conversations_setTopic(channel="C1", topic=f"topic {n}")["ok"] is True


def test_a_tier_2_method_past_its_budget_gets_429_until_the_clock_moves(fake: SlackFake, web: WebClient) -> None:
    fake.enforce_vendor_limits()
    assert per_minute("conversations.setTopic") == 20  # Tier 2
    for n in range(20):
        web.conversations_setTopic(channel="C1", topic=f"topic {n}")
    limited = slack_error(lambda: web.conversations_setTopic(channel="C1", topic="one too many")).response
    assert (limited.status_code, limited.data, limited.headers["Retry-After"]) == (
        429,
        {"ok": False, "error": "ratelimited"},
        "60",
    )
    assert fake.topic("C1") == "topic 19"
    assert web.conversations_info(channel="C1")["ok"] is True  # other methods have their own budgets
    fake.advance(30)
    again = slack_error(lambda: web.conversations_setTopic(channel="C1", topic="still too soon")).response
    assert again.headers["Retry-After"] == "30"  # refused calls did not count
    fake.advance(30)
    assert web.conversations_setTopic(channel="C1", topic="back in budget")["ok"] is True


def test_post_message_is_limited_per_channel(fake: SlackFake, web: WebClient) -> None:
    fake.enforce_vendor_limits()
    for n in range(60):
        web.chat_postMessage(channel="C1" if n % 2 else "#support", text=f"message {n}")  # one channel, two names
    assert slack_error(lambda: web.chat_postMessage(channel="C1", text="61st")).response.status_code == 429
    assert web.chat_postMessage(channel="C2", text="another channel")["ok"] is True
    fake.advance(60)
    assert web.chat_postMessage(channel="C1", text="a minute later")["ok"] is True


def test_home_tab_is_tier_4(fake: SlackFake, web: WebClient) -> None:
    fake.enforce_vendor_limits()
    for n in range(100):
        web.views_publish(user_id="U1", view={"type": "home", "blocks": [section(f"v{n}")]})
    limited = slack_error(lambda: web.views_publish(user_id="U1", view={"type": "home", "blocks": []}))
    assert (limited.response.status_code, limited.response["error"]) == (429, "ratelimited")
    fake.enforce_vendor_limits(False)
    assert web.views_publish(user_id="U1", view={"type": "home", "blocks": []})["ok"] is True


def test_every_emulated_method_has_a_rate_limit(fake: SlackFake) -> None:
    assert all(per_minute(method) >= 1 for method in fake.web_api.methods)
    assert (per_minute("usergroups.users.update"), per_minute("users.lookupByEmail")) == (20, 50)
