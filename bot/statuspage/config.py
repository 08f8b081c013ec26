"""Status page settings, validated at startup (a bad value stops the bot with a one-line reason).

The poller's settings (INCIDENT_*, PAGERDUTY_ACCOUNT_<NAME>) are declared in `bot/incidents/config.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.incidents.config import parse_channel, parse_non_negative_number, parse_positive_int
from bot.settings import Setting, Settings, SettingsError, parse_text
from bot.statuspage import rules

# STATUSPAGE_OPEN_ON -> the PagerDuty statuses that keep a component down
OPEN_ON = {"acknowledged": ("acknowledged",), "triggered": ("triggered", "acknowledged")}


def parse_open_on(name: str, value: str) -> tuple[str, ...]:
    chosen = value.strip().lower()
    if chosen not in OPEN_ON:
        raise SettingsError(f"{name} must be acknowledged or triggered, got {chosen!r}")
    return OPEN_ON[chosen]


def parse_impact(name: str, value: str) -> rules.ImpactTable:
    try:
        return rules.parse_impact(value)
    except ValueError as error:
        raise SettingsError(f"{name}: {error}") from error


def template(limit: int) -> Callable[[str, str], str]:
    """A text of at most `limit` characters, where `\\n` written in the setting is a new line."""

    def parse(name: str, value: str) -> str:
        text = value.replace("\\n", "\n")
        if len(text) > limit:
            raise SettingsError(f"{name} must be at most {limit} characters, got {len(text)}")
        return text

    return parse


OPEN_ON_SETTING = Setting(
    "STATUSPAGE_OPEN_ON",
    "acknowledged",
    parse_open_on,
    "acknowledged: a component is down while a PagerDuty incident on it is acknowledged; triggered: also triggered",
    capability="statuspage",
)
NOTIFY_CHANNEL = Setting(
    "STATUSPAGE_NOTIFY_CHANNEL",
    None,
    parse_channel,
    "Channel ID where opens, resolves and impact changes are announced (invite the bot)",
    capability="statuspage",
)
IMPACT = Setting(
    "STATUSPAGE_IMPACT",
    rules.DEFAULT_IMPACT,
    parse_impact,
    "PagerDuty priority → component status (degraded_performance, partial_outage, major_outage); * for the rest",
    capability="statuspage",
)
INCIDENT_NAME = Setting(
    "STATUSPAGE_INCIDENT_NAME", rules.DEFAULT_NAME, template(200), "Incident name template", capability="statuspage"
)
INCIDENT_BODY = Setting(
    "STATUSPAGE_INCIDENT_BODY",
    rules.DEFAULT_BODY,
    template(20000),
    "First update template (\\n for a new line); the marker is added on its own line",
    capability="statuspage",
)
RESOLVED_BODY = Setting(
    "STATUSPAGE_RESOLVED_BODY",
    rules.DEFAULT_RESOLVED_BODY,
    template(20000),
    "Text of the resolving update",
    capability="statuspage",
)
MARKER = Setting(
    "STATUSPAGE_MARKER", "⛈", parse_text, "What marks a Statuspage incident as Switchboard's", capability="statuspage"
)
REQUEST_INTERVAL = Setting(
    "STATUSPAGE_REQUEST_INTERVAL",
    None,
    parse_non_negative_number,
    "Seconds between Statuspage calls; default 1.2 (none in the test retry profile)",
    capability="statuspage",
)
AUDIT_SECONDS = Setting(
    "STATUSPAGE_AUDIT_SECONDS",
    "600",
    parse_positive_int,
    "How often the page is read when nothing changed, to notice what people did",
    capability="statuspage",
)
SETTINGS: tuple[Setting, ...] = (
    OPEN_ON_SETTING,
    NOTIFY_CHANNEL,
    IMPACT,
    INCIDENT_NAME,
    INCIDENT_BODY,
    RESOLVED_BODY,
    MARKER,
    REQUEST_INTERVAL,
    AUDIT_SECONDS,
)


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


def load(settings: Settings) -> StatuspageConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return StatuspageConfig(
        open_on=settings.read(OPEN_ON_SETTING),
        notify_channel=settings.read(NOTIFY_CHANNEL),
        marker=settings.read(MARKER),
        name_template=settings.read(INCIDENT_NAME),
        body_template=settings.read(INCIDENT_BODY),
        resolved_body=settings.read(RESOLVED_BODY),
        impact=settings.read(IMPACT),
        request_interval=settings.read(REQUEST_INTERVAL),
        audit_seconds=settings.read(AUDIT_SECONDS),
    )
