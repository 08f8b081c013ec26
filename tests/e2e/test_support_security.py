"""Support desk against a hostile or careless party, end to end: vendor text that tries to disguise a link, a
report asked for over and over, and thread chatter that must not reach a customer who emailed in."""

from __future__ import annotations

from typing import Any

from sandbox.world import World
from tests.e2e.test_support import (
    AGENT_ID,
    CHANNEL,
    GROUP_ID,
    WAIT,
    bot_replies,
    open_request,
    poll,
    settled,
    wait_reply,
)
from tests.e2e.test_support_sync import top_level

SPOOF = "[https://sso.acme.com/login](https://evil.example/login)"
SHOWN = "https://sso.acme.com/login (<https://evil.example/login>)"  # the trusted-looking label, then the real target
DISGUISED = "|https://sso.acme.com/login>"  # a Slack link labelled with the trusted URL


def emailed_ticket(bot: Any, subject: str, body: str, name: str = "Carla Customer") -> tuple[dict[str, Any], str]:
    """A customer emails the support group; returns (ticket, the ts of its Slack thread) once the thread exists."""
    world = bot.world
    ticket = world.zendesk.create_email_ticket(subject, body, "carla@customer.example", name, group_id=GROUP_ID)
    poll(bot)
    parent = world.slack.wait_for(lambda: top_level(world), timeout=WAIT, message="the emailed ticket's post")[-1]
    wait_reply(world, parent["ts"], "your new support request is")
    return ticket, parent["ts"]


def comment_by_body(world: World, ticket_id: int, body: str) -> dict[str, Any]:
    return world.zendesk.wait_for(
        lambda: next((c for c in world.zendesk.comments(ticket_id) if c["body"] == body), None),
        timeout=WAIT,
        message=f"the comment {body!r}",
    )


# --- vendor text cannot disguise a link or ping ----------------------------------------------------------
def test_a_spoofed_link_in_a_zendesk_comment_shows_its_real_target(bot, world):
    ts, ticket = open_request(world, "Cannot log in")
    world.zendesk.agent_comment(ticket["id"], f"Please log in again at {SPOOF} <!here>", author_id=AGENT_ID)
    poll(bot)
    text = wait_reply(world, ts, "(Zendesk)")[-1]
    assert text == f"Zoe Zendesk (Zendesk): Please log in again at {SHOWN} &lt;!here&gt;"
    assert DISGUISED not in text


def test_an_emailed_ticket_cannot_disguise_links_or_ping_through_its_name_subject_or_body(bot, world):
    ticket, ts = emailed_ticket(bot, f"Login {SPOOF} <!channel>", f"Use {SPOOF} please", name="Eve <!everyone>")
    parent = world.slack.replies(CHANNEL, ts)[0]["text"]
    assert parent.startswith(
        f"📧 *New support request by email* from Eve &lt;!everyone&gt;: *Login {SPOOF} &lt;!channel&gt;*\n"
        f">Use {SHOWN} please\n"
    )
    assert DISGUISED not in parent and "<!" not in parent
    answer = bot.command_reply("U0ALICE", CHANNEL, "/support", "report")
    assert answer == f"📊 Posting the support report in <#{CHANNEL}>."
    report = world.slack.wait_for(
        lambda: next((m["text"] for m in top_level(world) if "Daily support report" in m["text"]), None),
        timeout=WAIT,
        message="the report",
    )
    assert f"#{ticket['id']}> Login {SPOOF} &lt;!channel&gt; — open" in report
    assert DISGUISED not in report and "<!" not in report


# --- /support report: admins any time, others once per channel in ten minutes -----------------------------
def reports(world: World, channel: str = CHANNEL) -> int:
    return sum("Daily support report" in (m.get("text") or "") for m in world.slack.messages(channel) if m.get("user"))


