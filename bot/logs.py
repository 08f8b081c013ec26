"""Log output: one record, one line. Text from users and vendors can hold newlines; a formatted message never
does, so nobody can forge a log line by putting one in a Slack message or a ticket."""

from __future__ import annotations

import logging
import sys

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("slack_bolt", "slack_sdk", "httpx", "httpx2", "urllib3")


class OneLineFormatter(logging.Formatter):
    """Escapes CR and LF in the message; a traceback (our own text) still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(level: str | int, fmt: str = PLAIN_FORMAT) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
