"""The sandbox scene of the Jira sync: a PagerDuty service, and a short tour in which a P1 incident becomes a Jira
issue and closing that issue in Jira resolves the incident. With the incident process configured (JIRA_QUESTIONS_FILE,
JIRA_LINK_TYPE, JIRA_TIMELINE, …) the tour also shows the issue's question sub-tasks, links and timeline."""

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
    _show_process(world, runtime, transcript, issue["key"])


def _show_process(world: World, runtime: Runtime, transcript: Transcript, key: str) -> None:
    """What the incident process added to the issue, once its effects are done (nothing when it is off)."""
    process = runtime.services["jira_sync"].config.process  # type: ignore[attr-defined]
    if not (process.questions or process.link_type or process.timeline or process.severity_field):
        return
    pending = "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND kind LIKE 'jira_sync.%'"
    world.jira.wait_for(lambda: not runtime.store.scalar(pending), timeout=WAIT, message="the incident process")
    subtasks = [s["fields"]["summary"] for s in world.jira.subtasks(key)]
    if subtasks:
        transcript.say(f"      | question sub-tasks: {'; '.join(subtasks)}")
    links = [f"{link['type']} {link['outward']}" for link in world.jira.links() if link["inward"] == key]
    if links:
        transcript.say(f"      | linked: {', '.join(links)}")
    if process.timeline:
        timeline = runtime.store.scalar("SELECT timeline_key FROM jira_links WHERE issue_key = ?", [key]) or key
        posted = len(world.jira.comments(timeline))
        transcript.say(f"      | PagerDuty's log goes to {timeline} as comments ({posted} so far)")


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
