"""Status-page minutes per component for the daily digest: how long each managed Statuspage incident was open
(from when Statuspage had it until it was resolved, or until now), clipped to the digest's period."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.store import Store
from bot.text import escape


def minutes_per_component(rows: Iterable[dict[str, Any]], since: float, until: float) -> dict[str, float]:
    """Component name (else id) -> minutes its incidents were open within [since, until). Pure: a row is an
    incident with `opened_at`, `resolved_at` (None: still open, counted to `until`) and the component."""
    minutes: dict[str, float] = {}
    for row in rows:
        if row["opened_at"] is None:
            continue  # never made it onto the page
        start = max(float(row["opened_at"]), since)
        end = min(float(row["resolved_at"]) if row["resolved_at"] is not None else until, until)
        if end <= start:
            continue
        name = str(row["component_name"] or row["component_id"])
        minutes[name] = minutes.get(name, 0.0) + (end - start) / 60
    return minutes


def digest_lines(store: Store, since: float, until: float) -> list[str]:
    """One line with every component that was down in the period, longest first; none when none was."""
    rows = store.query(
        "SELECT component_id, component_name, opened_at, resolved_at FROM statuspage_incidents "
        "WHERE opened_at IS NOT NULL AND opened_at < ? AND (resolved_at IS NULL OR resolved_at > ?)",
        [until, since],
    )
    minutes = minutes_per_component(rows, since, until)
    if not minutes:
        return []
    parts = [
        f"{escape(name)} {round(value) if value >= 0.5 else '<1'} min"  # a blip is not "0 min"
        for name, value in sorted(minutes.items(), key=lambda item: (-item[1], item[0]))
    ]
    return [f"Status page minutes: {', '.join(parts)}"]
