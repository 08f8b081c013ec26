"""Support desk, Slack → Zendesk: the real bot over Socket Mode against the Slack, Zendesk and PagerDuty fakes.

The helpers at the top are shared by the other test_support_* files.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.fakes.zendesk import ZendeskFake
from sandbox.world import World

CHANNEL = "C0SUPPORT"
WAIT = 10.0
AGENT_ID = 950001  # seeded by sandbox/scenes/support.py
GROUP_ID = 360100


# --- helpers (also used by test_support_sync.py and test_support_reliability.py) ----------------------
def bot_replies(world: World, ts: str, channel: str = CHANNEL) -> list[str]:
    return [m.get("text") or "" for m in world.slack.replies(channel, ts)[1:] if m.get("user") == "UBOT"]


def wait_reply(world: World, ts: str, needle: str, channel: str = CHANNEL, count: int = 1) -> list[str]:
    """Wait until `count` bot replies in the thread contain `needle`; return all bot replies."""
    world.slack.wait_for(
        lambda: sum(needle in text for text in bot_replies(world, ts, channel)) >= count,
        timeout=WAIT,
        message=f"{count} bot replies containing {needle!r} in thread {ts}",
    )
    return bot_replies(world, ts, channel)


def ticket_of(world: World, ts: str, channel: str = CHANNEL) -> dict[str, Any]:
    external_id = f"slack:{channel}:{ts}"

    def found() -> dict[str, Any] | None:
        return next((t for t in world.zendesk.tickets() if t["external_id"] == external_id), None)

    return world.zendesk.wait_for(found, timeout=WAIT, message=f"the ticket of {ts}")


def open_request(world: World, text: str, user: str = "U0BOB", channel: str = CHANNEL) -> tuple[str, dict[str, Any]]:
    """A person asks for help; returns (thread ts, ticket) once the bot has posted the ticket link."""
    ts, _ = world.slack.post_message(user, channel, text)
    wait_reply(world, ts, "your new support request is", channel)
    return ts, ticket_of(world, ts, channel)


def comments(world: World, ticket_id: int) -> list[str]:
    return [c["body"] for c in world.zendesk.comments(ticket_id)]


def wait_comments(world: World, ticket_id: int, count: int) -> list[str]:
    world.zendesk.wait_for(lambda: len(world.zendesk.comments(ticket_id)) >= count, timeout=WAIT, message="comments")
    return comments(world, ticket_id)


def poll(bot: Any) -> None:
    bot.runtime.scheduler.run_and_wait("support.poll")


def settled(bot: Any) -> None:
    """Wait until the bot has nothing queued: no pending outbox effect (a later sentinel proves earlier events ran)."""
    world_fake = bot.world.zendesk
    world_fake.wait_for(lambda: bot.runtime.outbox.counts()["pending"] == 0, timeout=WAIT, message="an idle outbox")


def sentinel(bot: Any) -> None:
    """A fresh request handled end to end: everything delivered before it has been handled too."""
    open_request(bot.world, f"sentinel {time.time()}", user="U0DAVE")
    settled(bot)


# --- new requests ------------------------------------------------------------------------------------
def test_new_message_becomes_a_ticket_with_link_and_on_call(make_bot, world):
    make_bot(ZENDESK_ASSIGNEE_ID=str(AGENT_ID))
    first_line = "The VPN drops every ten minutes since the deploy this morning and nobody can reach the wiki"
    text = f"{first_line}\nDetails: <@U0ALICE> saw it first"
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, text)
    replies = wait_reply(world, ts, "Secondary on call")
    ticket = ticket_of(world, ts)
    url = f"{world.zendesk.base_url}/agent/tickets/{ticket['id']}"
    assert replies == [
        f"Hello, your new support request is {url}.",
        "📧 Primary on call: <@U0CAROL>\nℹ️ Secondary on call: <@U0DAVE>.",
    ]
    requester = world.zendesk.user_by_email("bob@sandbox.example")
    assert requester["name"] == "Bob Baker" and requester["role"] == "end-user"
    assert ticket["requester_id"] == requester["id"]
    assert ticket["subject"].endswith("…") and len(ticket["subject"]) <= 80
    assert ticket["subject"].startswith("The VPN drops every ten minutes")
    assert (ticket["group_id"], ticket["assignee_id"], ticket["tags"]) == (GROUP_ID, AGENT_ID, ["slack"])
    assert ticket["external_id"] == f"slack:{CHANNEL}:{ts}"
    description = ticket["description"]
    assert "Details: @Alice Archer saw it first" in description
    assert (
        f"/archives/{CHANNEL}/p{ts.replace('.', '')}" in description and "Posted in Slack by Bob Baker" in description
    )
    post = world.zendesk.calls("POST", r"/tickets\.json$")[0]
    assert post.header("idempotency-key") == f"switchboard-slack:{CHANNEL}:{ts}"


def test_file_shares_keep_their_permalinks(bot, world):
    files = [{"id": "F1", "name": "vpn.log", "permalink": "https://sandbox.slack.com/files/U0BOB/F1/vpn.log"}]
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "Log attached", files=files)
    wait_reply(world, ts, "your new support request is")
    assert "- vpn.log: https://sandbox.slack.com/files/U0BOB/F1/vpn.log" in ticket_of(world, ts)["description"]


def test_out_of_hours_message_after_the_link(make_bot, world):
    other_day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(time.gmtime().tm_wday + 3) % 7]
    make_bot(
        SUPPORT_OFFICE_HOURS=f"{other_day} 09:00-17:00 UTC", SUPPORT_OUT_OF_HOURS_MESSAGE="We are closed.\\nBack soon."
    )
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "Printer on fire")
    replies = wait_reply(world, ts, "We are closed")
    assert replies[0].startswith("Hello, your new support request is")
    assert replies[1].startswith("📧 Primary on call")
    assert replies[2] == "We are closed.\nBack soon."


def test_no_out_of_hours_message_without_office_hours(bot, world):
    ts, _ = open_request(world, "Printer on fire")
    settled(bot)
    assert len(bot_replies(world, ts)) == 2


def test_on_call_notice_copes_with_nobody_one_person_and_duplicates(make_bot, world):
    pd = world.pagerduty
    pd.add_user("PSUPERN", "Erin <Ops>", "erin@elsewhere.example")  # not in Slack: shown by name, escaped
    pd.add_schedule("PSUPEMP", "Empty rota")
    pd.add_escalation_policy("PSUPDUP", "Duplicates", [["PCAROLX", "PCAROLX"], ["PCAROLX"], ["PSUPERN"]])
    pd.add_escalation_policy("PSUPONE", "One person", [["PDAVEXX"]])
    pd.add_escalation_policy("PSUPNON", "Nobody", [["PSUPEMP"]])
    expected = {
        "PSUPDUP": "📧 Primary on call: <@U0CAROL>\nℹ️ Secondary on call: Erin &lt;Ops&gt;.",
        "PSUPONE": "📧 Primary on call: <@U0DAVE>.",
        "PSUPNON": "📧 Nobody is on call for support right now.",
    }
    for policy, notice in expected.items():
        bot = make_bot(SUPPORT_ESCALATION_POLICY=policy)
        ts, _ = world.slack.post_message("U0BOB", CHANNEL, f"Help with {policy}")
        assert wait_reply(world, ts, "on call")[1] == notice
        bot.stop()


def test_on_call_notice_is_skipped_when_pagerduty_fails(bot, world):
    world.pagerduty.inject_fault(r"/oncalls", 500, times=-1)
    ts, _ = open_request(world, "Help while PagerDuty is down")
    settled(bot)
    assert bot_replies(world, ts) == [bot_replies(world, ts)[0]]


def test_several_support_channels(make_bot, world):
    make_bot(SUPPORT_CHANNELS="C0SUPPORT,C0OPS")
    ts, ticket = open_request(world, "Ops needs help", channel="C0OPS")
    assert ticket["external_id"] == f"slack:C0OPS:{ts}"


# --- what is not a support request -------------------------------------------------------------------
def test_only_people_and_allowed_bots_in_support_channels(make_bot, world):
    bot = make_bot(SUPPORT_ALLOWED_BOT_IDS="B0FRIEND")
    world.slack.post_message("U0BOB", "C0GENERAL", "Not a support channel")
    world.slack.post_message(None, CHANNEL, "Deploy finished", bot_id="B0OTHER", subtype="bot_message")
    world.slack.post_message("U0CAROL", CHANNEL, "<@U0CAROL> has joined the channel", subtype="channel_join")
    world.slack.set_topic_as("U0CAROL", CHANNEL, "Ask here")
    allowed, _ = world.slack.post_message(
        None, CHANNEL, "Disk 95% full on db-1", bot_id="B0FRIEND", subtype="bot_message"
    )
    wait_reply(world, allowed, "your new support request is")
    sentinel(bot)
    tickets = world.zendesk.tickets()
    assert [t["subject"] for t in tickets] == ["Disk 95% full on db-1", tickets[1]["subject"]]
    assert tickets[0]["requester_id"] == ZendeskFake.BOT_AGENT_ID  # a bot has no email: the bot agent asks
    assert "Posted in Slack by Unnamed bot" in tickets[0]["description"]


def test_message_processing_can_be_disabled(make_bot, world):
    bot = make_bot(SUPPORT_DISABLE_MESSAGE_PROCESSING="true")
    envelope = world.slack.post_message("U0BOB", CHANNEL, "Anyone?")[1]
    world.slack.wait_for_ack(envelope)
    bot.stop()
    make_bot()
    open_request(world, "Now?")
    assert [t["subject"] for t in world.zendesk.tickets()] == ["Now?"]


# --- thread replies ----------------------------------------------------------------------------------
def test_replies_become_comments_by_the_bot_agent(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.slack.post_message("U0ALICE", CHANNEL, "Same here, see <https://status.example|status>", thread_ts=ts)
    wait_comments(world, ticket["id"], 2)  # Slack itself does not order events of different messages
    world.slack.post_message(
        "U0BOB", CHANNEL, "Log", thread_ts=ts, files=[{"name": "a.log", "permalink": "https://s/f/a.log"}]
    )
    bodies = wait_comments(world, ticket["id"], 3)
    assert bodies[1:] == [
        "Alice Archer (Slack): Same here, see status (https://status.example)",
        "Bob Baker (Slack): Log\n\nAttachments:\n- a.log: https://s/f/a.log",
    ]
    added = world.zendesk.comments(ticket["id"])[1:]
    assert {(c["author_id"], c["public"]) for c in added} == {(ZendeskFake.BOT_AGENT_ID, True)}


def test_edits_add_a_comment_and_deletions_are_left_alone(bot, world):
    ts, ticket = open_request(world, "VPN down")
    reply, _ = world.slack.post_message("U0BOB", CHANNEL, "It started at 9", thread_ts=ts)
    wait_comments(world, ticket["id"], 2)
    world.slack.edit_message("U0BOB", CHANNEL, reply, "It started at 8")
    wait_comments(world, ticket["id"], 3)
    world.slack.edit_message("U0BOB", CHANNEL, ts, "VPN down for everyone")
    bodies = wait_comments(world, ticket["id"], 4)
    assert bodies[2:] == [
        "Bob Baker (Slack, edited): It started at 8",
        "Bob Baker (Slack, edited): VPN down for everyone",
    ]
    world.slack.delete_message(CHANNEL, reply)
    sentinel(bot)
    assert len(comments(world, ticket["id"])) == 4


def test_help_in_a_thread_lists_the_commands(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.slack.post_message("U0BOB", CHANNEL, "Help", thread_ts=ts)
    help_text = wait_reply(world, ts, "I understand these commands")[-1]
    assert "`resolve`, `resolve ticket`, ✅ or 🆗" in help_text and f"/agent/tickets/{ticket['id']}" in help_text
    settled(bot)
    assert len(comments(world, ticket["id"])) == 1  # a command is not a comment


def test_every_resolve_spelling_solves_the_ticket(bot, world):
    for word in ("resolve", "Resolve Ticket", "✅", "🆗", ":white_check_mark:", ":ok:"):
        ts, ticket = open_request(world, f"Problem for {word}")
        world.slack.post_message("U0BOB", CHANNEL, word, thread_ts=ts)
        reply = wait_reply(world, ts, "Understood")[-1]
        assert (
            reply
            == f"🤖 Understood. Ticket {world.zendesk.base_url}/agent/tickets/{ticket['id']} has been marked solved."
        )
        assert world.zendesk.ticket(ticket["id"])["status"] == "solved"
        world.slack.wait_for(
            lambda ts=ts: (
                {"name": "white_check_mark", "users": ["UBOT"], "count": 1}
                in (world.slack.replies(CHANNEL, ts)[0].get("reactions") or [])
            ),
            message="✅ on the request",
        )
    assert bot.runtime.store.scalar("SELECT COUNT(*) FROM support_threads WHERE closed_at IS NULL") == 0


def test_resolve_can_close_instead(make_bot, world):
    make_bot(SUPPORT_RESOLVE_STATUS="closed")
    ts, ticket = open_request(world, "Close it")
    world.slack.post_message("U0BOB", CHANNEL, "resolve", thread_ts=ts)
    assert wait_reply(world, ts, "Understood")[-1].endswith("has been closed.")
    assert world.zendesk.ticket(ticket["id"])["status"] == "closed"


def test_a_reply_to_a_closed_ticket_opens_a_follow_up(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.zendesk.set_status(ticket["id"], "closed", author_id=AGENT_ID)
    world.slack.post_message("U0BOB", CHANNEL, "It is back", thread_ts=ts)
    notice = wait_reply(world, ts, "follow-up")[-1]
    follow_up = world.zendesk.ticket(ticket["id"])["followup_ids"][0]
    new_url = f"{world.zendesk.base_url}/agent/tickets/{follow_up}"
    assert notice == (
        f"🤖 Ticket <{world.zendesk.base_url}/agent/tickets/{ticket['id']}|#{ticket['id']}> is closed, "
        f"so I opened a follow-up ticket for your message: {new_url}"
    )
    new = world.zendesk.ticket(follow_up)
    assert new["via"]["source"]["rel"] == "follow_up" and "Bob Baker (Slack): It is back" in new["description"]
    assert new["subject"] == "Follow-up: VPN down"
    world.slack.post_message("U0BOB", CHANNEL, "And again", thread_ts=ts)
    assert wait_comments(world, follow_up, 2)[-1] == "Bob Baker (Slack): And again"
    assert len(comments(world, ticket["id"])) == 1


def test_a_reply_in_an_unknown_thread_is_ignored(bot, world):
    joined, _ = world.slack.post_message("U0CAROL", CHANNEL, "<@U0CAROL> has joined", subtype="channel_join")
    world.slack.post_message("U0BOB", CHANNEL, "welcome!", thread_ts=joined)  # a thread without a ticket
    sentinel(bot)
    assert len(world.zendesk.tickets()) == 1
    assert not world.zendesk.calls("PUT")
