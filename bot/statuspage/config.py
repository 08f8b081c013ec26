"""Status page settings, validated at startup (a bad value stops the bot with a one-line reason)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.config import positive_int, positive_number, slack_channel
from bot.settings import Settings, SettingsError
from bot.statuspage import rules

OPEN_ON = {"acknowledged": ("acknowledged",), "triggered": ("triggered", "acknowledged")}


@dataclass(frozen=True)
class StatuspageConfig:
    open_on: tuple[str, ...]  # PagerDuty statuses that keep a component down
    notify_channel: str | None
    marker: str
    name_template: str
    body_template: str
    resolved_body: str
    impact: rules.ImpactTable
    request_interval: float | None  # None: the client's default (1.2 s in production, none in the test profile)
    audit_seconds: int


def _text(settings: Settings, name: str, default: str, limit: int) -> str:
    value = settings.get(name, default) or default
    value = value.replace("\\n", "\n")
    if len(value) > limit:
        raise SettingsError(f"{name} must be at most {limit} characters, got {len(value)}")
    return value


def load_statuspage_config(settings: Settings) -> StatuspageConfig:
    open_on = (settings.get("STATUSPAGE_OPEN_ON", "acknowledged") or "").strip().lower()
    if open_on not in OPEN_ON:
        raise SettingsError(f"STATUSPAGE_OPEN_ON must be acknowledged or triggered, got {open_on!r}")
    marker = (settings.get("STATUSPAGE_MARKER", "⛈") or "⛈").strip()
    try:
        impact = rules.parse_impact(settings.get("STATUSPAGE_IMPACT", rules.DEFAULT_IMPACT) or rules.DEFAULT_IMPACT)
    except ValueError as error:
        raise SettingsError(f"STATUSPAGE_IMPACT: {error}") from error
    interval = settings.get("STATUSPAGE_REQUEST_INTERVAL")
    return StatuspageConfig(
        open_on=OPEN_ON[open_on],
        notify_channel=slack_channel(settings, "STATUSPAGE_NOTIFY_CHANNEL"),
        marker=marker,
        name_template=_text(settings, "STATUSPAGE_INCIDENT_NAME", rules.DEFAULT_NAME, 200),
        body_template=_text(settings, "STATUSPAGE_INCIDENT_BODY", rules.DEFAULT_BODY, 20000),
        resolved_body=_text(settings, "STATUSPAGE_RESOLVED_BODY", rules.DEFAULT_RESOLVED_BODY, 20000),
        impact=impact,
        request_interval=None if interval is None else positive_number(settings, "STATUSPAGE_REQUEST_INTERVAL", 1.2),
        audit_seconds=positive_int(settings, "STATUSPAGE_AUDIT_SECONDS", 600),
    )