def test_report_command_is_paced_per_channel_for_people_who_are_not_admins(make_bot, world):
    bot = make_bot(SUPPORT_CHANNELS="C0SUPPORT,C0OPS")
    assert (
        bot.command_reply("U0BOB", CHANNEL, "/support", "report") == f"📊 Posting the support report in <#{CHANNEL}>."
    )
    world.slack.wait_for(lambda: reports(world) == 1, timeout=WAIT, message="the report")
    again = bot.command_reply("U0CAROL", CHANNEL, "/support", "report")  # another person, the same channel
    assert again.startswith(f"📊 The support report was posted in <#{CHANNEL}> less than 10 minutes ago.")
    assert " You can post it again in 9m (Switchboard admins can post it any time)." in again
    elsewhere = bot.command_reply("U0BOB", "C0GENERAL", "/support", "report")  # would post in both channels
    assert elsewhere.startswith("📊 The support report was posted in <#C0SUPPORT>, <#C0OPS> less than 10 minutes")
    other = bot.command_reply("U0BOB", "C0OPS", "/support", "report")  # another support channel is not held back
    assert other == "📊 Posting the support report in <#C0OPS>."
    world.slack.wait_for(lambda: reports(world, "C0OPS") == 1, timeout=WAIT, message="the report in #ops")
    admin = bot.command_reply("U0ALICE", CHANNEL, "/support", "report")
    assert admin == f"📊 Posting the support report in <#{CHANNEL}>."
    world.slack.wait_for(lambda: reports(world) == 2, timeout=WAIT, message="the admin's report")
    bot.stop()
    restarted = make_bot(SUPPORT_CHANNELS="C0SUPPORT,C0OPS")  # the last run is stored: a restart does not reset it
    later = restarted.command_reply("U0DAVE", CHANNEL, "/support", "report")
    assert later.startswith(f"📊 The support report was posted in <#{CHANNEL}> less than 10 minutes ago.")
    settled(restarted)
    assert (reports(world), reports(world, "C0OPS")) == (2, 1)
    keys = restarted.runtime.store.query("SELECT key FROM state WHERE key LIKE 'support.report.command_at.%'")
    assert sorted(row["key"] for row in keys) == [
        "support.report.command_at.C0OPS",
        "support.report.command_at.C0SUPPORT",
    ]


# --- nothing said in Slack reaches an outside requester unless meant to ------------------------------------
def test_replies_on_an_emailed_ticket_are_internal_notes_unless_marked_reply(bot, world):
    ticket, ts = emailed_ticket(bot, "Cannot log in", "Hi, I cannot log in since today.")
    parent = world.slack.replies(CHANNEL, ts)[0]["text"]
    assert parent == (
        "📧 *New support request by email* from Carla Customer: *Cannot log in*\n"
        ">Hi, I cannot log in since today.\n"
        "🔒 Replies in this thread are internal notes on the ticket. Start a reply with `reply:` to send it to "
        "Carla Customer by email."
    )
    world.slack.post_message("U0ALICE", CHANNEL, "She is on the old VPN client, see <#C0OPS|ops>", thread_ts=ts)
    note = comment_by_body(world, ticket["id"], "Alice Archer (Slack): She is on the old VPN client, see #ops")
    world.slack.post_message("U0ALICE", CHANNEL, "Reply: We are looking into it", thread_ts=ts)
    public = comment_by_body(world, ticket["id"], "Alice Archer (Slack): We are looking into it")
    assert (note["public"], public["public"]) == (False, True)
    assert {note["author_id"], public["author_id"]} == {world.zendesk.BOT_AGENT_ID}
    world.slack.post_message("U0BOB", CHANNEL, "help", thread_ts=ts)
    help_text = wait_reply(world, ts, "I understand these commands")[-1]
    assert help_text.endswith("as an internal note; start it with `reply:` to send it to the requester.")
    poll(bot)  # the bot's own comments never come back into the thread
    settled(bot)
    assert not any("(Zendesk)" in text for text in bot_replies(world, ts))
    assert [c["public"] for c in world.zendesk.comments(ticket["id"])].count(True) == 2  # the email and the reply


def test_replies_on_a_slack_ticket_stay_public_and_verbatim(bot, world):
    ts, ticket = open_request(world, "VPN down")
    world.slack.post_message("U0ALICE", CHANNEL, "reply: same here", thread_ts=ts)
    comment = comment_by_body(world, ticket["id"], "Alice Archer (Slack): reply: same here")
    assert comment["public"] is True
