"""The page's components (id -> name), read page by page and cached: the unpaginated list is limited to one call a
minute, and reconcile, the open effect and `/statuspage map` all need the names."""

from __future__ import annotations

import threading
import time

from bot.clients.statuspage import StatuspageClient

COMPONENTS_TTL = 600.0


class ComponentNames:
    def __init__(self, client: StatuspageClient):
        self.client = client
        self._cached: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()

    def get(self, refresh: bool = False) -> dict[str, str]:
        """Component id -> name; read again when older than COMPONENTS_TTL or when `refresh` (a name not found)."""
        with self._lock:
            cached = self._cached
            if cached is None or refresh or time.time() - cached[0] > COMPONENTS_TTL:
                cached = (time.time(), {str(c["id"]): str(c.get("name") or c["id"]) for c in self.client.components()})
                self._cached = cached
            return dict(cached[1])
