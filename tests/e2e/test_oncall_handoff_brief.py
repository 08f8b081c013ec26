"""The hand-off brief end to end: the DM to the incoming person lists the open PagerDuty incidents of their
schedules' services, the unanswered support threads of the channels linked to those schedules and the alarm
confirmations still waiting on those services — or says "Nothing open."."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.capability import CapabilityService
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_dispatch import ENV as DISPATCH_ENV
from tests.e2e.test_dispatch import self_service, submit, wait_prompt
from tests.e2e.test_oncall import ALICE, BOB, HOUR, oncall, settle, whole_now
from tests.e2e.test_support import open_request

SCHEDULE, POLICY, SERVICE = "PBRIEF1", "PBRIEFEP", "PBRIEFSV"


class OpenWorkProbe(CapabilityService):
    """A test-only capability: records what the hand-off asks every capability, answers one line."""

    def __init__(self) -> None:
        self.asked: list[tuple[list[str], list[str]]] = []

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        self.asked.append((list(channels), list(services)))
        return ["<https://probe.example/item|Probe item> still open"]


def hand_off(world: Any, bot: BotUnderTest, schedule_id: str, now: int) -> str:
    """Bob takes over from Alice now; the sync notices it and the DM's text (all its parts) reaches Bob."""
    world.pagerduty.set_shifts(schedule_id, [(ALICE, now - HOUR, now - 1), (BOB, now - 1, now + HOUR)])
    settle(bot)
    bot.drain_outbox()
    return "\n".join(message["text"] for message in world.slack.dm_messages("U0BOB"))


def payments(world: Any, now: int) -> None:
    """Alice on call for Payments, whose policy escalates the Payments API service."""
    world.pagerduty.add_schedule(SCHEDULE, "Payments", shifts=[(ALICE, now - HOUR, now + HOUR)])
    world.pagerduty.add_escalation_policy(POLICY, "Payments policy", [[SCHEDULE]])
    world.pagerduty.add_service(SERVICE, "Payments API", escalation_policy_id=POLICY)


def test_the_hand_off_dm_lists_one_open_item_of_each_kind_with_links(world, make_bot):
    now = whole_now()
    payments(world, now)
    world.pagerduty.add_service("PELSEWH", "Somebody else's service")
    bot = make_bot(ONCALL_HANDOFF_DM="true", **DISPATCH_ENV)
    probe = OpenWorkProbe()
    bot.runtime.services["probe"] = probe
    oncall(bot, f"link {SCHEDULE} C0SUPPORT C0OPS")  # Alice is seen on call: no hand-off yet

    triggered = world.pagerduty.trigger_incident(SERVICE, "Card payments fail")
    acknowledged = world.pagerduty.trigger_incident(SERVICE, "Refunds are slow")
    world.pagerduty.acknowledge(acknowledged["id"])
    resolved = world.pagerduty.trigger_incident(SERVICE, "Old trouble")
    world.pagerduty.resolve(resolved["id"])
    world.pagerduty.trigger_incident("PELSEWH", "Not Bob's business")
    thread_ts, _ = open_request(world, "The payments page is blank", user="U0DAVE")  # nobody answers it
    submit(bot, self_service("brief-alarm", user="U0CAROL", pagerDutyServiceId=SERVICE))
    wait_prompt(bot, "U0CAROL")  # the alarm waits for Carol's confirmation
    world.pagerduty.reset_requests()

    text = hand_off(world, bot, SCHEDULE, now)

    lines = text.split("\n")
    assert lines[0].startswith(":pager: You are now on call for Payments until <!date^")
    assert lines[1] == "*Still open:*"
    assert lines[2] == (
        f"• :rotating_light: <{triggered['html_url']}|#{triggered['incident_number']} Card payments fail> "
        "(triggered, Payments API)"
    )
    assert lines[3] == (
        f"• :rotating_light: <{acknowledged['html_url']}|#{acknowledged['incident_number']} Refunds are slow> "
        "(acknowledged, Payments API)"
    )
    assert "Old trouble" not in text and "Not Bob" not in text
    support = [line for line in lines if "Unanswered support request" in line]
    assert len(support) == 1 and "<#C0SUPPORT>" in support[0] and thread_ts.replace(".", "") in support[0]
    assert "• <https://probe.example/item|Probe item> still open" in lines
    # the other capabilities were asked about the channels linked to Payments and the services of its policy
    assert probe.asked == [(["C0SUPPORT", "C0OPS"], [SERVICE])]
    # the dispatch side: the alarm Carol has not confirmed yet, on the Payments API service
    dispatch = [
        line
        for line in lines[4:]
        if "Unanswered support request" not in line and "probe.example" not in line and line.startswith("•")
    ]
    assert len(dispatch) == 1 and "brief-alarm" in dispatch[0] and "<http" in dispatch[0], lines
    # one read of the policies and one of the open incidents, for every hand-off of the cycle
    assert len(world.pagerduty.calls("GET", "^/escalation_policies$")) == 1
    [read] = [r for r in world.pagerduty.calls("GET", "^/incidents$") if r.q_list("service_ids")]
    assert read.q_list("service_ids") == [SERVICE]
    assert read.q_list("statuses") == ["triggered", "acknowledged"] and read.q("date_range") == "all"


