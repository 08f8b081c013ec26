"""The on-call capability's own settings, declared once and parsed and validated at start."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Setting, Settings, SettingsError, parse_bool

MAX_SYNC_MINUTES = 24 * 60.0


def parse_sync_minutes(name: str, value: str) -> float:
    """A positive number of minutes, decimals allowed, at most a day."""
    text = value.strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text) or not 0 < float(text) <= MAX_SYNC_MINUTES:
        raise SettingsError(
            f"{name} must be a number of minutes between 0 and {int(MAX_SYNC_MINUTES)}, such as 5, got {value!r}"
        )
    return float(text)


SYNC_MINUTES = Setting(
    "ONCALL_SYNC_MINUTES",
    "5",
    parse_sync_minutes,
    "Minutes between on-call sync cycles (decimals allowed); hand-offs get their own run regardless",
    capability="oncall",
)
HANDOFF_DM = Setting(
    "ONCALL_HANDOFF_DM",
    "false",
    parse_bool,
    "DM the incoming person at each hand-off: which schedules, until when, and what is still open (once per shift)",
    capability="oncall",
)
SETTINGS: tuple[Setting, ...] = (SYNC_MINUTES, HANDOFF_DM)


@dataclass(frozen=True)
class OncallConfig:
    sync_seconds: float  # the regular cycle; hand-offs also get a run of their own at the exact moment
    handoff_dm: bool  # DM the incoming person at each hand-off


def load(settings: Settings) -> OncallConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return OncallConfig(
        sync_seconds=settings.read(SYNC_MINUTES) * 60.0,
        handoff_dm=settings.read(HANDOFF_DM),
    )
