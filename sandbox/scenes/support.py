"""The sandbox scene of the support capability: its seed data in the emulated world and its tour steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.steps import WAIT, Step

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

NAME = "support"
CHANNEL = "C0SUPPORT"
GROUP_ID = 360100  # ZENDESK_GROUP_ID in the world's settings
AGENT_ID = 950001  # far from the fake's own user ids (900002 upwards)
AGENT = ("Zoe Zendesk", "zoe@sandbox.example")
POLICY = "PSUPEP1"  # SUPPORT_ESCALATION_POLICY in the world's settings


def seed(world: World) -> None:
    """A Zendesk support group and agent; a PagerDuty escalation policy with Carol first and Dave second."""
    world.zendesk.add_group(GROUP_ID, "Support")
    world.zendesk.add_agent(AGENT_ID, *AGENT)
    world.pagerduty.add_escalation_policy(POLICY, "Support desk", [["PCAROLX"], ["PDAVEXX"]])


class _Tour:
    """What the steps share: the thread the tour opens and its ticket."""

    thread_ts = ""
    ticket_id = 0


def _bot_replies(world: World, ts: str) -> list[dict]:
    return [m for m in world.slack.replies(CHANNEL, ts) if m.get("user") == "UBOT"]


def _wait_for_reply(world: World, ts: str, needle: str) -> None:
    world.slack.wait_for(
        lambda: any(needle in (m.get("text") or "") for m in _bot_replies(world, ts)),
        timeout=WAIT,
        message=f"the bot to say {needle!r} in the thread",
    )


def new_request(world: World, runtime: Runtime, transcript: Transcript) -> None:
    ts, _ = world.slack.post_message("U0BOB", CHANNEL, "The VPN drops every ten minutes since this morning")
    _Tour.thread_ts = ts
    _wait_for_reply(world, ts, "Secondary on call")
    _Tour.ticket_id = world.zendesk.wait_for(
        lambda: next((t["id"] for t in world.zendesk.tickets() if t["external_id"] == f"slack:{CHANNEL}:{ts}"), 0),
        timeout=WAIT,
        message="the ticket",
    )


def agent_answers(world: World, runtime: Runtime, transcript: Transcript) -> None:
    world.zendesk.agent_comment(
        _Tour.ticket_id, "Thanks Bob! Which **client version** do you run?\n\n--\nZoe, Support", author_id=AGENT_ID
    )
    runtime.scheduler.run_now("support.poll")  # the next poll, brought forward so the tour need not wait for it
    _wait_for_reply(world, _Tour.thread_ts, "(Zendesk)")


def user_replies(world: World, runtime: Runtime, transcript: Transcript) -> None:
    world.slack.post_message("U0BOB", CHANNEL, "4.2.1 on macOS", thread_ts=_Tour.thread_ts)
    world.zendesk.wait_for(
        lambda: any("4.2.1" in c["body"] for c in world.zendesk.comments(_Tour.ticket_id)),
        timeout=WAIT,
        message="the reply as a Zendesk comment",
    )
    transcript.say(f"      | Zendesk ticket #{_Tour.ticket_id}: {world.zendesk.comments(_Tour.ticket_id)[-1]['body']}")


def user_resolves(world: World, runtime: Runtime, transcript: Transcript) -> None:
    world.slack.post_message("U0BOB", CHANNEL, "resolve", thread_ts=_Tour.thread_ts)
    _wait_for_reply(world, _Tour.thread_ts, "Understood")
    world.slack.wait_for(
        lambda: world.slack.replies(CHANNEL, _Tour.thread_ts)[0].get("reactions"), timeout=WAIT, message="the ✅"
    )


STEPS: list[Step] = [
    Step("Bob asks for help in #support: a Zendesk ticket, its link and who is on call", new_request),
    Step("Zoe answers in Zendesk; the poller brings her comment into the thread", agent_answers),
    Step("Bob answers in the thread; it becomes a Zendesk comment", user_replies),
    Step("Bob types `resolve`: the ticket is solved", user_resolves),
]
