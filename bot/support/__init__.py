"""Support desk: the support channels and Zendesk stay in step, both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.support.service import SupportService


def create(runtime: Any) -> SupportService:
    """Build the service (imported here, not at package import: bot.migrations imports this package early)."""
    from bot.support.service import create as build

    return build(runtime)
