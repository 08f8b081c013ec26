"""The support desk's settings, parsed and validated once at startup (a bad value stops the bot, naming it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Settings, SettingsError
from bot.support.hours import UTC, HoursError, OfficeHours, WeeklyTime, parse_office_hours, parse_weekly_time

DEFAULT_POLL_SECONDS = 30
# Zendesk allows 10 incremental-export requests a minute; one poll is one request.
MIN_POLL_SECONDS = 6
DEFAULT_REPORT_TIME = "Mon-Fri 09:00"
DEFAULT_OUT_OF_HOURS_MESSAGE = (
    "🌙 This came in outside our office hours ({hours}). We will pick it up when we are back; "
    "if it cannot wait, the people on call above can help."
)
RESOLVE_STATUSES = ("solved", "closed")


@dataclass(frozen=True)
class SupportConfig:
    channels: tuple[str, ...]
    group_id: int | None = None
    assignee_id: int | None = None
    escalation_policy: str | None = None
    office_hours: OfficeHours | None = None
    out_of_hours_message: str = ""
    report_time: WeeklyTime | None = None  # None: no scheduled report
    poll_seconds: int = DEFAULT_POLL_SECONDS
    allowed_bot_ids: frozenset[str] = frozenset()
    resolve_status: str = "solved"
    processing_disabled: bool = False

    @property
    def home_channel(self) -> str:
        """Where tickets that arrive by email get their thread."""
        return self.channels[0]


def _channels(value: str) -> tuple[str, ...]:
    channels = tuple(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
    if not channels:
        raise SettingsError("SUPPORT_CHANNELS must list at least one channel ID, such as C012ABCDEF")
    for channel in channels:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel):
            raise SettingsError(
                f"SUPPORT_CHANNELS must be comma-separated channel IDs such as C012ABCDEF, got {channel!r}"
            )
    return channels


def _zendesk_id(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d+", value.strip()):
        raise SettingsError(f"{name} must be a numeric Zendesk ID such as 360001234567, got {value!r}")
    return int(value)


def _flag(name: str, value: str | None) -> bool:
    lowered = (value or "").strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def parse_config(settings: Settings) -> SupportConfig:
    """Every support setting, or a SettingsError naming the first bad one."""
    channels = _channels(settings.get("SUPPORT_CHANNELS") or "")
    try:
        hours_text = settings.get("SUPPORT_OFFICE_HOURS")
        office_hours = parse_office_hours(hours_text) if hours_text else None
    except HoursError as error:
        raise SettingsError(f"SUPPORT_OFFICE_HOURS: {error}, got {hours_text!r}") from error
    report_text = settings.get("SUPPORT_REPORT_TIME", DEFAULT_REPORT_TIME) or DEFAULT_REPORT_TIME
    report_time = None
    if report_text.strip().lower() not in ("off", "never", "none"):
        try:
            report_time = parse_weekly_time(report_text, office_hours.zone if office_hours else UTC)
        except HoursError as error:
            raise SettingsError(f"SUPPORT_REPORT_TIME: {error}, or off; got {report_text!r}") from error
    poll_text = settings.get("ZENDESK_POLL_SECONDS", str(DEFAULT_POLL_SECONDS)) or ""
    if not re.fullmatch(r"\d+", poll_text.strip()) or int(poll_text) < MIN_POLL_SECONDS:
        raise SettingsError(
            f"ZENDESK_POLL_SECONDS must be a whole number of seconds, at least {MIN_POLL_SECONDS} "
            f"(Zendesk allows 10 export requests a minute), got {poll_text!r}"
        )
    policy = settings.get("SUPPORT_ESCALATION_POLICY")
    if policy is not None and not re.fullmatch(r"P[A-Z0-9]{5,}", policy.strip()):
        raise SettingsError(
            f"SUPPORT_ESCALATION_POLICY must be a PagerDuty escalation policy ID such as PABC123, got {policy!r}"
        )
    if policy and not settings.has("PAGERDUTY_API_TOKEN"):
        raise SettingsError("SUPPORT_ESCALATION_POLICY needs PAGERDUTY_API_TOKEN to look up who is on call")
    bots = frozenset(b.strip() for b in (settings.get("SUPPORT_ALLOWED_BOT_IDS") or "").split(",") if b.strip())
    for bot_id in bots:
        if not re.fullmatch(r"B[A-Z0-9]{2,}", bot_id):
            raise SettingsError(
                f"SUPPORT_ALLOWED_BOT_IDS must be comma-separated bot IDs such as B012ABCDEF, got {bot_id!r}"
            )
    resolve_status = (settings.get("SUPPORT_RESOLVE_STATUS") or "solved").strip()
    if resolve_status not in RESOLVE_STATUSES:
        raise SettingsError(f"SUPPORT_RESOLVE_STATUS must be solved or closed, got {resolve_status!r}")
    message = settings.get("SUPPORT_OUT_OF_HOURS_MESSAGE")
    if office_hours is not None and not message:
        message = DEFAULT_OUT_OF_HOURS_MESSAGE.format(hours=office_hours.describe())
    return SupportConfig(
        channels=channels,
        group_id=_zendesk_id("ZENDESK_GROUP_ID", settings.get("ZENDESK_GROUP_ID")),
        assignee_id=_zendesk_id("ZENDESK_ASSIGNEE_ID", settings.get("ZENDESK_ASSIGNEE_ID")),
        escalation_policy=policy.strip() if policy else None,
        office_hours=office_hours,
        out_of_hours_message=(message or "").replace("\\n", "\n"),
        report_time=report_time,
        poll_seconds=int(poll_text),
        allowed_bot_ids=bots,
        resolve_status=resolve_status,
        processing_disabled=_flag(
            "SUPPORT_DISABLE_MESSAGE_PROCESSING", settings.get("SUPPORT_DISABLE_MESSAGE_PROCESSING")
        ),
    )
