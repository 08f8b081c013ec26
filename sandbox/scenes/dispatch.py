"""The sandbox scene of the dispatch capability: its seed data in the emulated world and its tour steps."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from sandbox.steps import WAIT, Step

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

NAME = "dispatch"
SERVICE = "PDSPALRM"  # the PagerDuty service alarms escalate to (messages name it: pagerDutyServiceId)
OTHER_SERVICE = "PDSPDATA"  # a second service, for messages that pick their own
POLICY = "PDSPEP1"


def seed(world: World) -> None:
    """Two PagerDuty services for escalations (Dave answers pages) and a second GitHub repo for audit issues."""
    world.pagerduty.add_escalation_policy(POLICY, "Alarm escalations", [["PDAVEXX"]])
    world.pagerduty.add_service(SERVICE, "Alarms (dispatch)", escalation_policy_id=POLICY)
    world.pagerduty.add_service(OTHER_SERVICE, "Data platform alarms", escalation_policy_id=POLICY)
    world.github.add_repo("sandbox/security-alerts")


def self_service(user: str, title: str, text: str, request_id: str) -> dict[str, Any]:
    """A self-service message as a monitoring system would send it."""
    return {
        "type": "self-service",
        "requestId": request_id,
        "githubRepo": "security-alerts",
        "pagerDutyServiceId": SERVICE,
        "users": [{"slack": user.lower(), "slackId": user, "github": user[2:].lower()}],
        "body": {
            "github": {"title": title, "body": text, "labels": ["self-service"]},
            "slack": {
                "message": text,
                "prompt": "Was this you?",
                "actions": {
                    "yes": "Yes, it was me",
                    "no": "No, page security",
                    "yes_response": "Thanks, the alarm is closed.",
                    "no_response": "Security has been paged.",
                },
            },
        },
    }


class _Tour:
    bob_prompt: tuple[str, str] = ("", "")
    broadcast_id = ""


def cli_alarm(world: World, runtime: Runtime, transcript: Transcript) -> None:
    from bot.dispatch.cli import run_cli
    from bot.wiring import open_store, spec

    message = self_service("U0BOB", "Login from a new country", "New login to the VPN from Lisbon by bob.", "tour-1")
    out = io.StringIO()
    settings = runtime.settings
    run_cli(
        "-",
        settings,
        lambda: open_store(settings),  # its own connection, as `app.py dispatch` in another process would have
        spec(NAME).missing(settings),
        stdout=out,
        stderr=io.StringIO(),
        stdin=io.BytesIO(json.dumps(message).encode()),
    )
    transcript.say(f"$ python app.py dispatch - < login-alarm.json\n{out.getvalue().strip()}")
    dm = world.slack.dm_channel("U0BOB")
    prompt = world.slack.wait_for_message(dm, lambda m: "Was this you?" in (m.get("text") or ""), timeout=WAIT)
    _Tour.bob_prompt = (dm, prompt["ts"])


def bob_says_yes(world: World, runtime: Runtime, transcript: Transcript) -> None:
    dm, ts = _Tour.bob_prompt
    transcript.say("[DM with bob] bob clicks “Yes, it was me”")
    world.slack.click_button("U0BOB", dm, ts, "dispatch_yes")
    world.github.wait_for(
        lambda: any(i["state"] == "closed" for i in world.github.issues("sandbox/security-alerts")),
        timeout=WAIT,
        message="the audit issue closed",
    )


def carol_says_no(world: World, runtime: Runtime, transcript: Transcript) -> None:
    message = self_service("U0CAROL", "Sudo on db-1", "carol ran sudo on db-1 at 03:12.", "tour-2")
    runtime.services["dispatch"].submit(message, "http")  # type: ignore[attr-defined]
    dm = world.slack.dm_channel("U0CAROL")
    prompt = world.slack.wait_for_message(dm, lambda m: "Was this you?" in (m.get("text") or ""), timeout=WAIT)
    transcript.say("[DM with carol] carol clicks “No, page security”")
    world.slack.click_button("U0CAROL", dm, prompt["ts"], "dispatch_no")
    world.pagerduty.wait_for(
        lambda: any(i["incident_key"] == "tour-2" for i in world.pagerduty.incidents_by_status("triggered")),
        timeout=WAIT,
        message="the PagerDuty incident",
    )
    number = max(i["number"] for i in world.github.issues("sandbox/security-alerts"))
    world.github.wait_for(
        lambda: world.github.comments("sandbox/security-alerts", number), timeout=WAIT, message="the audit comment"
    )
    transcript.say(f"      | GitHub: {world.github.comments('sandbox/security-alerts', number)[0]['body']}")


def broadcast(world: World, runtime: Runtime, transcript: Transcript) -> None:
    before = len(world.slack.responses)
    transcript.say("[#ops] alice: /dispatch broadcast @carol @dave Rotate your VPN certificates today")
    envelope = world.slack.slash_command(
        "U0ALICE", "C0OPS", "/dispatch", "broadcast <@U0CAROL|carol> <@U0DAVE|dave> Rotate your VPN certificates today"
    )
    world.slack.wait_for_ack(envelope, timeout=WAIT)
    world.slack.wait_for(lambda: len(world.slack.responses) > before, timeout=WAIT, message="/dispatch answer")
    reply = world.slack.responses[before]["body"].get("text", "")
    _Tour.broadcast_id = reply.split("`")[1] if "`" in reply else ""
    dm = world.slack.dm_channel("U0CAROL")
    sent = world.slack.wait_for_message(dm, lambda m: "Rotate your VPN" in (m.get("text") or ""), timeout=WAIT)
    world.slack.wait_for_message(world.slack.dm_channel("U0DAVE"), lambda m: "Rotate" in (m.get("text") or ""))
    transcript.say("[DM with carol] carol clicks “Acknowledge”")
    world.slack.click_button("U0CAROL", dm, sent["ts"], "dispatch_ack")
    world.github.wait_for(
        lambda: any(
            "Acknowledged in Slack" in c["body"]
            for i in world.github.issues("sandbox/alerts")
            for c in world.github.comments("sandbox/alerts", i["number"])
        ),
        timeout=WAIT,
        message="the acknowledgement on the issue",
    )


def status(world: World, runtime: Runtime, transcript: Transcript) -> None:
    before = len(world.slack.responses)
    transcript.say(f"[#ops] alice: /dispatch status {_Tour.broadcast_id}")
    envelope = world.slack.slash_command("U0ALICE", "C0OPS", "/dispatch", f"status {_Tour.broadcast_id}")
    world.slack.wait_for_ack(envelope, timeout=WAIT)
    world.slack.wait_for(lambda: len(world.slack.responses) > before, timeout=WAIT, message="/dispatch status answer")


STEPS: list[Step] = [
    Step("A monitor hands Switchboard a self-service alarm with `python app.py dispatch -`: Bob is asked", cli_alarm),
    Step("Bob answers Yes: the audit issue is closed with a comment naming him", bob_says_yes),
    Step("Carol gets a similar alarm and answers No: the alarm's PagerDuty service is paged", carol_says_no),
    Step("Alice broadcasts to Carol and Dave; Carol acknowledges and it is noted on the issue", broadcast),
    Step("Alice asks who has acknowledged", status),
]
