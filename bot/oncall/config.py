"""The on-call capability's own settings, parsed and validated once at start."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Settings, SettingsError

DEFAULT_SYNC_MINUTES = 5.0
MAX_SYNC_MINUTES = 24 * 60.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class OncallConfig:
    sync_seconds: float  # the regular cycle; hand-offs also get a run of their own at the exact moment
    handoff_dm: bool  # DM the incoming person at each hand-off

    @property
    def sync_minutes(self) -> float:
        return self.sync_seconds / 60.0


def _minutes(value: str | None) -> float:
    if value is None:
        return DEFAULT_SYNC_MINUTES
    text = value.strip()
    if not re.fullmatch(r"\d+(\.\d+)?", text) or not 0 < float(text) <= MAX_SYNC_MINUTES:
        raise SettingsError(
            f"ONCALL_SYNC_MINUTES must be a number of minutes between 0 and {int(MAX_SYNC_MINUTES)}, such as 5, "
            f"got {value!r}"
        )
    return float(text)


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"ONCALL_HANDOFF_DM must be true or false, got {value!r}")


def load_config(settings: Settings) -> OncallConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return OncallConfig(
        sync_seconds=_minutes(settings.get("ONCALL_SYNC_MINUTES")) * 60.0,
        handoff_dm=_flag(settings.get("ONCALL_HANDOFF_DM")),
    )
