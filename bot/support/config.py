"""The support desk's own settings, declared once and parsed and validated at startup (a bad value stops the bot,
naming it). The Zendesk account itself (ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN, ZENDESK_URL) is a
core setting in bot/settings.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Setting, Settings, SettingsError, parse_bool
from bot.support.hours import UTC, HoursError, OfficeHours, WeeklyTime, parse_office_hours, parse_weekly_time

DEFAULT_POLL_SECONDS = 30
# Zendesk allows 10 incremental-export requests a minute; one poll is one request.
MIN_POLL_SECONDS = 6
DEFAULT_REPORT_TIME = "Mon-Fri 09:00"
REPORT_OFF = ("off", "never", "none")
DEFAULT_OUT_OF_HOURS_MESSAGE = (
    "🌙 This came in outside our office hours ({hours}). We will pick it up when we are back; "
    "if it cannot wait, the people on call above can help."
)
RESOLVE_STATUSES = ("solved", "closed")


# --- parsers: (name, value) -> value, or a SettingsError naming the setting ----------------------------------
def parse_channels(name: str, value: str) -> tuple[str, ...]:
    channels = tuple(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))
    if not channels:
        raise SettingsError(f"{name} must list at least one channel ID, such as C012ABCDEF")
    for channel in channels:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel):
            raise SettingsError(f"{name} must be comma-separated channel IDs such as C012ABCDEF, got {channel!r}")
    return channels


def parse_zendesk_id(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()):
        raise SettingsError(f"{name} must be a numeric Zendesk ID such as 360001234567, got {value!r}")
    return int(value)


def parse_escalation_policy(name: str, value: str) -> str:
    if not re.fullmatch(r"P[A-Z0-9]{5,}", value.strip()):
        raise SettingsError(f"{name} must be a PagerDuty escalation policy ID such as PABC123, got {value!r}")
    return value.strip()


def parse_hours(name: str, value: str) -> OfficeHours:
    try:
        return parse_office_hours(value)
    except HoursError as error:
        raise SettingsError(f"{name}: {error}, got {value!r}") from error


def parse_report_time(name: str, value: str) -> str | None:
    """The report's days and time as written, or None for `off`. Validated here; its time zone, when it names
    none, is the office hours' (another setting), so `load` builds the `WeeklyTime`."""
    if value.strip().lower() in REPORT_OFF:
        return None
    try:
        parse_weekly_time(value, UTC)
    except HoursError as error:
        raise SettingsError(f"{name}: {error}, or off; got {value!r}") from error
    return value


def parse_poll_seconds(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()) or int(value) < MIN_POLL_SECONDS:
        raise SettingsError(
            f"{name} must be a whole number of seconds, at least {MIN_POLL_SECONDS} "
            f"(Zendesk allows 10 export requests a minute), got {value!r}"
        )
    return int(value)


def parse_bot_ids(name: str, value: str) -> frozenset[str]:
    bots = frozenset(item.strip() for item in value.split(",") if item.strip())
    for bot_id in bots:
        if not re.fullmatch(r"B[A-Z0-9]{2,}", bot_id):
            raise SettingsError(f"{name} must be comma-separated bot IDs such as B012ABCDEF, got {bot_id!r}")
    return bots


def parse_resolve_status(name: str, value: str) -> str:
    status = value.strip()
    if status not in RESOLVE_STATUSES:
        raise SettingsError(f"{name} must be solved or closed, got {status!r}")
    return status


def parse_message(name: str, value: str) -> str:
    return value.replace("\\n", "\n")  # `\n` in a .env line is a new line in Slack


SERVICE_ID = re.compile(r"P[A-Z0-9]{2,}")


def parse_service_map(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """`C123=PSVC1,C123=PSVC2,C456=PSVC1`: (channel, PagerDuty service) pairs; a channel may watch several."""
    pairs: dict[tuple[str, str], None] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        channel, equals, service = (piece.strip() for piece in item.partition("="))
        if not equals or not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel) or not SERVICE_ID.fullmatch(service):
            raise SettingsError(
                f"{name} must be comma-separated channel=service pairs such as C012ABCDEF=PABC123, got {item!r}"
            )
        pairs[(channel, service)] = None
    return tuple(pairs)


