"""A tour step: a title and a function that acts as people in the emulated world and waits for the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from sandbox.transcript import Transcript
    from sandbox.world import World

WAIT = 15.0  # seconds a step waits for the bot's visible answer


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[World, Runtime, Transcript], None]
