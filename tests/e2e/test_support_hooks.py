"""The support desk's part in the foundation's digest, doctor and hand-off brief: the real bot against the Slack,
Zendesk and PagerDuty fakes, each hook called on the running service."""

from __future__ import annotations

import time
from typing import Any

from sandbox.world import World
from tests.e2e.test_support import CHANNEL, GROUP_ID, open_request, poll, settled, wait_reply

DAY = 86400.0


def support(bot: Any) -> Any:
    return bot.runtime.services["support"]


def thread_row(bot: Any, ts: str) -> dict[str, Any]:
    return bot.runtime.store.query_one("SELECT * FROM support_threads WHERE thread_ts = ?", [ts])


def add_thread(bot: Any, ticket_id: int, opened: float, answered: float | None = None, solved: float | None = None):
    bot.runtime.store.execute(
        "INSERT INTO support_threads (channel_id, thread_ts, origin, state, ticket_id, ticket_status, opened_at, "
        "first_response_at, closed_at) VALUES (?, ?, 'slack', 'open', ?, ?, ?, ?, ?)",
        [CHANNEL, f"{opened:.6f}", ticket_id, "solved" if solved else "open", opened, answered, solved],
    )


# --- digest ------------------------------------------------------------------------------------------------------
def test_digest_figures_of_a_scripted_day(bot):
    until = time.time() - 10 * DAY  # a day of its own, away from anything the test's bot does now
    since = until - DAY
    add_thread(bot, 801, since + 100, answered=since + 100 + 600, solved=since + 5000)  # 10 min, solved
    add_thread(bot, 802, since + 200, answered=since + 200 + 1800)  # 30 min
    add_thread(bot, 803, since + 300, answered=since + 300 + 300)  # 5 min
    add_thread(bot, 804, since + 400)  # not answered
    add_thread(bot, 805, since + 500, answered=until + 60)  # answered only after the day: not answered in it
    add_thread(bot, 806, since - 3600, answered=since - 3000, solved=since + 7000)  # the day before, solved in it
    add_thread(bot, 807, until + 10)  # the next day
    assert support(bot).digest(since, until) == [
        "Tickets: 5 opened, 2 solved",
        "Of the tickets opened: median first response 10 min (3 answered, 2 not answered yet)",
    ]
    assert support(bot).digest(since - 5 * DAY, since - 4 * DAY) == []  # a quiet day says nothing


def test_first_responses_are_recorded_from_slack_and_zendesk(bot, world: World):
    asked, _ = open_request(world, "The wiki is down")
    world.slack.post_message("U0BOB", CHANNEL, "Anyone?", thread_ts=asked)  # the asker: not an answer
    world.slack.post_message("U0CAROL", CHANNEL, "help", thread_ts=asked)  # a question to the bot
    answer_ts, _ = world.slack.post_message("U0CAROL", CHANNEL, "Looking at it", thread_ts=asked)
    wait_reply(world, asked, "I understand these commands")
    settled(bot)
    assert thread_row(bot, asked)["first_response_at"] == float(answer_ts)
    assert thread_row(bot, asked)["asker_id"] == "U0BOB"

    commented, ticket = open_request(world, "VPN broken", user="U0DAVE")
    before = time.time()
    world.zendesk.agent_comment(ticket["id"], "Restart the client, please")  # an agent, in Zendesk
    poll(bot)
    settled(bot)
    row = thread_row(bot, commented)
    assert row["requester_id"] == ticket["requester_id"]
    assert int(before) <= row["first_response_at"] <= time.time()  # the comment's time in Zendesk (seconds)

    lines = support(bot).digest(time.time() - DAY, time.time() + 1)
    assert lines[0] == "Tickets: 2 opened, 0 solved"
    assert lines[1].startswith("Of the tickets opened: median first response") and "(2 answered)" in lines[1]


# --- doctor ------------------------------------------------------------------------------------------------------
def test_doctor_finds_nothing_on_a_clean_world(bot, world: World):
    open_request(world, "Printer on fire")  # Bob is in Slack under his Zendesk email
    settled(bot)
    assert support(bot).doctor() == []


def test_doctor_finds_one_problem_of_each_kind(make_bot, world: World):
    world.slack.add_channel("C0LONELY", "lonely", members=["U0ALICE"])  # the bot was never invited
    bot = make_bot(SUPPORT_CHANNELS=f"{CHANNEL},C0LONELY")
    outsider = world.zendesk.create_email_ticket(
        "Invoice", "Where is my invoice?", "erin@customer.example", "Erin <Customer>", group_id=GROUP_ID
    )
    poll(bot)  # the emailed ticket gets its thread
    settled(bot)
    channel, requester = support(bot).doctor()  # the channel check's words are the foundation's (bot/doctor.py)
    assert channel.capability == "Support desk (Zendesk)" and "not in <#C0LONELY> (support channel)" in channel.problem
    assert "/invite" in channel.fix and "<#C0LONELY>" in channel.fix
    assert requester.capability == "Support desk (Zendesk)"
    assert requester.problem == (
        "Zendesk requester Erin &lt;Customer&gt; (erin@customer.example) of open ticket "
        f"<{world.zendesk.base_url}/agent/tickets/{outsider['id']}|#{outsider['id']}> has no Slack account"
    )
    assert "same email address in Slack and in Zendesk" in requester.fix


# --- open work ---------------------------------------------------------------------------------------------------
def test_open_work_lists_unanswered_threads_with_their_permalink(bot, world: World):
    unanswered, _ = open_request(world, "Laptop will not boot")
    world.slack.post_message("U0BOB", CHANNEL, "It beeps three times", thread_ts=unanswered)  # the asker again
    answered, _ = open_request(world, "Need a new badge", user="U0DAVE")
    world.slack.post_message("U0CAROL", CHANNEL, "On my way", thread_ts=answered)
    settled(bot)
    lines = support(bot).open_work([CHANNEL], [])
    link = f"https://{world.slack.workspace.domain}.slack.com/archives/{CHANNEL}/p{unanswered.replace('.', '')}"
    assert len(lines) == 1
    assert lines[0].startswith(f"<{link}|Unanswered support request> in <#{CHANNEL}> from <@U0BOB>, asked ")
    assert lines[0].endswith(": Laptop will not boot")
    assert support(bot).open_work(["C0OPS"], []) == []
