"""The sandbox scene of the oncall capability: PagerDuty schedules, a channel and a usergroup, and a short tour."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sandbox.steps import WAIT, Step

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

NAME = "oncall"
HOUR = 3600.0
CHANNEL = "C0ONCALL"
USERGROUP = "S0ONCALL"
TOPIC = "Runbook: <https://wiki.sandbox.example/oncall|on-call wiki>, escalate in #ops"  # no separator yet
# PagerDuty ids of the people the world seeds (see World.seed)
ALICE, BOB, CAROL, DAVE = "PALICEX", "PBOBXXX", "PCAROLX", "PDAVEXX"


def _rotation(people: list[str], start: float, hours: float, turns: int) -> list[tuple[str, float, float]]:
    return [(people[i % len(people)], start + i * hours * HOUR, start + (i + 1) * hours * HOUR) for i in range(turns)]


def seed(world: World) -> None:
    """Three schedules reached through escalation policies (as PagerDuty's /oncalls needs), a channel whose topic
    has a link with a `|` inside (but no separator of ours yet), and an `@oncall` usergroup."""
    start = time.time() - HOUR
    pd = world.pagerduty
    pd.add_schedule("PONCPRI", "Primary on-call", shifts=_rotation([ALICE, BOB, CAROL], start, 12, 20))
    pd.add_schedule("PONCSEC", "Secondary on-call", shifts=_rotation([BOB, CAROL, ALICE], start, 12, 20))
    pd.add_schedule("PONCDBA", "Database", shifts=_rotation([ALICE, DAVE], start, 24, 10))
    pd.add_escalation_policy("PONCEP1", "Platform", [["PONCPRI"], ["PONCSEC"]])
    pd.add_escalation_policy("PONCEP2", "Database", [["PONCDBA"]])
    members = ["UBOT", "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]
    world.slack.add_channel(CHANNEL, "oncall", members=members, topic=TOPIC)
    world.slack.add_usergroup(USERGROUP, "oncall", "On-call engineers", users=["U0DAVE"])


def _command(world: World, transcript: Transcript, user: str, handle: str, text: str) -> str:
    before = len(world.slack.responses)
    transcript.say(f"[#oncall] {handle}: /oncall {text}")
    envelope = world.slack.slash_command(user, CHANNEL, "/oncall", text)
    world.slack.wait_for_ack(envelope, timeout=WAIT)
    world.slack.wait_for(lambda: len(world.slack.responses) > before, timeout=WAIT, message="/oncall answer")
    return str(world.slack.responses[before]["body"].get("text", ""))


def who_is_on_call(world: World, runtime: Runtime, transcript: Transcript) -> None:
    _command(world, transcript, "U0BOB", "bob", "Primary on-call")


def link(world: World, runtime: Runtime, transcript: Transcript) -> None:
    text = f"link PONCPRI,PONCDBA=DB <#{CHANNEL}|oncall> <!subteam^{USERGROUP}|@oncall>"
    _command(world, transcript, "U0ALICE", "alice", text)
    world.slack.wait_for(lambda: "is on-call for" in world.slack.topic(CHANNEL), timeout=WAIT, message="the topic")


def human_edit(world: World, runtime: Runtime, transcript: Transcript) -> None:
    ours = world.slack.topic(CHANNEL).split(" | ", 1)[0]
    transcript.say("[#oncall] carol changes the people's part of the topic")
    world.slack.set_topic_as("U0CAROL", CHANNEL, f"{ours} | Runbook moved: <https://runbooks.sandbox.example|runbooks>")
    transcript.say("      (Switchboard keeps her text: its own part did not change, so it writes nothing)")


def override(world: World, runtime: Runtime, transcript: Transcript) -> None:
    now = world.pagerduty.now()
    transcript.say("[pagerduty] Dave takes Primary for the next two hours (an override)")
    world.pagerduty.add_override("PONCPRI", DAVE, now - 60, now + 2 * HOUR)
    _command(world, transcript, "U0ALICE", "alice", "sync")


def list_links(world: World, runtime: Runtime, transcript: Transcript) -> None:
    _command(world, transcript, "U0ALICE", "alice", "list")


STEPS: list[Step] = [
    Step("Bob asks who is on call for a PagerDuty schedule, by name", who_is_on_call),
    Step("Alice links two schedules to #oncall's topic and the @oncall usergroup", link),
    Step("Carol edits the topic after the `|`; the bot's part stays, her part is kept", human_edit),
    Step("Dave overrides Primary in PagerDuty; Alice syncs now", override),
    Step("Alice lists the links and how their last sync went", list_links),
]
