"""`python app.py dispatch FILE|-`: validate a Dispatch message and hand it to the running bot through SQLite.

The message is stored with its first step in the outbox, in one transaction; the running bot (which owns the
Slack connection and the buttons) picks the step up within a second. Exit 0 with the requestId on stdout, 2 with
every validation error on stderr, 1 when dispatch is not configured.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from bot.dispatch.alerts import accept, reject
from bot.dispatch.config import load
from bot.dispatch.message_spec import InvalidMessage, parse_message
from bot.outbox import Outbox
from bot.settings import Settings
from bot.store import Store


def run_cli(
    path: str,
    settings: Settings,
    open_store: Callable[[], Store],
    missing: tuple[str, ...],
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    stdin: BinaryIO | None = None,
) -> int:
    if missing:
        print(f"switchboard: dispatch is off; set {', '.join(missing)}", file=stderr)
        return 1
    config = load(settings)  # a malformed setting raises SettingsError: one line, exit 1
    source = "stdin" if path == "-" else path
    try:
        raw = (stdin or sys.stdin.buffer).read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        print(f"switchboard: cannot read {source}: {error.strerror or error}", file=stderr)
        return 2
    store = open_store()
    try:
        try:
            message = parse_message(raw, config.message_defaults)
        except InvalidMessage as invalid:
            reject(store, "cli", raw, invalid.errors)
            for error in invalid.errors:
                print(error, file=stderr)
            return 2
        accepted = accept(store, Outbox(store), message, "cli", config.default_channel)
    finally:
        store.close()
    for warning in message.warnings:
        print(f"warning: {warning}", file=stderr)
    if not accepted.new:
        print(f"note: requestId {accepted.request_id} was already received; it is not routed again", file=stderr)
    print(accepted.request_id, file=stdout)
    return 0
