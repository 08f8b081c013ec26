"""Work that must run after the fake's lock is released: socket sends and subscriber callbacks.

A slow WebSocket client or transcript printer must never stall request handling, so changes queue their
follow-ups here while holding the lock, and whoever finishes a request (or a simulated human action) drains
the queue. Jobs run one at a time, in the order they were queued.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class DeferredWork:
    def __init__(self) -> None:
        self._jobs: list[Callable[[], None]] = []
        self._queue_lock = threading.Lock()
        self._runner = threading.RLock()

    def add(self, job: Callable[[], None]) -> None:
        with self._queue_lock:
            self._jobs.append(job)

    def _next(self) -> Callable[[], None] | None:
        with self._queue_lock:
            return self._jobs.pop(0) if self._jobs else None

    def run(self) -> None:
        """Drain the queue, unless another thread is draining it (it re-checks the queue after it lets go)."""
        while True:
            if not self._runner.acquire(blocking=False):
                return
            try:
                while (job := self._next()) is not None:
                    job()
            finally:
                self._runner.release()
            with self._queue_lock:
                if not self._jobs:
                    return
