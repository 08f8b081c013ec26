"""The Slack fake, driven by the real slack_sdk WebClient, its builtin Socket Mode client and slack_bolt."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

from sandbox.fakes.slack import SlackFake

BOT_TOKEN = "xoxb-sandbox"
APP_TOKEN = "xapp-sandbox"
BUTTON_BLOCKS = [
    {
        "type": "actions",
        "block_id": "answer",
        "elements": [
            {"type": "button", "action_id": "yes", "value": "req-1", "text": {"type": "plain_text", "text": "Yes"}}
        ],
    }
]


def make_web(fake: SlackFake, token: str | None = BOT_TOKEN) -> WebClient:
    return WebClient(token=token, base_url=fake.base_url, timeout=5, retry_handlers=[])


def close_quickly(fake: SlackFake, client: SocketModeClient) -> None:
    """The builtin client's close() waits out a 3 s recv() timeout and a 1 s queue poll; cut both short."""
    client.auto_reconnect_enabled = False
    client.closed = True
    client.message_queue.put("")  # wakes the message loop, which then sees `closed`
    fake.drop_socket()  # a reset socket ends the blocked recv()
    client.close()


def slack_error(call) -> SlackApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


@pytest.fixture
def fake() -> Iterator[SlackFake]:
    fake = SlackFake().start()
    fake.add_user("U1", "alice", "Alice Able", "alice@example.com", is_admin=True)
    fake.add_user("U2", "bob", "Bob Baker", "Bob@Example.com", tz="America/New_York")
    fake.add_user("U3", "carol", "Carol Cole", "carol@example.com")
    fake.add_channel("C1", "support", members=["UBOT", "U1", "U2"], topic="old topic")
    fake.add_channel("C2", "elsewhere", members=["U1"])
    fake.add_channel("G1", "secret", members=["U1"], is_private=True)
    yield fake
    fake.stop()


@pytest.fixture
def web(fake: SlackFake) -> WebClient:
    return make_web(fake)


@pytest.fixture
def socket_client(fake: SlackFake) -> Iterator[tuple[SocketModeClient, list[SocketModeRequest]]]:
    received: list[SocketModeRequest] = []

    def ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        received.append(request)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client = SocketModeClient(app_token=APP_TOKEN, web_client=make_web(fake), ping_interval=0.5)
    client.socket_mode_request_listeners.append(ack)
    client.connect()
    fake.wait_connected()
    yield client, received
    close_quickly(fake, client)


@pytest.fixture
def bolt_app(fake: SlackFake) -> Iterator[App]:
    app = App(client=make_web(fake))  # auth.test hits the fake here
    handler = SocketModeHandler(app, APP_TOKEN, ping_interval=0.5)
    handler.connect()
    fake.wait_connected()
    yield app
    close_quickly(fake, handler.client)


# --- Web API -------------------------------------------------------------------------------------
def test_auth_test_and_token_errors(fake: SlackFake, web: WebClient) -> None:
    auth = web.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == ("UBOT", "BBOT", "T0SANDBOX")
    assert auth["url"] == "https://sandbox.slack.com/"
    assert slack_error(make_web(fake, "xoxb-wrong").auth_test).response["error"] == "invalid_auth"
    assert slack_error(make_web(fake, None).auth_test).response["error"] == "not_authed"
    assert slack_error(make_web(fake, APP_TOKEN).auth_test).response["error"] == "not_allowed_token_type"
    wrong_app_token = slack_error(lambda: web.apps_connections_open(app_token=BOT_TOKEN))
    assert wrong_app_token.response["error"] == "not_allowed_token_type"
    assert slack_error(lambda: web.api_call("nope.nothing")).response["error"] == "unknown_method"
    assert web.apps_connections_open(app_token=APP_TOKEN)["url"].startswith(f"ws://127.0.0.1:{fake.ws_port}/link/")


