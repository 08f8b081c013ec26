"""Global middleware: hand every listener the runtime, and drop redelivered events before any listener runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.events import first_delivery
from bot.logs import add as add_log_fields
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def register(app: App, runtime: Runtime) -> None:
    def provide_runtime(context: BoltContext, next: Callable[[], None]) -> None:
        context["runtime"] = runtime
        next()

    def name_request(body: dict[str, Any], next: Callable[[], None]) -> None:
        """Log lines of this request name it: the event's ID, or the command's or click's trigger ID (for the rest
        of the envelope's handling, listeners included)."""
        add_log_fields(request_id=body.get("event_id") or body.get("trigger_id"))
        next()

    def drop_redelivered_events(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not first_delivery(runtime.store, event_id):
            log.info("event %s was delivered again; already handled", event_id)
            return BoltResponse(status=200, body="")  # acked, no listener runs
        next()
        return None

    app.middleware(provide_runtime)
    app.middleware(name_request)
    app.middleware(drop_redelivered_events)
