"""`python app.py sandbox`: the real bot, unchanged, against the emulated workspace and vendors on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
from pathlib import Path

from bot.logs import configure_logging
from bot.runner import Bot, stop_on_signals, wait_until_stopped
from bot.settings import ROOT
from bot.wiring import build
from sandbox import tour
from sandbox.interactive import interactive_loop
from sandbox.transcript import Transcript
from sandbox.world import World


def sandbox_dir() -> Path:
    """Where the sandbox keeps its database and CA file (SWITCHBOARD_SANDBOX_DIR lets tests move it)."""
    return Path(os.environ.get("SWITCHBOARD_SANDBOX_DIR") or ROOT / "data" / "sandbox")


def run_sandbox(interactive: bool = False, tour_enabled: bool = True) -> int:
    configure_logging(logging.WARNING, "%(levelname)s %(name)s: %(message)s")
    directory = sandbox_dir()
    shutil.rmtree(directory, ignore_errors=True)  # a fresh world every time: the fakes start empty too
    world = World(directory, vendor_limits=True).start()  # the vendors as they are, limits included
    transcript = Transcript(world)
    transcript.attach()
    stop = threading.Event()
    stop_on_signals(stop)
    bot = Bot(build(world.settings()))
    try:
        bot.start()
        world.slack.wait_connected()
        transcript.narrate(
            "Switchboard is connected to the sandbox workspace over Socket Mode "
            f"(Slack {world.slack.base_url}, PagerDuty {world.pagerduty.base_url}, and the rest on 127.0.0.1)"
        )
        if tour_enabled:
            tour.play(world, bot.runtime, transcript)
        if interactive:
            signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C must interrupt input() at once
            interactive_loop(world, transcript, stop)
        else:
            transcript.narrate("The tour is over; Switchboard keeps running. Press Ctrl-C to stop.")
            wait_until_stopped(stop)
    finally:
        bot.stop()
        world.stop()
    return 0
