"""On-call end to end with a large install: every answer and message names everything it promises, and every
payload stays within Slack's limits (the Slack fake refuses, like Slack, anything past them)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.blocks import violations
from bot.oncall.links import Link, replace_links
from bot.oncall.reader import save_schedule
from bot.oncall.roster import ScheduleInfo
from bot.oncall.sync import LAST_SYNC_STATE
from tests.e2e.harness import WAIT, BotUnderTest
from tests.e2e.test_oncall import ALICE, BOB, HOUR, on_call_now, oncall, settle, whole_now

LINKS = 1000


def after_first_sync(bot: BotUnderTest) -> None:
    """Wait for the sync the bot runs at start, so links stored afterwards are read by `/oncall list` alone
    (the next cycle is minutes away: no PagerDuty read of 1,000 schedules in these tests)."""
    store = bot.runtime.store
    bot.slack.wait_for(lambda: store.get_state(LAST_SYNC_STATE), WAIT, "the first on-call sync")


def store_links(bot: BotUnderTest, links: list[Link], names: dict[str, str]) -> None:
    """Links written straight to SQLite, as `python app.py oncall import` writes them: not one command each."""
    store, now = bot.runtime.store, whole_now()
    with store.write() as db:
        replace_links(db, links, now)
    for schedule_id, name in names.items():  # what PagerDuty said about each schedule at the last sync
        save_schedule(store, ScheduleInfo(schedule_id, name, True), schedule_id, now)


def synced(bot: BotUnderTest) -> None:
    """Every target as a sync and the writer leave it: topic written ten minutes ago, usergroup members known."""
    store = bot.runtime.store
    store.execute("UPDATE oncall_channels SET written_at = ?", [whole_now() - 600])
    store.execute(
        "UPDATE oncall_usergroups SET handle = 'team-' || LOWER(SUBSTR(usergroup_id, 2, 5)), members = ?",
        ['["U0ALICE", "U0BOB"]'],
    )


def payload_text(payload: dict[str, Any]) -> str:
    """What a message shows: its sections (not the "continued" context lines), else its text."""
    sections = [b["text"]["text"] for b in payload.get("blocks") or [] if b.get("type") == "section"]
    return "\n".join(sections) if sections else str(payload.get("text") or "")


def whole_answer(bot: BotUnderTest, user: str, text: str, last_line: str) -> tuple[list[dict], list[dict]]:
    """Run `/oncall <text>` and collect every part of the answer: the response_url posts, then the DMs that
    continue it, until the part holding its last line (starting with `last_line`) has arrived."""
    responses_before, dms_before = len(bot.slack.responses), len(bot.slack.dm_messages(user))
    bot.command(user, "C0OPS", "/oncall", text)

    def arrived() -> tuple[list[dict], list[dict]] | None:
        responses = [r["body"] for r in bot.slack.responses[responses_before:]]
        dms = bot.slack.dm_messages(user)[dms_before:]
        lines = [line for payload in responses + dms for line in payload_text(payload).splitlines()]
        return (responses, dms) if any(line.startswith(last_line) for line in lines) else None

    return bot.slack.wait_for(arrived, WAIT * 2, f"the whole answer to /oncall {text}")


def lines_of(payloads: list[dict]) -> Counter[str]:
    return Counter(line for payload in payloads for line in payload_text(payload).splitlines())


# --- /oncall list -------------------------------------------------------------------------------------
def test_list_names_every_one_of_1000_links_within_slacks_limits(world, bot):
    after_first_sync(bot)
    ids = [f"PL{n:04d}XX" for n in range(LINKS)]
    store_links(
        bot,
        [Link((sid,), {}, (f"C{n:04d}LRG",), (f"S{n:04d}LRG",)) for n, sid in enumerate(ids)],
        {sid: f"Team {n:04d}" for n, sid in enumerate(ids)},
    )
    synced(bot)
    bot.runtime.store.execute(  # every tenth channel was refused, with its longer line
        "UPDATE oncall_channels SET blocked = 1, last_error = 'not_in_channel', last_result_at = ? "
        "WHERE CAST(SUBSTR(channel_id, 2, 4) AS INTEGER) % 10 = 0",
        [whole_now() - 2 * HOUR],
    )

    responses, dms = whole_answer(bot, "U0BOB", "list", "Last PagerDuty read")

    assert world.slack.refusals() == []
    assert all(violations(payload) == [] for payload in responses + dms)
    lines = lines_of(responses + dms)
    assert lines[f"*On-call links* ({LINKS})"] == 1
    for n, sid in enumerate(ids):
        assert lines[f"• *Team {n:04d}* (`{sid}`)"] == 1  # every link, once, in full
        status = (
            ":warning: Slack refused the topic: `not_in_channel` — `/invite @Switchboard` there (2h ago)"
            if n % 10 == 0
            else "topic up to date, set 10m ago"
        )
        assert lines[f"    <#C{n:04d}LRG>: {status}"] == 1
        assert lines[f"    @team-{n:04d}l: members up to date (<@U0ALICE>, <@U0BOB>)"] == 1
    assert not any(line.startswith("…and") for line in lines)


def test_a_list_longer_than_five_messages_continues_in_a_dm(world, bot):
    after_first_sync(bot)
    links, names = [], {}
    for n in range(LINKS):  # three schedules with long names, three channels and two usergroups per link
        schedules = tuple(f"PL{n:04d}{part}X" for part in "ABC")
        names.update({sid: f"Team {n:04d}{sid[-2]} " + "payments platform rotation " * 7 for sid in schedules})
        channels = tuple(f"C{n:04d}{part}LRG" for part in "ABC")
        links.append(Link(schedules, {}, channels, (f"S{n:04d}ALRG", f"S{n:04d}BLRG")))
    store_links(bot, links, names)
    synced(bot)

    responses, dms = whole_answer(bot, "U0BOB", "list", "Last PagerDuty read")

    assert world.slack.refusals() == []
    assert len(responses) == 5  # a response_url takes five posts: the fifth says where the rest is
    assert responses[-1]["text"] == f"The answer continues in a direct message from me ({len(dms)} more part(s))."
    assert dms and all(violations(payload) == [] for payload in responses + dms)
    lines = lines_of(responses + dms)
    for link in links:
        listed = ", ".join(f"*{names[sid]}* (`{sid}`)" for sid in link.schedules)
        assert lines[f"• {listed}"] == 1
        assert all(lines[f"    <#{channel}>: topic up to date, set 10m ago"] == 1 for channel in link.channels)
        for group in link.usergroups:
            assert lines[f"    @team-{group[1:6].lower()}: members up to date (<@U0ALICE>, <@U0BOB>)"] == 1


# --- /oncall <schedule> -------------------------------------------------------------------------------
def test_a_name_matching_many_schedules_is_answered_with_every_match_pagerduty_gave(world, bot):
    for n in range(30):
        on_call_now(world, f"PM{n:04d}XX", f"Nightly {n:02d}", ALICE)
    answer = oncall(bot, "nightly", user="U0BOB")
    found = ", ".join(f"Nightly {n:02d} (`PM{n:04d}XX`)" for n in range(25))  # PagerDuty's first page of 25
    assert answer == (
        f"Schedule `nightly` matches several schedules: {found} (the first 25 PagerDuty found: type more of the "
        "name to narrow it down). Use its ID."
    )
    assert oncall(bot, "nightly 2", user="U0BOB") == (
        "Schedule `nightly 2` matches several schedules: "
        + ", ".join(f"Nightly {n:02d} (`PM{n:04d}XX`)" for n in range(20, 30))
        + ". Use its ID."
    )


# --- the hand-off DM ----------------------------------------------------------------------------------
def test_a_hand_off_of_190_long_named_schedules_reaches_the_person_whole_and_in_order(world, make_bot):
    bot = make_bot(ONCALL_HANDOFF_DM="true")
    after_first_sync(bot)
    now = whole_now()
    ids = [f"PH{n:04d}XX" for n in range(190)]
    names = {sid: f"Schedule {n:03d}" + " of the payments platform in the EU region" * 5 for n, sid in enumerate(ids)}
    for sid in ids:
        world.pagerduty.add_schedule(sid, names[sid], shifts=[(ALICE, now - HOUR, now + 4), (BOB, now + 4, now + HOUR)])
    world.pagerduty.add_escalation_policy("PHBIGEP", "Everything", [ids])
    store_links(bot, [Link(tuple(ids), {}, ("C0OPS",))], names)
    settle(bot)  # Alice is seen on call for every schedule

    def whole_dm() -> str | None:  # Bob takes over all of them at the shift change: over 40,000 characters
        text = " ".join(message["text"] for message in world.slack.dm_messages("U0BOB"))
        return text if text.endswith(">.\nNothing open.") else None  # the brief closes the DM

    text = world.slack.wait_for(whole_dm, WAIT * 2, "the whole hand-off DM")
    assert world.slack.refusals() == []
    assert all(len(message["text"]) <= 3000 for message in world.slack.dm_messages("U0BOB"))
    assert len(text) > 40_000  # one message would have been refused (`msg_too_long`)
    shown = [names[sid] for sid in ids]  # every schedule, in order, nothing cut out
    assert text.startswith(f":pager: You are now on call for {', '.join(shown[:-1])} and {shown[-1]} until <!date^")
    assert f" until <!date^{now + HOUR}^" in text
    assert len(world.slack.topic("C0OPS")) <= 250  # the channel's topic stays within Slack's limit