def test_post_reply_update_permalink_delete(fake: SlackFake, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="C1", text="hello", blocks=BUTTON_BLOCKS)
    assert posted["channel"] == "C1" and posted["message"]["bot_id"] == "BBOT"
    reply = web.chat_postMessage(channel="C1", text="in thread", thread_ts=posted["ts"])
    assert reply["ts"] > posted["ts"] and reply["message"]["thread_ts"] == posted["ts"]

    updated = web.chat_update(channel="C1", ts=posted["ts"], text="edited")
    assert updated["text"] == "edited" and updated["message"]["blocks"] == BUTTON_BLOCKS
    parent, child = fake.messages("C1")
    assert parent["edited"]["user"] == "UBOT" and parent["reply_count"] == 1 and child["text"] == "in thread"

    link = web.chat_getPermalink(channel="C1", message_ts=posted["ts"])["permalink"]
    assert link == f"https://sandbox.slack.com/archives/C1/p{posted['ts'].replace('.', '')}"
    reply_link = web.chat_getPermalink(channel="C1", message_ts=reply["ts"])["permalink"]
    assert reply_link.endswith(f"?thread_ts={posted['ts']}&cid=C1")
    assert [m["ts"] for m in web.conversations_replies(channel="C1", ts=posted["ts"])["messages"]] == [
        posted["ts"],
        reply["ts"],
    ]
    assert [m["ts"] for m in web.conversations_history(channel="C1")["messages"]] == [posted["ts"]]

    web.chat_delete(channel="C1", ts=reply["ts"])
    assert [m["ts"] for m in fake.messages("C1")] == [posted["ts"]]
    assert fake.messages("C1")[0]["reply_count"] == 0


def test_post_errors(fake: SlackFake, web: WebClient) -> None:
    assert slack_error(lambda: web.chat_postMessage(channel="C404", text="x")).response["error"] == "channel_not_found"
    assert slack_error(lambda: web.chat_postMessage(channel="C2", text="x")).response["error"] == "not_in_channel"
    assert slack_error(lambda: web.chat_postMessage(channel="G1", text="x")).response["error"] == "channel_not_found"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk itself warns about the missing text
        assert slack_error(lambda: web.chat_postMessage(channel="C1", text="")).response["error"] == "no_text"
    fake.archive_channel("C1")
    assert slack_error(lambda: web.chat_postMessage(channel="C1", text="x")).response["error"] == "is_archived"


def test_post_to_a_user_id_lands_in_the_dm(fake: SlackFake, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="U1", text="psst")
    assert posted["channel"].startswith("D")
    assert [m["text"] for m in fake.dm_messages("U1")] == ["psst"]
    opened = web.conversations_open(users="U1")
    assert opened["channel"]["id"] == posted["channel"] and opened["already_open"] is True
    assert web.chat_postMessage(channel="#support", text="by name")["channel"] == "C1"


def test_ephemeral_and_response_url(fake: SlackFake, web: WebClient) -> None:
    assert web.chat_postEphemeral(channel="C1", user="U1", text="only you")["message_ts"]
    assert fake.ephemerals(user="U1")[0]["text"] == "only you"
    not_member = slack_error(lambda: web.chat_postEphemeral(channel="C1", user="U3", text="x"))
    assert not_member.response["error"] == "user_not_in_channel"

    envelope_id = fake.slash_command("U1", "C1", "/oncall", "today")  # no socket: recorded, not delivered
    record = fake.envelope(envelope_id)
    assert record is not None and record["delivered"] is False
    response_url = record["envelope"]["payload"]["response_url"]
    assert (
        WebhookClient(response_url, timeout=5).send(text="Alice is on call", response_type="in_channel").status_code
        == 200
    )
    assert fake.wait_for_response()["body"]["text"] == "Alice is on call"
    assert fake.messages("C1")[-1]["text"] == "Alice is on call"


def test_topic_set_and_errors(fake: SlackFake, web: WebClient) -> None:
    answer = web.conversations_setTopic(channel="C1", topic="Alice is on call | old topic")
    assert answer["channel"]["topic"]["value"] == "Alice is on call | old topic"
    topic = web.conversations_info(channel="C1")["channel"]["topic"]
    assert topic["creator"] == "UBOT" and topic["last_set"] > 0 and fake.topic("C1") == topic["value"]
    notice = fake.messages("C1")[-1]
    assert (
        notice["subtype"] == "channel_topic" and notice["text"] == "set the channel topic: Alice is on call | old topic"
    )
    assert (
        slack_error(lambda: web.conversations_setTopic(channel="C2", topic="x")).response["error"] == "not_in_channel"
    )
    too_long = slack_error(lambda: web.conversations_setTopic(channel="C1", topic="x" * 251))
    assert too_long.response["error"] == "too_long"
    assert slack_error(lambda: web.conversations_info(channel="G1")).response["error"] == "channel_not_found"
    assert web.conversations_info(channel="C2")["channel"]["is_member"] is False


