"""Slack event dedupe: Slack redelivers an event (retry_attempt 1-3) when it thinks the ack was late."""

from __future__ import annotations

import time

from bot.store import Store

KEEP_SECONDS = 24 * 3600  # Slack's last retry comes ~5 minutes after the first delivery


def first_delivery(store: Store, event_id: str) -> bool:
    """True the first time an event_id is seen; False for every redelivery."""
    return store.insert_ignore("slack_events", {"event_id": event_id, "received_at": time.time()})


def prune_seen_events(store: Store, now: float | None = None) -> int:
    return store.execute("DELETE FROM slack_events WHERE received_at < ?", [(now or time.time()) - KEEP_SECONDS])
