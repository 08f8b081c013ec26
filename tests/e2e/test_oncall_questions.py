"""On-call end to end: "who is on call" asked by @mention in a channel or in a DM with the bot, answered like
`/oncall` and posted (through the outbox) in the question's thread, once per question."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import BotUnderTest
from tests.e2e.test_oncall import ALICE, BOB, HOUR, on_call_now, oncall, schedule, whole_now

BOT = "UBOT"


def answer_in_thread(bot: BotUnderTest, channel: str, ts: str) -> dict[str, Any]:
    return bot.slack.wait_for_message(channel, lambda m: m.get("user") == BOT and m.get("thread_ts") == ts)


def bot_answers(bot: BotUnderTest, channel: str) -> list[dict[str, Any]]:
    """The bot's posts in a conversation (not the notices of the topics it sets)."""
    return [m for m in bot.slack.messages(channel) if m.get("user") == BOT and not m.get("subtype")]


def test_a_mention_in_a_channel_is_answered_in_its_thread_like_oncall(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI C0OPS")
    ts, _ = world.slack.post_message("U0BOB", "C0OPS", f"<@{BOT}> who is on call?")
    answer = answer_in_thread(bot, "C0OPS", ts)
    assert answer["text"] == oncall(bot, "", user="U0BOB", channel_id="C0OPS")
    assert answer["text"].startswith("*Primary*: <@U0ALICE> since ")
    bot.drain_outbox()
    assert len(bot_answers(bot, "C0OPS")) == 1  # the `message` event of the same post asks nothing more


def test_a_mention_naming_a_schedule_answers_for_it_in_any_channel(world, bot):
    now = whole_now()
    schedule(world, "PTSTPAY", "Payments", [(BOB, now - HOUR, now + HOUR), (ALICE, now + HOUR, now + 2 * HOUR)])
    ts, _ = world.slack.post_message("U0ALICE", "C0GENERAL", f"<@{BOT}> who is on call for Payments")
    answer = answer_in_thread(bot, "C0GENERAL", ts)
    assert answer["text"] == oncall(bot, "Payments", user="U0ALICE", channel_id="C0GENERAL")
    assert "<@U0BOB>" in answer["text"] and "Next: <@U0ALICE>" in answer["text"]


def test_a_mention_in_a_thread_is_answered_in_that_thread(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    parent, _ = world.slack.post_message("U0BOB", "C0OPS", "the site is slow")
    world.slack.post_message("U0BOB", "C0OPS", f"<@{BOT}> who's on call for Primary?", thread_ts=parent)
    answer = answer_in_thread(bot, "C0OPS", parent)
    assert answer["text"].startswith("*Primary*: <@U0ALICE>")


def test_a_channel_without_links_gets_the_same_hint_as_oncall(world, bot):
    ts, _ = world.slack.post_message("U0BOB", "C0GENERAL", f"<@{BOT}> who is on call")
    answer = answer_in_thread(bot, "C0GENERAL", ts)
    assert answer["text"] == oncall(bot, "", user="U0BOB", channel_id="C0GENERAL")
    assert answer["text"].startswith("No on-call schedule is linked to this channel.")


def test_a_question_in_a_dm_is_answered_in_the_dm(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    dm = world.slack.dm_channel("U0BOB")
    world.slack.post_message("U0BOB", dm, "who is on call for Primary?")
    answer = world.slack.wait_for_message(dm, lambda m: m.get("user") == BOT)
    assert answer["text"] == oncall(bot, "Primary", user="U0BOB", channel_id=dm)
    assert not answer.get("thread_ts")  # a DM is a conversation with the bot: no thread needed


def test_each_question_is_answered_once_and_other_mentions_not_at_all(world, bot):
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    oncall(bot, "link PTSTPRI C0OPS")
    ts, _ = world.slack.post_message("U0BOB", "C0OPS", f"<@{BOT}> who is on call")
    answer_in_thread(bot, "C0OPS", ts)
    service = bot.runtime.services["oncall"]
    redelivered = {"type": "app_mention", "user": "U0BOB", "channel": "C0OPS", "ts": ts}
    service.on_mention({**redelivered, "text": f"<@{BOT}> who is on call"})  # Slack retries a slow delivery
    service.on_mention({**redelivered, "ts": "1.000001", "text": f"<@{BOT}> please deploy"})  # not a question
    service.on_mention({**redelivered, "ts": "1.000002", "user": BOT, "text": "who is on call"})  # our own post
    bot.drain_outbox()
    assert len(bot_answers(bot, "C0OPS")) == 1
    answers = bot.runtime.store.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'oncall.mention_answer'")
    assert answers == 1


def test_questions_are_paced_per_person_like_slash_commands(world, make_bot):
    bot = make_bot(SWITCHBOARD_COMMANDS_PER_MINUTE="1")
    on_call_now(world, "PTSTPRI", "Primary", ALICE)
    service = bot.runtime.services["oncall"]
    # The posts exist (answers go in their threads); their events are handed to the service here, one by one.
    posts = [world.slack.post_message(user, "C0OPS", "…")[0] for user in ("U0BOB", "U0BOB", "U0CAROL")]
    asked = {"type": "app_mention", "channel": "C0OPS", "text": f"<@{BOT}> who is on call for Primary"}
    for user, ts in zip(("U0BOB", "U0BOB", "U0CAROL"), posts, strict=True):
        service.on_mention({**asked, "user": user, "ts": ts})  # Bob's second question is within the minute
    bot.drain_outbox()
    assert sorted(m["thread_ts"] for m in bot_answers(bot, "C0OPS")) == [posts[0], posts[2]]
