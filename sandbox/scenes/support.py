"""The sandbox scene of the support capability: its seed data in the emulated world and its tour steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.steps import Step

if TYPE_CHECKING:
    from sandbox.world import World

NAME = "support"


def seed(world: World) -> None:
    """Data this capability needs in the fakes (schedules, tickets, …)."""


STEPS: list[Step] = []
