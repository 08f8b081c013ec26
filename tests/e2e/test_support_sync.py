"""Support desk, Zendesk → Slack (the poller), reports and `/support`, end to end against the fakes."""

from __future__ import annotations

import time

import pytest

from bot.clients.zendesk import ZendeskError
from sandbox.world import World
from tests.e2e.test_support import (
    AGENT_ID,
    CHANNEL,
    GROUP_ID,
    bot_replies,
    comments,
    open_request,
    poll,
    settled,
    wait_comments,
    wait_reply,
)


def export_calls(world: World) -> int:
    return len(world.zendesk.calls("GET", r"/incremental/ticket_events"))


def top_level(world: World) -> list[dict]:
    return [
        m for m in world.slack.messages(CHANNEL) if m.get("user") == "UBOT" and m.get("thread_ts") in (None, m["ts"])
    ]


# --- comments ----------------------------------------------------------------------------------------
def test_agent_comments_come_back_once_in_order_without_echo(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.slack.post_message("U0BOB", CHANNEL, "Since 9am", thread_ts=ts)
    wait_comments(world, ticket["id"], 2)
    world.zendesk.agent_comment(ticket["id"], "Which client version?", author_id=AGENT_ID)
    world.zendesk.agent_comment(ticket["id"], "Internal: check the VPN logs", author_id=AGENT_ID, public=False)
    world.zendesk.agent_comment(ticket["id"], "And which OS?", author_id=AGENT_ID)
    poll(bot)
    wait_reply(world, ts, "which OS", count=1)
    poll(bot)
    settled(bot)
    assert bot_replies(world, ts)[1:] == [
        "📧 Primary on call: <@U0CAROL>\nℹ️ Secondary on call: <@U0DAVE>.",
        "Zoe Zendesk (Zendesk): Which client version?",
        "Zoe Zendesk (Zendesk): And which OS?",
    ]


def test_comment_text_is_trimmed_formatted_and_cannot_broadcast(bot, world):
    ts, ticket = open_request(world, "VPN down")
    body = (
        "<!channel> @here **Restart** the [VPN client](https://help.example/vpn) please.\n\n"
        "--\nZoe Zendesk\nSupport team\n\nOn Mon, Bob wrote:\n> VPN down"
    )
    world.zendesk.agent_comment(ticket["id"], body, author_id=AGENT_ID)
    poll(bot)
    text = wait_reply(world, ts, "(Zendesk)")[-1]
    link = "VPN client (<https://help.example/vpn>)"  # a Markdown link's label never hides its target
    assert text == f"Zoe Zendesk (Zendesk): &lt;!channel&gt; @\u2060here *Restart* the {link} please."


def test_email_replies_from_the_requester_come_back_with_their_name(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.zendesk.end_user_comment(ticket["id"], "Works now, thanks!\n\nSent from my phone")
    poll(bot)
    assert wait_reply(world, ts, "(Zendesk)")[-1] == "Bob Baker (Zendesk): Works now, thanks!"


# --- status ------------------------------------------------------------------------------------------
def test_solved_reopened_and_closed_in_zendesk(bot, world):
    ts, ticket = open_request(world, "VPN down")
    url = f"{world.zendesk.base_url}/agent/tickets/{ticket['id']}"
    world.zendesk.set_status(ticket["id"], "solved", author_id=AGENT_ID)
    poll(bot)
    wait_reply(world, ts, "was marked solved")
    world.slack.wait_for(
        lambda: any(r["name"] == "white_check_mark" for r in world.slack.replies(CHANNEL, ts)[0].get("reactions", [])),
        message="✅ on the request",
    )
    store = bot.runtime.store
    row = lambda: store.query_one("SELECT * FROM support_threads WHERE ticket_id = ?", [ticket["id"]])  # noqa: E731
    assert row()["ticket_status"] == "solved" and row()["closed_at"] is not None
    world.zendesk.end_user_comment(ticket["id"], "Still broken")  # reopens the ticket, as in Zendesk
    poll(bot)
    replies = wait_reply(world, ts, "was reopened")
    assert replies[-3:] == [
        f"🤖 Ticket {url} was marked solved in Zendesk.",
        "Bob Baker (Zendesk): Still broken",
        f"🤖 Ticket {url} was reopened in Zendesk.",
    ]
    assert row()["ticket_status"] == "open" and row()["closed_at"] is None
    world.zendesk.set_status(ticket["id"], "closed", author_id=AGENT_ID)
    poll(bot)
    assert row()["ticket_status"] == "closed" and row()["closed_at"] is not None
    settled(bot)
    assert len(bot_replies(world, ts)) == len(replies)


def test_solving_from_slack_is_not_echoed_back(bot, world):
    ts, _ = open_request(world, "VPN down")
    world.slack.post_message("U0BOB", CHANNEL, "resolve", thread_ts=ts)
    wait_reply(world, ts, "Understood")
    poll(bot)
    settled(bot)
    assert not any("in Zendesk" in text for text in bot_replies(world, ts))


# --- email tickets -----------------------------------------------------------------------------------
def test_email_ticket_in_the_group_gets_a_thread_and_syncs(bot, world):
    ticket = world.zendesk.create_email_ticket(
        "Cannot log in",
        "Hi, I cannot log in since today.\n\n--\nCarla",
        "carla@customer.example",
        "Carla Customer",
        group_id=GROUP_ID,
    )
    world.zendesk.create_email_ticket("Spam", "Buy now", "spam@example.com", "Spammer", group_id=None)
    poll(bot)
    parent = world.slack.wait_for(lambda: top_level(world), message="the emailed ticket's post")[0]
    assert parent["text"] == (
        "📧 *New support request by email* from Carla Customer: *Cannot log in*\n>Hi, I cannot log in since today.\n"
        "🔒 Replies in this thread are internal notes on the ticket. Start a reply with `reply:` to send it to "
        "Carla Customer by email."
    )
    ts = parent["ts"]
    replies = wait_reply(world, ts, "Secondary on call")
    assert replies[0] == f"Hello, your new support request is {world.zendesk.base_url}/agent/tickets/{ticket['id']}."
    world.zendesk.wait_for(lambda: world.zendesk.ticket(ticket["id"])["external_id"], message="the external_id")
    linked = world.zendesk.ticket(ticket["id"])
    assert linked["external_id"] == f"slack:{CHANNEL}:{ts}"
    note = world.zendesk.comments(ticket["id"])[-1]
    assert f"/archives/{CHANNEL}/p{ts.replace('.', '')}" in note["body"] and note["public"] is False
    world.zendesk.agent_comment(ticket["id"], "Try resetting your password", author_id=AGENT_ID)
    world.slack.post_message("U0ALICE", CHANNEL, "I'll call her", thread_ts=ts)
    wait_comments(world, ticket["id"], 4)
    poll(bot)
    wait_reply(world, ts, "Zoe Zendesk (Zendesk): Try resetting your password")
    poll(bot)
    settled(bot)
    assert len(top_level(world)) == 1


# --- cost and cursor ---------------------------------------------------------------------------------
def test_one_export_request_per_poll_however_many_tickets(bot, world):
    tickets = [open_request(world, f"Problem {n}")[1] for n in range(6)]
    for ticket in tickets:
        world.zendesk.agent_comment(ticket["id"], f"Looking at #{ticket['id']}", author_id=AGENT_ID)
    poll(bot)  # learns the agent's name: one extra request, once
    for ticket in tickets:
        world.zendesk.agent_comment(ticket["id"], f"Fixed #{ticket['id']}", author_id=AGENT_ID)
    before = len(world.zendesk.calls())
    poll(bot)
    assert [(r.method, r.path) for r in world.zendesk.calls()[before:]] == [
        ("GET", "/api/v2/incremental/ticket_events.json")
    ]
    settled(bot)
    zendesk_posts = bot.runtime.store.scalar("SELECT COUNT(*) FROM support_posts WHERE source LIKE 'zd-comment:%'")
    assert zendesk_posts == 12


def test_the_cursor_survives_a_restart_and_nothing_is_posted_twice(make_bot, world):
    bot = make_bot()
    ts, ticket = open_request(world, "VPN down")
    world.zendesk.agent_comment(ticket["id"], "On it", author_id=AGENT_ID)
    poll(bot)
    wait_reply(world, ts, "On it")
    cursor = bot.runtime.store.get_state("support.poll.cursor")
    bot.stop()
    again = make_bot()
    poll(again)
    settled(again)
    assert int(again.runtime.store.get_state("support.poll.cursor")) >= int(cursor)
    assert sum("On it" in text for text in bot_replies(world, ts)) == 1


def test_comments_held_back_by_the_export_delay_arrive_after_it(bot, world, monkeypatch):
    monkeypatch.setattr(world.zendesk, "export_delay_seconds", 60)  # as Zendesk: the last minute is held back
    ts, ticket = open_request(world, "VPN down")
    world.zendesk.agent_comment(ticket["id"], "On it", author_id=AGENT_ID)
    poll(bot)
    settled(bot)
    assert not any("On it" in text for text in bot_replies(world, ts))
    world.zendesk.advance(61)
    poll(bot)
    wait_reply(world, ts, "Zoe Zendesk (Zendesk): On it")
    bot.runtime.store.set_state("support.poll.cursor", str(int(world.zendesk.now())))  # a cursor Zendesk refuses
    with pytest.raises(ZendeskError, match="Too recent start_time"):
        poll(bot)
    poll(bot)  # stepped back: reads again (nothing new is posted twice)
    settled(bot)
    assert sum("On it" in text for text in bot_replies(world, ts)) == 1


def test_export_rate_limit_is_honoured(bot, world):
    poll(bot)  # after the poll the bot makes at start, so the fault below meets our poll
    world.zendesk.inject_fault(r"/incremental/ticket_events", 429, retry_after=120)
    calls = export_calls(world)
    with pytest.raises(ZendeskError, match="429"):  # recorded as the job's error; it keeps its interval
        poll(bot)
    poll(bot)  # within the 120 s: no request at all
    assert export_calls(world) == calls + 1
    status = bot.command_reply("U0BOB", CHANNEL, "/support", "status")
    assert "Zendesk asked us to wait" in status and "429" in status


# --- reports -----------------------------------------------------------------------------------------
def test_daily_report_lists_closed_and_open_tickets(make_bot, world):
    bot = make_bot(SUPPORT_REPORT_TIME="daily 09:00")  # every day, so the test does not depend on the weekday
    first_ts, first = open_request(world, "Oldest problem")
    _, second = open_request(world, "Newer problem")
    _, solved = open_request(world, "Solved problem")
    world.zendesk.set_status(solved["id"], "solved", author_id=AGENT_ID)
    poll(bot)
    settled(bot)
    bot.runtime.scheduler.run_and_wait("support.report")
    report = world.slack.wait_for(lambda: top_level(world), message="the report")[0]["text"]
    base = f"{world.zendesk.base_url}/agent/tickets"
    lines = report.splitlines()
    assert lines[0].startswith("📊 *Daily support report* — ")
    assert lines[2].startswith("*Closed 🤘: 1* (since ")
    assert lines[4] == "*Open 🔥: 2*, oldest first:"
    assert lines[5].startswith(f"• <{base}/{first['id']}|#{first['id']}> Oldest problem — open 1m — <https://")
    assert lines[5].endswith(f"/archives/{CHANNEL}/p{first_ts.replace('.', '')}|thread>")
    assert lines[6].startswith(f"• <{base}/{second['id']}|#{second['id']}> Newer problem")
    bot.runtime.scheduler.run_and_wait("support.report")  # the same day again: still one report
    settled(bot)
    assert len(top_level(world)) == 1


def test_a_report_due_while_the_bot_was_down_is_posted_at_start(make_bot, world):
    bot = make_bot(SUPPORT_REPORT_TIME="daily 09:00")
    settled(bot)
    assert top_level(world) == []  # a fresh start posts nothing
    bot.runtime.store.set_state("support.report.due_at", str(time.time() - 60))  # as if it fell due a minute ago
    bot.stop()
    make_bot(SUPPORT_REPORT_TIME="daily 09:00")
    assert "*Daily support report*" in world.slack.wait_for(lambda: top_level(world), message="the report")[0]["text"]


def test_report_command_posts_it_now(bot, world):
    answer = bot.command_reply("U0CAROL", CHANNEL, "/support", "report")
    assert answer == f"📊 Posting the support report in <#{CHANNEL}>."
    report = world.slack.wait_for(lambda: top_level(world), message="the report")[0]["text"]
    assert "*Open 🔥: 0*" in report
    bot.command_reply("U0ALICE", "C0OPS", "/support", "report")  # from elsewhere: every support channel (an admin:
    # others may post it once per channel in ten minutes, see test_support_security.py)
    world.slack.wait_for(lambda: len(top_level(world)) == 2, message="a second report")


# --- /support ----------------------------------------------------------------------------------------
def test_status_shows_the_poller(bot, world):
    poll(bot)
    status = bot.command_reply("U0BOB", "C0OPS", "/support", "status")
    assert status.startswith("*Support desk*\n• Channels: <#C0SUPPORT>")
    assert "Zendesk poller (every 30s): cursor 20" in status and "last error none" in status
    assert "• On-call notice: escalation policy PSUPEP1" in status
    assert "• Daily report: Mon-Fri 09:00 UTC (next in" in status


def test_forget_unlinks_a_thread_for_admins_only(bot, world):
    ts, ticket = open_request(world, "Half-created issue")
    link = f"https://sandbox.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
    refused = bot.command_reply("U0BOB", CHANNEL, "/support", f"forget <{link}>")
    assert refused.startswith("Only Switchboard admins")
    done = bot.command_reply("U0ALICE", CHANNEL, "/support", f"forget <{link}>")
    assert done.startswith(f"Done: that thread is no longer linked to ticket #{ticket['id']}. Nothing was changed")
    puts = len(world.zendesk.calls("PUT"))
    world.slack.post_message("U0BOB", CHANNEL, "still there?", thread_ts=ts)
    world.zendesk.agent_comment(ticket["id"], "Hello?", author_id=AGENT_ID)
    poll(bot)
    settled(bot)
    assert len(world.zendesk.calls("PUT")) == puts and len(comments(world, ticket["id"])) == 2
    assert not any("Hello?" in text for text in bot_replies(world, ts))
    again = bot.command_reply("U0ALICE", CHANNEL, "/support", f"forget {link}")
    assert again == "I don't know a support thread at that link, so there is nothing to forget."


def test_bad_commands_get_friendly_answers(bot, world):
    assert bot.command_reply("U0BOB", CHANNEL, "/support", "").startswith("*Support desk* — `/support report`")
    assert bot.command_reply("U0BOB", CHANNEL, "/support", "frobnicate").startswith("I don't know `frobnicate`.")
    assert bot.command_reply("U0ALICE", CHANNEL, "/support", "forget").startswith("Usage: `/support forget")
    answer = bot.command_reply("U0ALICE", CHANNEL, "/support", "forget not-a-link")
    assert answer == "`not-a-link` is not a Slack message link. Use *Copy link* on the thread's first message."


def test_an_agent_answer_read_with_the_email_ticket_in_one_poll_names_the_agent(bot, world):
    ticket = world.zendesk.create_email_ticket(
        "Printer jammed", "The printer on floor 2 is jammed.", "pat@customer.example", "Pat Customer", group_id=GROUP_ID
    )
    world.zendesk.agent_comment(ticket["id"], "On my way with a screwdriver", author_id=AGENT_ID)
    poll(bot)  # one export page holds both the new ticket and the agent's answer
    parent = world.slack.wait_for(lambda: top_level(world), message="the emailed ticket's post")[0]
    replies = wait_reply(world, parent["ts"], "(Zendesk)")
    url = f"{world.zendesk.base_url}/agent/tickets/{ticket['id']}"
    assert replies == [  # the link and who is on call first, then the answer, with the agent's name
        f"Hello, your new support request is {url}.",
        "📧 Primary on call: <@U0CAROL>\nℹ️ Secondary on call: <@U0DAVE>.",
        "Zoe Zendesk (Zendesk): On my way with a screwdriver",
    ]


def test_replies_of_an_email_ticket_whose_post_slack_refused_stay_out_of_the_channel(bot, world):
    world.slack.inject_fault(r"/api/chat\.postMessage$", 200, body={"ok": False, "error": "msg_blocks_too_long"})
    world.zendesk.create_email_ticket(
        "Refused", "A post Slack refuses", "rae@customer.example", "Rae", group_id=GROUP_ID
    )
    poll(bot)
    settled(bot)
    assert top_level(world) == []  # neither the refused post nor its link and on-call replies
    refused = bot.runtime.store.query("SELECT error FROM support_posts WHERE posted_at IS NOT NULL ORDER BY id")
    assert [row["error"] for row in refused] == ["msg_blocks_too_long"] + ["no thread to reply in"] * 2
