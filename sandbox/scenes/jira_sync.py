"""The sandbox scene of the Jira sync: a PagerDuty service, and a short tour in which a P1 incident becomes a Jira
issue and closing that issue in Jira resolves the incident."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.steps import WAIT, Step

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

NAME = "jira_sync"
SERVICE = "PJIRAPY"  # PagerDuty service of the tour's incident
TITLE = "Payments: card authorisations failing"


def seed(world: World) -> None:
    world.pagerduty.add_service(SERVICE, "Payments")


def p1_incident(world: World, runtime: Runtime, transcript: Transcript) -> None:
    transcript.say(f"[pagerduty] a P1 incident opens: '{TITLE}'")
    world.pagerduty.trigger_incident(SERVICE, TITLE, priority="P1")
    runtime.scheduler.run_and_wait("incidents.poll", timeout=WAIT)
    issue = world.jira.wait_for(
        lambda: next((i for i in world.jira.issues() if TITLE in i["fields"]["summary"]), None),
        timeout=WAIT,
        message="the Jira issue",
    )
    fields = issue["fields"]
    transcript.say(
        f"      | Jira {issue['key']}: “{fields['summary']}”, priority {fields['priority']['name']}, "
        f"labels {', '.join(fields['labels'])}, status {fields['status']['name']}"
    )


def done_in_jira(world: World, runtime: Runtime, transcript: Transcript) -> None:
    issue = next(i for i in world.jira.issues() if TITLE in i["fields"]["summary"])
    transcript.say(f"[jira] carol moves {issue['key']} to Done")
    world.jira.transition_as_human(issue["key"], "Done", author="Carol Chen")
    runtime.scheduler.run_and_wait("jira_sync.poll", timeout=WAIT)
    incident_id = next(i["id"] for i in world.pagerduty.incidents_by_status("resolved") + _open(world) if _is_ours(i))
    world.pagerduty.wait_for(
        lambda: world.pagerduty.incident(incident_id)["status"] == "resolved", timeout=WAIT, message="PD resolved"
    )
    transcript.say(f"      | PagerDuty #{world.pagerduty.incident(incident_id)['incident_number']} is now resolved")


def _open(world: World) -> list[dict]:
    return world.pagerduty.incidents_by_status("triggered") + world.pagerduty.incidents_by_status("acknowledged")


def _is_ours(incident: dict) -> bool:
    return incident["title"] == TITLE


STEPS: list[Step] = [
    Step("A P1 PagerDuty incident opens: Switchboard files a Jira issue for it", p1_incident),
    Step("Carol closes the Jira issue: Switchboard resolves the PagerDuty incident", done_in_jira),
]
