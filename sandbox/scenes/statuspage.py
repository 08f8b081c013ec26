"""The sandbox scene of the status page: three Statuspage components, a PagerDuty service, and a short tour in
which a tagged PagerDuty incident opens a Statuspage incident and its resolution closes it again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.steps import WAIT, Step

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

NAME = "statuspage"
SERVICE = "PSPAPI1"  # PagerDuty service the monitors page
COMPONENTS = (("sp0web", "Website"), ("sp0api", "Public API"), ("sp0db", "Database"))
BOB = "PBOBXXX"  # Bob's PagerDuty id as World.seed makes it


def seed(world: World) -> None:
    for component_id, name in COMPONENTS:
        world.statuspage.add_component(component_id, name)
    world.pagerduty.add_service(SERVICE, "Public API monitors")


def _poll(runtime: Runtime) -> None:
    runtime.scheduler.run_and_wait("incidents.poll", timeout=WAIT)


def outage(world: World, runtime: Runtime, transcript: Transcript) -> None:
    transcript.say("[pagerduty] Datadog pages: 'Public API 5xx rate high' (tag component:sp0api, priority P2)")
    incident = world.pagerduty.trigger_incident(
        SERVICE, "Public API 5xx rate high", tags="env:prod,component:sp0api", priority="P2"
    )
    transcript.say("[pagerduty] bob acknowledges it")
    world.pagerduty.acknowledge(incident["id"], BOB)
    _poll(runtime)
    opened = world.statuspage.wait_for(
        lambda: world.statuspage.incidents(unresolved_only=True), timeout=WAIT, message="a Statuspage incident"
    )[0]
    status = world.statuspage.component("sp0api")["status"]
    transcript.say(f"      | Statuspage: “{opened['name']}” ({opened['status']}); Public API is now {status}")


def recovery(world: World, runtime: Runtime, transcript: Transcript) -> None:
    transcript.say("[pagerduty] bob resolves the incident")
    for incident in world.pagerduty.incidents_by_status("acknowledged"):
        if incident["service"]["id"] == SERVICE:
            world.pagerduty.resolve(incident["id"], BOB)
    _poll(runtime)
    world.statuspage.wait_for(
        lambda: not world.statuspage.incidents(unresolved_only=True), timeout=WAIT, message="the incident resolved"
    )
    status = world.statuspage.component("sp0api")["status"]
    transcript.say(f"      | Statuspage: the incident is resolved; Public API is {status} again")


STEPS: list[Step] = [
    Step("A tagged PagerDuty incident is acknowledged: the status page shows an incident for its component", outage),
    Step("The PagerDuty incident is resolved: the status page incident is resolved with it", recovery),
]
