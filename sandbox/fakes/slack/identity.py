"""Who the app is in the fake workspace, and the shape of the ids Slack hands out."""

from __future__ import annotations

import secrets
import string
import time

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "switchboard"
BOT_REAL_NAME = "Switchboard"
APP_ID = "A0SANDBOX"
VERIFICATION_TOKEN = "sandbox-verification-token"
_ALNUM = string.ascii_uppercase + string.digits


def random_id(prefix: str, length: int = 10) -> str:
    """A Slack-style id such as `D0ABC123XY` (DMs), `V...` (views) or `Ev...` (events)."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def trigger_id() -> str:
    """A fresh `trigger_id` as slash commands and interactions carry it."""
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
