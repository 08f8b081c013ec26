"""What on-call tells the coordinator: the on-call changes of a day for the digest, and the problems its doctor
finds in the links (people Slack does not know, channels the bot is not in), each with its fix."""

from __future__ import annotations

from typing import Any

from bot.capability import Finding
from bot.oncall.doctor import (
    DEACTIVATED_IN_PAGERDUTY_FIX,
    DEACTIVATED_IN_SLACK_FIX,
    NO_MATCH_FIX,
    TITLE,
)
from bot.oncall.links import Link
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_oncall import ALICE, BOB, CAROL, HOUR, channel, oncall, schedule, settle, whole_now
from tests.e2e.test_oncall_large import store_links

DAY = 24 * HOUR


def date(epoch: int) -> str:
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|"


def oncall_service(bot: BotUnderTest) -> Any:
    return bot.runtime.services["oncall"]


# --- digest ------------------------------------------------------------------------------------------
def test_the_digest_lists_the_days_hand_offs_in_order(world, bot):
    now = whole_now()
    schedule(world, "PPAYMNT", "Payments", [(ALICE, now - DAY, now + HOUR)])
    schedule(world, "PDATABS", "Database", [(CAROL, now - DAY, now + HOUR)])
    schedule(world, "PLEGACY", "Legacy", [(CAROL, now - 3 * DAY, now + HOUR)])
    oncall(bot, "link PPAYMNT,PDATABS=DB C0OPS")
    oncall(bot, "link PLEGACY C0GENERAL")
    assert oncall_service(bot).digest(now - DAY, now + 60) == ["No on-call changes."]

    # the day: Bob takes Payments over two hours ago, Alice the database an hour ago; Legacy's hand-off is
    # noticed now but its shift began three days ago, so it belongs to an older digest
    world.pagerduty.set_shifts("PPAYMNT", [(ALICE, now - DAY, now - 2 * HOUR), (BOB, now - 2 * HOUR, now + HOUR)])
    world.pagerduty.set_shifts("PDATABS", [(CAROL, now - DAY, now - HOUR), (ALICE, now - HOUR, now + HOUR)])
    world.pagerduty.set_shifts("PLEGACY", [(BOB, now - 3 * DAY, now + HOUR)])
    settle(bot)
    settle(bot)  # a later cycle records nothing twice

    lines = oncall_service(bot).digest(now - DAY, now + 60)
    assert lines[0] == "On-call changes: 2"
    assert lines[1].startswith(f"• {date(now - 2 * HOUR)}") and lines[1].endswith(": Bob Baker took over Payments")
    assert lines[2].startswith(f"• {date(now - HOUR)}") and lines[2].endswith(": Alice Archer took over DB")
    assert len(lines) == 3
    assert oncall_service(bot).digest(now - 4 * DAY, now - DAY)[1].endswith(": Bob Baker took over Legacy")
    assert oncall_service(bot).digest(now + 60, now + DAY) == ["No on-call changes."]

    digest = bot.runtime.digest_now()  # what `/switchboard digest` and the daily post show
    assert "\n*On-call topics and usergroups*\n• On-call changes: 2\n• <!date^" in digest
    assert oncall_service(bot).prune(now - DAY) == 1  # Legacy's old hand-off goes with the retention


def test_nothing_linked_means_no_digest_section(world, bot):
    assert oncall_service(bot).digest(whole_now() - DAY, whole_now()) == []


# --- doctor ------------------------------------------------------------------------------------------
def test_doctor_finds_one_problem_of_each_kind_with_its_fix(world, bot):
    now = whole_now()
    world.pagerduty.add_user("PNORAXX", "Nora <Nobody>", "nora@elsewhere.example")  # no Slack account
    world.pagerduty.add_user("PGONEXX", "Gus Gone", "gus@sandbox.example")
    world.slack.add_user("U0GUS", "gus", "Gus Gone", "gus@sandbox.example", deleted=True)  # left the company
    world.pagerduty.add_user("PEXPDXX", "Eve Expired", "eve@sandbox.example")
    schedule(
        world,
        "PPAYMNT",
        "Payments",
        [
            (ALICE, now - HOUR, now + HOUR),
            ("PNORAXX", now + HOUR, now + 2 * HOUR),
            ("PGONEXX", now + 2 * HOUR, now + 3 * HOUR),
            ("PEXPDXX", now + 3 * HOUR, now + 4 * HOUR),
            (BOB, now + 8 * DAY, now + 9 * DAY),  # beyond the week looked at
        ],
    )
    world.pagerduty.delete_user("PEXPDXX")  # deactivated in PagerDuty, still on the schedule
    channel(world, "C0NOBOT", bot_member=False)
    store_links(bot, [Link(("PPAYMNT", "PNOSUCH1"), {}, ("C0OPS", "C0NOBOT"))], {})

    findings = oncall_service(bot).doctor()

    assert findings == [
        Finding(
            TITLE,
            "linked schedule `PNOSUCH1` is not in PagerDuty",
            "`/oncall unlink PNOSUCH1` in its channels, or link the schedule that replaced it",
        ),
        Finding(
            TITLE,
            "PagerDuty user Nora &lt;Nobody&gt; (nora@elsewhere.example) on Payments has no Slack account",
            NO_MATCH_FIX,
        ),
        Finding(
            TITLE,
            "PagerDuty user Gus Gone (gus@sandbox.example) on Payments is deactivated in Slack",
            DEACTIVATED_IN_SLACK_FIX,
        ),
        Finding(TITLE, "Eve Expired, deactivated in PagerDuty, is still on Payments", DEACTIVATED_IN_PAGERDUTY_FIX),
        Finding(
            TITLE,
            "the bot is not in <#C0NOBOT> (linked to an on-call schedule)",
            "`/invite @Switchboard` in <#C0NOBOT>",
        ),
    ]
    report = bot.command_reply("U0ALICE", "C0OPS", "/switchboard", "doctor")
    assert "• *On-call topics and usergroups*: the bot is not in <#C0NOBOT>" in report


def test_doctor_finds_nothing_in_a_clean_world(world, bot):
    now = whole_now()
    schedule(world, "PPAYMNT", "Payments", [(ALICE, now - HOUR, now + HOUR), (BOB, now + HOUR, now + 2 * HOUR)])
    oncall(bot, "link policy:PPAYMNTEP C0GENERAL")
    oncall(bot, "link PPAYMNT C0OPS")
    settle(bot)
    assert oncall_service(bot).doctor() == []
