"""Which capabilities this build contains, how each is started, and how its state is described."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot import dispatch, jira_sync, oncall, statuspage, support
from bot.settings import Capability

if TYPE_CHECKING:
    from bot.runtime import CapabilityService, Runtime

# name -> factory building the capability's service; a capability that is off is never built (no vendor calls).
FACTORIES: dict[str, Callable[[Runtime], CapabilityService]] = {
    name: package.create
    for name, package in (
        ("oncall", oncall),
        ("dispatch", dispatch),
        ("support", support),
        ("statuspage", statuspage),
        ("jira_sync", jira_sync),
    )
    if package.create is not None
}


def describe(capability: Capability) -> tuple[bool, str]:
    """(running, why) for logs, the Home tab and /switchboard status."""
    if capability.name not in FACTORIES:
        return False, "not part of this version yet"
    if not capability.on:
        return False, f"off, missing {', '.join(capability.missing)}"
    return True, "on"
