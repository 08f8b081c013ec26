"""On-call topics and usergroups follow PagerDuty; `/oncall` answers who is on call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.oncall.service import OncallService
    from bot.runtime import Runtime


def create(runtime: Runtime) -> OncallService:
    """Imported lazily: the service pulls in the Home tab helpers, which import bot.capabilities (and so this)."""
    from bot.oncall.service import create as build

    return build(runtime)