def test_users_lookup_and_info(web: WebClient) -> None:
    assert web.users_lookupByEmail(email="bob@example.com")["user"]["id"] == "U2"
    missing = slack_error(lambda: web.users_lookupByEmail(email="nobody@example.com"))
    assert missing.response["error"] == "users_not_found"
    user = web.users_info(user="U1")["user"]
    assert (user["real_name"], user["profile"]["email"], user["is_admin"], user["tz"]) == (
        "Alice Able",
        "alice@example.com",
        True,
        "Europe/London",
    )
    bot = web.users_info(user="UBOT")["user"]
    assert bot["is_bot"] is True and bot["profile"]["bot_id"] == "BBOT"
    pages = [[m["id"] for m in page["members"]] for page in web.users_list(limit=3)]
    assert pages == [["UBOT", "U1", "U2"], ["U3"]]


def test_usergroups(fake: SlackFake, web: WebClient) -> None:
    fake.add_usergroup("S1", "oncall", "On call", users=["U1"])
    updated = web.usergroups_users_update(usergroup="S1", users=["U2", "U3"])
    assert updated["usergroup"]["users"] == ["U2", "U3"] and fake.usergroup_members("S1") == ["U2", "U3"]
    assert web.usergroups_users_list(usergroup="S1")["users"] == ["U2", "U3"]
    listed = web.usergroups_list(include_users=True)["usergroups"]
    assert [(g["id"], g["handle"], g["users"]) for g in listed] == [("S1", "oncall", ["U2", "U3"])]
    empty = slack_error(lambda: web.usergroups_users_update(usergroup="S1", users=[]))
    assert empty.response["error"] == "no_users_provided"
    unknown = slack_error(lambda: web.usergroups_users_update(usergroup="S404", users=["U1"]))
    assert unknown.response["error"] == "no_such_subteam"
    fake.forbid_usergroup_updates("S1")
    denied = slack_error(lambda: web.usergroups_users_update(usergroup="S1", users=["U1"]))
    assert denied.response["error"] == "permission_denied" and fake.usergroup_members("S1") == ["U2", "U3"]


def test_reactions(fake: SlackFake, web: WebClient) -> None:
    ts, _ = fake.post_message("U1", "C1", "please help")
    web.reactions_add(channel="C1", timestamp=ts, name="eyes")
    again = slack_error(lambda: web.reactions_add(channel="C1", timestamp=ts, name="eyes"))
    assert again.response["error"] == "already_reacted"
    reactions = web.reactions_get(channel="C1", timestamp=ts)["message"]["reactions"]
    assert reactions == [{"name": "eyes", "users": ["UBOT"], "count": 1}]
    web.reactions_remove(channel="C1", timestamp=ts, name="eyes")
    assert "reactions" not in fake.messages("C1")[0]


def test_conversations_list_paginates(fake: SlackFake, web: WebClient) -> None:
    for number in range(3, 7):
        fake.add_channel(f"C{number}", f"channel-{number}")
    # slack_sdk follows response_metadata.next_cursor, reusing one response object for every page
    pages = [[c["id"] for c in page["channels"]] for page in web.conversations_list(limit=2)]
    assert pages == [["C1", "C2"], ["C3", "C4"], ["C5", "C6"]]
    private = web.conversations_list(types="private_channel")["channels"]
    assert private == []  # the bot is not in G1
    assert slack_error(lambda: web.conversations_list(cursor="bogus")).response["error"] == "invalid_cursor"


def test_rate_limit_fault_is_a_slack_api_error_with_retry_after(fake: SlackFake, web: WebClient) -> None:
    fake.inject_fault("/api/chat.postMessage", 429, retry_after=1)
    limited = slack_error(lambda: web.chat_postMessage(channel="C1", text="x")).response
    assert (limited.status_code, limited["error"], limited.headers["Retry-After"]) == (429, "ratelimited", "1")
    body = {"ok": False, "error": "ratelimited"}
    fake.inject_fault("/api/conversations.setTopic", status=429, retry_after=0, body=body)
    assert (
        slack_error(lambda: web.conversations_setTopic(channel="C1", topic="x")).response.headers["Retry-After"] == "0"
    )
    assert web.chat_postMessage(channel="C1", text="x")["ok"] is True