# --- declarations ----------------------------------------------------------------------------------------------
CHANNELS = Setting(
    "SUPPORT_CHANNELS",
    None,
    parse_channels,
    "Support channel IDs, comma-separated; tickets that arrive by email get their thread in the first",
    capability="support",
)
GROUP_ID = Setting(
    "ZENDESK_GROUP_ID",
    None,
    parse_zendesk_id,
    "Zendesk group of new tickets; emailed tickets are brought to Slack only from this group (unset: none are)",
    capability="support",
)
ASSIGNEE_ID = Setting(
    "ZENDESK_ASSIGNEE_ID",
    None,
    parse_zendesk_id,
    "Zendesk agent that new tickets (and emailed ones) are assigned to",
    capability="support",
)
ESCALATION_POLICY = Setting(
    "SUPPORT_ESCALATION_POLICY",
    None,
    parse_escalation_policy,
    "PagerDuty escalation policy ID for the on-call notice in a new ticket's thread (needs PAGERDUTY_API_TOKEN); "
    "unset: no notice",
    capability="support",
)
OFFICE_HOURS = Setting(
    "SUPPORT_OFFICE_HOURS",
    None,
    parse_hours,
    "Office hours, such as Mon-Fri 09:00-17:00 Europe/London (time zone optional, UTC by default; an end before "
    "the start runs overnight); unset: never out of hours",
    capability="support",
)
OUT_OF_HOURS_MESSAGE = Setting(
    "SUPPORT_OUT_OF_HOURS_MESSAGE",
    None,
    parse_message,
    "Posted in the thread of a request sent outside office hours (`\\n` for a new line); default: a message "
    "naming the hours",
    capability="support",
)
REPORT_TIME = Setting(
    "SUPPORT_REPORT_TIME",
    DEFAULT_REPORT_TIME,
    parse_report_time,
    "Days and time of the daily report, in the office hours' time zone (UTC when unset) unless one is given; "
    "off for none",
    capability="support",
)
POLL_SECONDS = Setting(
    "ZENDESK_POLL_SECONDS",
    str(DEFAULT_POLL_SECONDS),
    parse_poll_seconds,
    f"Seconds between Zendesk polls; at least {MIN_POLL_SECONDS} (Zendesk allows 10 export requests a minute)",
    capability="support",
)
ALLOWED_BOT_IDS = Setting(
    "SUPPORT_ALLOWED_BOT_IDS",
    "",
    parse_bot_ids,
    "Bot IDs (B…) whose messages in a support channel count as requests",
    capability="support",
)
RESOLVE_STATUS = Setting(
    "SUPPORT_RESOLVE_STATUS",
    "solved",
    parse_resolve_status,
    "What `resolve` in a support thread sets the ticket to: solved or closed",
    capability="support",
)
DISABLE_MESSAGE_PROCESSING = Setting(
    "SUPPORT_DISABLE_MESSAGE_PROCESSING",
    "false",
    parse_bool,
    "true ignores support-channel messages (install first, go live later); polling and reports go on",
    capability="support",
)
SERVICE_MAP = Setting(
    "SUPPORT_SERVICE_MAP",
    "",
    parse_service_map,
    "Support channels and the PagerDuty services they watch, such as C012ABCDEF=PABC123,C012ABCDEF=PDEF456 "
    "(needs PAGERDUTY_API_TOKEN); admins add more with `/support map`",
    capability="support",
)
SETTINGS: tuple[Setting, ...] = (
    CHANNELS,
    GROUP_ID,
    ASSIGNEE_ID,
    ESCALATION_POLICY,
    OFFICE_HOURS,
    OUT_OF_HOURS_MESSAGE,
    REPORT_TIME,
    POLL_SECONDS,
    ALLOWED_BOT_IDS,
    RESOLVE_STATUS,
    DISABLE_MESSAGE_PROCESSING,
    SERVICE_MAP,
)


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
    service_map: tuple[tuple[str, str], ...] = ()  # (channel, PagerDuty service) pairs from SUPPORT_SERVICE_MAP
    watches_incidents: bool = False  # PAGERDUTY_API_TOKEN is set: the shared incident poller feeds the desk

    @property
    def home_channel(self) -> str:
        """Where tickets that arrive by email get their thread."""
        return self.channels[0]


def load(settings: Settings) -> SupportConfig:
    """Every support setting, or a SettingsError naming the first bad one."""
    channels = settings.read(CHANNELS)
    if channels is None:  # the capability is off without it, but a direct caller gets the same one-line reason
        raise SettingsError(f"{CHANNELS.name} must list at least one channel ID, such as C012ABCDEF")
    office_hours: OfficeHours | None = settings.read(OFFICE_HOURS)
    report_text: str | None = settings.read(REPORT_TIME)
    report_time = parse_weekly_time(report_text, office_hours.zone if office_hours else UTC) if report_text else None
    poll_seconds = settings.read(POLL_SECONDS)
    policy = settings.read(ESCALATION_POLICY)
    if policy and not settings.has("PAGERDUTY_API_TOKEN"):
        raise SettingsError("SUPPORT_ESCALATION_POLICY needs PAGERDUTY_API_TOKEN to look up who is on call")
    bots = settings.read(ALLOWED_BOT_IDS)
    resolve_status = settings.read(RESOLVE_STATUS)
    service_map = settings.read(SERVICE_MAP)
    watches_incidents = settings.has("PAGERDUTY_API_TOKEN")
    if service_map and not watches_incidents:
        raise SettingsError("SUPPORT_SERVICE_MAP needs PAGERDUTY_API_TOKEN to see which incidents are open")
    strangers = sorted({channel for channel, _ in service_map if channel not in channels})
    if strangers:
        raise SettingsError(f"SUPPORT_SERVICE_MAP names {', '.join(strangers)}, which is not in SUPPORT_CHANNELS")
    message = settings.read(OUT_OF_HOURS_MESSAGE)
    if office_hours is not None and not message:
        message = DEFAULT_OUT_OF_HOURS_MESSAGE.format(hours=office_hours.describe())
    return SupportConfig(
        channels=channels,
        group_id=settings.read(GROUP_ID),
        assignee_id=settings.read(ASSIGNEE_ID),
        escalation_policy=policy,
        office_hours=office_hours,
        out_of_hours_message=message or "",
        report_time=report_time,
        poll_seconds=poll_seconds,
        allowed_bot_ids=bots,
        resolve_status=resolve_status,
        processing_disabled=settings.read(DISABLE_MESSAGE_PROCESSING),
        service_map=service_map,
        watches_incidents=watches_incidents,
    )
