"""Log output: one record, one line, as text (the default) or JSON (`LOG_FORMAT=json`).

Text from users and vendors can hold newlines; a formatted message never does, so nobody can forge a log line by
putting one in a Slack message or a ticket. Each line carries, where known, the capability, the job and the
Slack envelope or request it belongs to: `bind()` sets them for the current context, and every thread pool of the
bot (`ContextPreservingExecutor`) hands the caller's context to the work it runs, so one event can be followed
from the Socket Mode envelope through the listener to the work done after the ack.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

_context: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "switchboard_log_context", default=()
)


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add fields (capability, job, envelope_id, request_id) to every log line written in this context."""
    merged = {**dict(_context.get()), **{k: v for k, v in fields.items() if v}}
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


def add(**fields: str | None) -> None:
    """Add fields for the rest of the enclosing `bind` (Bolt middleware cannot wrap the listener it precedes)."""
    _context.set(tuple({**dict(_context.get()), **{k: v for k, v in fields.items() if v}}.items()))


def bound() -> dict[str, str]:
    """The fields bound in this context (capability, job, envelope_id, request_id)."""
    return dict(_context.get())


class ContextPreservingExecutor(ThreadPoolExecutor):
    """A thread pool whose work runs in the submitter's context (log fields included)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("slack_bolt", "slack_sdk", "httpx", "httpx2", "urllib3")


class OneLineFormatter(logging.Formatter):
    """Escapes CR and LF in the message; a traceback (our own text) still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the bound fields, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **dict(_context.get()),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | int, fmt: str = PLAIN_FORMAT, *, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else OneLineFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
