"""The live feed of visible changes (`SlackFake.subscribe`), delivered after the fake's lock is released."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.deferred import DeferredWork


class Transcript:
    def __init__(self, deferred: DeferredWork) -> None:
        self._deferred = deferred
        self._subscribers: list[Callable[[Json], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Json], None]) -> Callable[[], None]:
        """Call `callback(change)` for every visible change; returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def emit(self, kind: str, **fields: Any) -> None:
        """Queue one change: `kind` plus channel, user, bot, text, thread_ts, ts and any extra fields."""
        change = {
            "kind": kind,
            "channel": None,
            "user": None,
            "bot": False,
            "text": None,
            "thread_ts": None,
            "ts": None,
        }
        change.update(fields)

        def deliver() -> None:
            for callback in list(self._subscribers):
                with contextlib.suppress(Exception):  # a broken transcript printer must not break the fake
                    callback(dict(change))

        self._deferred.add(deliver)