def test_views_publish_and_team_info(fake: SlackFake, web: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Home*"}}]
    view = web.views_publish(user_id="U1", view={"type": "home", "blocks": blocks})["view"]
    assert view["id"].startswith("V") and fake.home_view("U1")["blocks"] == blocks  # type: ignore[index]
    bad = slack_error(lambda: web.views_publish(user_id="U1", view={"type": "modal", "blocks": []}))
    assert bad.response["error"] == "invalid_arguments"
    assert web.team_info()["team"]["domain"] == "sandbox"


def test_subscribers_see_every_visible_change(fake: SlackFake, web: WebClient) -> None:
    changes: list[dict] = []
    fake.subscribe(lambda change: 1 / 0)  # a broken subscriber must not break the fake
    fake.subscribe(changes.append)
    web.chat_postMessage(channel="C1", text="hi")
    web.conversations_setTopic(channel="C1", topic="new")
    fake.post_message("U1", "C1", "human")
    assert [(c["kind"], c["user"], c["bot"], c["text"]) for c in changes] == [
        ("message", "UBOT", True, "hi"),
        ("topic", "UBOT", True, "new"),
        ("message", "U1", False, "human"),
    ]


# --- Socket Mode ---------------------------------------------------------------------------------
def test_no_socket_means_send_envelope_raises(fake: SlackFake) -> None:
    with pytest.raises(RuntimeError):
        fake.send_envelope("events_api", {"type": "event_callback", "event": {"type": "message"}})


def test_socket_mode_event_round_trip(fake: SlackFake, socket_client: tuple) -> None:
    _, received = socket_client
    assert fake.hello_count == 1 and len(fake.calls("POST", r"apps\.connections\.open")) == 1
    ts, envelope_id = fake.post_message("U1", "C1", "help please")
    assert fake.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    request = fake.wait_for(lambda: next((r for r in received if r.envelope_id == envelope_id), None))
    assert request.type == "events_api" and request.retry_attempt == 0
    event = request.payload["event"]
    assert (event["type"], event["user"], event["ts"], event["channel_type"]) == ("message", "U1", ts, "channel")
    assert request.payload["event_id"].startswith("Ev")
    assert request.payload["authorizations"][0]["user_id"] == "UBOT"
    _, outside = fake.post_message("U1", "C2", "the bot is not here")
    assert outside == ""  # Slack sends message events only for conversations the bot is in


def test_human_actions_push_the_matching_events(fake: SlackFake, socket_client: tuple) -> None:
    _, received = socket_client

    def event_of(envelope_id: str) -> dict:
        fake.wait_for_ack(envelope_id)
        return next(r for r in received if r.envelope_id == envelope_id).payload["event"]

    ts, _ = fake.post_message("U1", "C1", "hey <@UBOT> help")
    mention = fake.wait_for(lambda: [r for r in received if r.payload["event"]["type"] == "app_mention"])
    assert mention[0].payload["event"]["ts"] == ts
    changed = event_of(fake.edit_message("U1", "C1", ts, "hey <@UBOT> please help"))
    assert (changed["subtype"], changed["message"]["text"], changed["previous_message"]["text"]) == (
        "message_changed",
        "hey <@UBOT> please help",
        "hey <@UBOT> help",
    )
    reaction = event_of(fake.add_reaction_as("U2", "C1", ts, "eyes"))
    assert (reaction["type"], reaction["item"], reaction["item_user"]) == (
        "reaction_added",
        {"type": "message", "channel": "C1", "ts": ts},
        "U1",
    )
    topic = event_of(fake.set_topic_as("U2", "C1", "Bob's topic"))
    assert (topic["subtype"], topic["user"], topic["topic"]) == ("channel_topic", "U2", "Bob's topic")
    assert event_of(fake.delete_message("C1", ts))["deleted_ts"] == ts
    home = event_of(fake.open_home("U1"))
    assert (home["type"], home["tab"], home["channel"]) == ("app_home_opened", "home", fake.dm_channel("U1"))
    dm_ts, dm_envelope = fake.post_message("U1", fake.dm_channel("U1"), "hi bot")
    assert event_of(dm_envelope)["channel_type"] == "im" and fake.dm_messages("U1")[0]["ts"] == dm_ts


def test_history_range_filters(fake: SlackFake, web: WebClient) -> None:
    first, second, third = (fake.post_message("U1", "C1", text)[0] for text in ("one", "two", "three"))
    newest_first = [m["text"] for m in web.conversations_history(channel="C1", oldest=first, latest=third)["messages"]]
    assert newest_first == ["two"]
    inclusive = web.conversations_history(channel="C1", oldest=first, latest=third, inclusive=True)["messages"]
    assert [m["ts"] for m in inclusive] == [third, second, first]
    page = web.conversations_history(channel="C1", limit=2)
    assert page["has_more"] is True and page["response_metadata"]["next_cursor"]


def test_redelivery_keeps_the_event_id(fake: SlackFake, socket_client: tuple) -> None:
    _, received = socket_client
    _, first = fake.post_message("U2", "C1", "anyone?")
    fake.wait_for_ack(first)
    retry = fake.redeliver(first, retry_attempt=1, retry_reason="timeout")
    fake.wait_for_ack(retry)
    by_id = {r.envelope_id: r for r in received}
    assert (by_id[retry].retry_attempt, by_id[retry].retry_reason) == (1, "timeout")
    assert by_id[retry].payload["event_id"] == by_id[first].payload["event_id"]


def test_dropped_socket_reconnects_through_apps_connections_open(fake: SlackFake, socket_client: tuple) -> None:
    assert fake.drop_socket() == 1
    fake.wait_for_calls("POST", r"apps\.connections\.open", count=2)
    fake.wait_for(lambda: fake.hello_count >= 2 and fake.connection_count == 1)
    _, envelope_id = fake.post_message("U1", "C1", "still there?")
    assert fake.wait_for_ack(envelope_id)["envelope_id"] == envelope_id


def test_disconnect_frame_makes_the_client_refresh(fake: SlackFake, socket_client: tuple) -> None:
    assert fake.send_disconnect("refresh_requested") == 1
    fake.wait_for_calls("POST", r"apps\.connections\.open", count=2)
    fake.wait_for(lambda: fake.hello_count >= 2)


# --- Bolt ----------------------------------------------------------------------------------------
def test_bolt_slash_command_ack_payload(fake: SlackFake, bolt_app: App) -> None:
    @bolt_app.command("/ping")
    def ping(ack) -> None:  # type: ignore[no-untyped-def]
        ack("pong")

    envelope_id = fake.slash_command("U1", "C1", "/ping")
    assert fake.wait_for_ack(envelope_id)["payload"] == {"text": "pong"}
    assert fake.wait_for_ephemeral(user="U1")["text"] == "pong"  # Slack shows the ack text to the caller


def test_bolt_ack_payload_past_block_kit_limits_is_not_shown(fake: SlackFake, bolt_app: App) -> None:
    @bolt_app.command("/list")
    def list_everything(ack) -> None:  # type: ignore[no-untyped-def]
        ack(text="everything", blocks=[{"type": "divider"}] * 51)

    envelope_id = fake.slash_command("U1", "C1", "/list")
    fake.wait_for_ack(envelope_id)
    refusal = fake.wait_for(lambda: fake.refusals(), message="the refused ack")[0]
    assert (refusal["source"], refusal["error"]) == ("ack", "invalid_blocks")
    assert refusal["messages"] == ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
    assert fake.ephemerals() == []


def test_bolt_event_reply_and_button_click(fake: SlackFake, bolt_app: App) -> None:
    @bolt_app.event("message")
    def on_message(event, say) -> None:  # type: ignore[no-untyped-def]
        say(text="on it", thread_ts=event["ts"])

    @bolt_app.action("yes")
    def on_yes(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        ack()
        respond(replace_original=True, text=f"answered by {body['user']['name']}: {body['actions'][0]['value']}")

    ts, _ = fake.post_message("U1", "C1", "help")
    reply = fake.wait_for_message("C1", lambda m: m.get("thread_ts") == ts and m.get("bot_id") == "BBOT")
    assert reply["text"] == "on it"
    echo = next(e for e in fake.envelopes("events_api") if e["envelope"]["payload"]["event"].get("ts") == reply["ts"])
    fake.wait_for_ack(echo["envelope"]["envelope_id"])  # Bolt's ignore-self acks the echo without answering it

    prompt_ts = make_web(fake).chat_postMessage(channel="C1", text="Resolve?", blocks=BUTTON_BLOCKS)["ts"]
    envelope_id = fake.click_button("U1", "C1", prompt_ts, "yes")
    fake.wait_for_ack(envelope_id)
    fake.wait_for(lambda: fake.messages("C1")[-1]["text"] == "answered by alice: req-1")
    assert fake.responses[0]["body"]["replace_original"] is True
    assert len([m for m in fake.messages("C1") if m["text"] == "on it"]) == 1
