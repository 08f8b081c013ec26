"""Which PagerDuty services each support channel watches: SUPPORT_SERVICE_MAP plus what admins added with
`/support map` (stored in SQLite). The two combine; `/support unmap` removes only stored pairs."""

from __future__ import annotations

import time

from bot.store import Store
from bot.support.config import SupportConfig
from bot.support.rules import watched_services


class ServiceMap:
    def __init__(self, store: Store, config: SupportConfig):
        self.store = store
        self.config = config

    def stored(self) -> list[tuple[str, str]]:
        rows = self.store.query("SELECT channel_id, service_id FROM support_service_map ORDER BY rowid")
        return [(row["channel_id"], row["service_id"]) for row in rows]

    def pairs(self) -> list[tuple[str, str]]:
        """Every (channel, service) pair, the setting's first; a pair in both is listed once."""
        return list(dict.fromkeys([*self.config.service_map, *self.stored()]))

    def services_of(self, channel: str) -> set[str]:
        return watched_services(self.pairs(), channel)

    def add(self, channel: str, service: str, by: str) -> bool:
        """True when the pair is new (stored or set)."""
        if (channel, service) in self.config.service_map:
            return False
        return self.store.insert_ignore(
            "support_service_map",
            {"channel_id": channel, "service_id": service, "added_by": by, "added_at": time.time()},
        )

    def remove(self, channel: str) -> int:
        """Forget the channel's stored pairs; the number removed."""
        return self.store.execute("DELETE FROM support_service_map WHERE channel_id = ?", [channel])
