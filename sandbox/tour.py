"""The scripted tour: a few steps per capability, acted out by workspace users against the emulated vendors.

Each capability adds its steps in its scene (sandbox/scenes/<capability>.py).
A step acts as a person (through the fakes' helpers) and waits for
the bot's visible answer, so the transcript reads as a conversation.
"""

from __future__ import annotations

from bot.check import format_table, run_checks
from bot.runtime import Runtime
from sandbox.scenes import SCENES
from sandbox.steps import WAIT, Step
from sandbox.transcript import Transcript
from sandbox.world import World


def home_tab(world: World, runtime: Runtime, transcript: Transcript) -> None:
    before = len(world.slack.calls("POST", r"/api/views\.publish$"))
    world.slack.open_home("U0ALICE")
    world.slack.wait_for_calls("POST", r"/api/views\.publish$", count=before + 1, timeout=WAIT)
    view = world.slack.home_view("U0ALICE") or {}
    for block in view.get("blocks", []):
        texts = [e.get("text", "") for e in block.get("elements", [])] or [block.get("text", {}).get("text", "")]
        for text in texts:
            if text:
                transcript.say(f"      | {text}")


def status_command(world: World, runtime: Runtime, transcript: Transcript) -> None:
    before = len(world.slack.responses)
    transcript.say("[#ops] bob: /switchboard status")
    envelope = world.slack.slash_command("U0BOB", "C0OPS", "/switchboard", "status")
    world.slack.wait_for_ack(envelope, timeout=WAIT)
    world.slack.wait_for(lambda: len(world.slack.responses) > before, timeout=WAIT, message="/switchboard answer")


def check_command(world: World, runtime: Runtime, transcript: Transcript) -> None:
    for line in format_table(run_checks(runtime.settings)).splitlines():
        transcript.say(f"      {line}")


FOUNDATION: list[Step] = [
    Step("Alice opens Switchboard's Home tab: capabilities, jobs and counts", home_tab),
    Step("Bob asks how Switchboard is doing", status_command),
    Step("`python app.py check` tries one authenticated call per integration", check_command),
]


def play(world: World, runtime: Runtime, transcript: Transcript) -> None:
    steps = FOUNDATION + [step for scene in SCENES for step in scene.STEPS if scene.NAME in runtime.services]
    for number, step in enumerate(steps, 1):
        transcript.narrate(f"{number}. {step.title}")
        try:
            step.run(world, runtime, transcript)
        except Exception as error:  # one step that goes wrong must not end the tour (or the sandbox)
            transcript.say(f"   (this step did not finish as scripted: {type(error).__name__}: {error})")
