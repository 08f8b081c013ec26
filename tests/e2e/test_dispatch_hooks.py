"""Dispatch's hooks for the rest of the bot: its digest figures and its part of the hand-off brief."""

from __future__ import annotations

import time

from tests.e2e.test_dispatch import click, dispatch_bot, self_service, submit, wait_prompt, wait_state


def test_the_digest_counts_a_scripted_days_alarms(make_bot, world):
    bot = dispatch_bot(make_bot)
    service = bot.runtime.services["dispatch"]
    started = time.time()
    yes = submit(bot, self_service("day-yes", user="U0BOB"))
    no = submit(bot, self_service("day-no", user="U0CAROL"))
    silent = submit(bot, self_service("day-silent", user="U0DAVE"))
    click(bot, "U0BOB", "U0BOB", wait_prompt(bot, "U0BOB"), "dispatch_yes")
    click(bot, "U0CAROL", "U0CAROL", wait_prompt(bot, "U0CAROL"), "dispatch_no")
    wait_prompt(bot, "U0DAVE")
    waiting = wait_state(bot, silent, "awaiting_answer")
    service.timeouts.check(now=float(waiting["escalate_at"]) + 1)  # nobody answers the third in time
    wait_state(bot, yes, "closed")
    wait_state(bot, no, "escalated")
    wait_state(bot, silent, "escalated")

    until = float(waiting["escalate_at"]) + 2
    assert service.digest(started - 1, until) == ["Alarms: 3 sent, 1 confirmed (Yes), 2 escalated (1 No, 1 no answer)"]
    assert service.digest(started - 86400, started - 1) == [], "a day without alarms says nothing"
    assert "Alarms: 3 sent" in bot.runtime.digest_now(now=until)


def test_the_hand_off_brief_lists_a_waiting_confirmation_with_its_prompt(make_bot, world):
    bot = dispatch_bot(make_bot)
    service = bot.runtime.services["dispatch"]
    assert service.open_work(["C0OPS"], ["PDSPALRM"]) == []
    rid = submit(bot, self_service("brief-1", user="U0BOB"))
    prompt = wait_prompt(bot, "U0BOB")
    wait_state(bot, rid, "awaiting_answer")

    [line] = service.open_work([], [])  # a personal DM: listed whatever the channels and services
    channel = bot.slack.dm_channel("U0BOB")
    permalink = f"https://{world.slack.workspace.domain}.slack.com/archives/{channel}/p{prompt['ts'].replace('.', '')}"
    assert line.startswith("Dispatch `brief-1` waits for <@U0BOB>'s Yes/No: Unusual login brief-1, escalates at ")
    assert line.endswith(f"<{permalink}|the prompt>")
    assert line in bot.runtime.open_work(["C0OPS"], [])

    click(bot, "U0BOB", "U0BOB", prompt, "dispatch_yes")
    wait_state(bot, rid, "closed")
    assert service.open_work([], []) == []
