"""Per-user pacing of slash commands: one person cannot spend the vendors' shared rate limits alone.

A sliding window in memory (a restart forgets it, which is harmless: the window is a minute).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class UserPacer:
    """At most `limit` commands per user in any `window` seconds; `limit` 0 means no limit."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def admit(self, user_id: str) -> float:
        """0 when the command may run now (and it is counted); else the seconds until it may."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            recent = self._recent[user_id]
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            if len(recent) >= self.limit:
                return recent[0] + self.window - now
            recent.append(now)
            return 0.0