def test_the_hand_off_dm_says_nothing_open_when_nothing_is(world, make_bot):
    now = whole_now()
    payments(world, now)
    bot = make_bot(ONCALL_HANDOFF_DM="true")
    oncall(bot, f"link {SCHEDULE} C0OPS")
    text = hand_off(world, bot, SCHEDULE, now)
    until = f"<!date^{now + HOUR}^{{date_short_pretty}} {{time}}|"
    assert text.startswith(f":pager: You are now on call for Payments until {until}")
    assert text.endswith(">.\nNothing open.")
    assert len(world.slack.dm_messages("U0BOB")) == 1


def test_pagerduty_trouble_costs_the_brief_its_incidents_not_the_dm(world, make_bot):
    now = whole_now()
    payments(world, now)
    bot = make_bot(ONCALL_HANDOFF_DM="true")
    oncall(bot, f"link {SCHEDULE} C0OPS")
    world.pagerduty.inject_fault(r"^/escalation_policies$", 500, times=-1)
    text = hand_off(world, bot, SCHEDULE, now)
    assert text.startswith(":pager: You are now on call for Payments until <!date^")
    assert text.endswith(">.\n:warning: The open PagerDuty incidents could not be read.")  # never "Nothing open"
    assert world.slack.topic("C0OPS") == "<@U0BOB> is on-call for Payments"  # the sync itself went on


def test_a_rate_limited_slack_lookup_delays_the_hand_off_dm_but_never_loses_it(world, make_bot):
    now = whole_now()
    payments(world, now)
    bot = make_bot(ONCALL_HANDOFF_DM="true")
    oncall(bot, f"link {SCHEDULE} C0OPS")
    limited = {"ok": False, "error": "ratelimited"}
    world.slack.inject_fault(r"/api/users\.lookupByEmail$", 429, retry_after=1, body=limited, times=-1)
    world.pagerduty.set_shifts(SCHEDULE, [(ALICE, now - HOUR, now - 1), (BOB, now - 1, now + HOUR)])
    with pytest.raises(SlackApiError):  # the cycle fails, recorded on the Home tab, and runs again later
        bot.runtime.scheduler.run_and_wait("oncall.sync")
    assert world.slack.dm_messages("U0BOB") == []  # Bob's lookup was refused: the cycle waits, it does not guess
    assert world.slack.topic("C0OPS") != "Bob Baker is on-call for Payments"
    world.slack.clear_faults()
    pauses = bot.runtime.slack.pauses  # the client holds the method back for the Retry-After Slack gave
    world.slack.wait_for(lambda: not pauses.remaining("users.lookupByEmail"), message="the pause to end")
    bot.runtime.scheduler.run_and_wait("oncall.sync")
    bot.drain_outbox()
    world.slack.wait_for(lambda: world.slack.dm_messages("U0BOB"), message="the hand-off DM")
    assert world.slack.topic("C0OPS") == "<@U0BOB> is on-call for Payments"
