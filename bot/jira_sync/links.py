"""The `jira_links` rows both directions of the sync read and update: one per PagerDuty incident with a Jira issue.

A decision of rules.py becomes, in the caller's transaction, new remembered values on the row and queued outbox
effects whose keys count the row's changes (so a replayed poll queues nothing twice).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.jira_sync import rules
from bot.jira_sync.effects import effect_kind
from bot.outbox import Outbox

# The columns a decision may update (the last value seen or written on each side).
LINK_COLUMNS = ("pd_status", "pd_priority", "jira_priority", "jira_status", "jira_category", "jira_updated")


def apply_decision(db: sqlite_utils.Database, outbox: Outbox, link: dict[str, Any], decision: rules.Decision) -> None:
    """Remember the new values and queue the effects, in the caller's transaction."""
    if not decision.updates and not decision.effects:
        return
    updates = {k: v for k, v in decision.updates.items() if k in LINK_COLUMNS}
    link.update(updates)
    link["changes"] = int(link.get("changes") or 0) + 1
    assignments = ", ".join(f"{column} = ?" for column in updates)
    db.conn.execute(
        f"UPDATE jira_links SET {assignments + ', ' if assignments else ''}changes = ? WHERE id = ?",
        [*updates.values(), link["changes"], link["id"]],
    )
    for name, extra in decision.effects:
        key = f"jira:{name}:{link['id']}:{link['changes']}"  # the key format predates kind names; kept for dedupe
        outbox.enqueue(key, effect_kind(name), {"link_id": link["id"], **extra}, db=db)


def links_by_key(db: sqlite_utils.Database, keys: list[str]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows += db.conn.execute(f"SELECT * FROM jira_links WHERE issue_key IN ({marks})", chunk).fetchall()
    return rows


def links_with_pending(db: sqlite_utils.Database, kinds: tuple[str, ...]) -> set[int]:
    """Links with an effect of these kinds still queued: that side's state is not final for them yet."""
    marks = ", ".join("?" for _ in kinds)
    rows = db.conn.execute(
        f"SELECT DISTINCT json_extract(payload, '$.link_id') FROM outbox WHERE state = 'pending' AND kind IN ({marks})",
        list(kinds),
    ).fetchall()
    return {int(r[0]) for r in rows if r[0] is not None}
