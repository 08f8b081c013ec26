"""Housekeeping: every table that grows with use is pruned, so a bot that runs for months keeps a small database.

The foundation prunes its own tables here; each capability prunes its own in `CapabilityService.prune(before)`.
Rows older than SWITCHBOARD_RETENTION_DAYS go, except what is still needed: pending or failed outbox effects are
kept whatever their age (they are work not done yet, or awaiting a human).
"""

from __future__ import annotations

import time

from bot.events import prune_seen_events
from bot.store import Store


def prune_core(store: Store, before: float, now: float | None = None) -> dict[str, int]:
    now = time.time() if now is None else now
    return {
        "slack_events": prune_seen_events(store, now),
        "outbox": store.execute("DELETE FROM outbox WHERE state = 'done' AND done_at < ?", [before]),
        "slack_user_cache": store.execute("DELETE FROM slack_user_cache WHERE expires_at < ?", [now]),
        "shadow_effects": store.execute("DELETE FROM shadow_effects WHERE at < ?", [before]),
    }
