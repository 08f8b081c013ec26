"""Dispatch settings, parsed from the environment with a one-line error naming the setting when one is malformed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Settings, SettingsError

DEFAULT_CONFIRM_TIMEOUT_MINUTES = 30.0
DEFAULT_HTTP_HOST = "127.0.0.1"
# GitHub allows 80 content-creating requests a minute and 500 an hour; SEEDS R73 asks for at most 40 a minute.
DEFAULT_CREATES_PER_MINUTE = 40
DEFAULT_CREATES_PER_HOUR = 450

_CHANNEL = re.compile(r"#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,}")
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?")
_PD_ID = re.compile(r"[A-Z0-9]{2,20}")
_ALLOWED = re.compile(r"[UWS][A-Z0-9]{2,}")


@dataclass(frozen=True)
class DispatchConfig:
    default_repo: str  # owner/name: GITHUB_REPO
    github_default_user: str | None  # who is @-mentioned when a message names no GitHub login
    default_channel: str | None  # where alerts for users without a Slack ID, and delivery errors, go
    pagerduty_service: str | None  # used when the message names no PagerDuty service
    confirm_timeout_seconds: float
    allowed: tuple[str, ...]  # Slack user and usergroup IDs allowed to use /dispatch; empty = everybody
    http_port: int | None
    http_host: str
    http_token: str | None
    creates_per_minute: int
    creates_per_hour: int

    @property
    def owner(self) -> str:
        return self.default_repo.split("/", 1)[0]


def _positive_number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number != number or number == float("inf"):
        raise SettingsError(f"{name} must be a positive number of minutes (decimals allowed), got {value!r}")
    return number


def _positive_int(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()) or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _matching(name: str, value: str | None, pattern: re.Pattern[str], expected: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not pattern.fullmatch(value):
        raise SettingsError(f"{name} must be {expected}, got {value!r}")
    return value


def load_config(settings: Settings) -> DispatchConfig:
    """Everything dispatch reads from the environment, validated; raises SettingsError naming the bad setting."""
    timeout = settings.get("DISPATCH_CONFIRM_TIMEOUT_MINUTES")
    minutes = _positive_number("DISPATCH_CONFIRM_TIMEOUT_MINUTES", timeout) if timeout else None
    allowed = tuple(item.strip() for item in (settings.get("DISPATCH_ALLOWED_USERS") or "").split(",") if item.strip())
    for item in allowed:
        if not _ALLOWED.fullmatch(item):
            expected = "comma-separated Slack user IDs (U…) and usergroup IDs (S…)"
            raise SettingsError(f"DISPATCH_ALLOWED_USERS must be {expected}, got {item!r}")
    port_text = settings.get("DISPATCH_HTTP_PORT")
    port = None
    if port_text is not None:
        if not re.fullmatch(r"\d+", port_text.strip()) or not 0 < int(port_text) < 65536:
            raise SettingsError(f"DISPATCH_HTTP_PORT must be a TCP port between 1 and 65535, got {port_text!r}")
        port = int(port_text)
    token = settings.get("DISPATCH_TOKEN")
    if port is not None and not token:
        raise SettingsError("DISPATCH_TOKEN is required when DISPATCH_HTTP_PORT is set (the intake's bearer token)")
    github_user = settings.get("GITHUB_DEFAULT_USER")
    return DispatchConfig(
        default_repo=settings.github_repo,
        github_default_user=_matching(
            "GITHUB_DEFAULT_USER",
            github_user.strip().lstrip("@") if github_user else None,
            _GITHUB_LOGIN,
            "a GitHub login or org/team without @, such as octocat or acme/security",
        ),
        default_channel=_matching(
            "SLACK_DEFAULT_CHANNEL",
            settings.get("SLACK_DEFAULT_CHANNEL"),
            _CHANNEL,
            "a channel name starting with # (such as #alerts) or a channel ID (such as C012AB3CD)",
        ),
        pagerduty_service=_matching(
            "PAGERDUTY_SERVICE_ID",
            settings.get("PAGERDUTY_SERVICE_ID"),
            _PD_ID,
            "a PagerDuty service ID such as PABC123",
        ),
        confirm_timeout_seconds=(minutes or DEFAULT_CONFIRM_TIMEOUT_MINUTES) * 60.0,
        allowed=allowed,
        http_port=port,
        http_host=(settings.get("DISPATCH_HTTP_HOST") or DEFAULT_HTTP_HOST).strip(),
        http_token=token,
        creates_per_minute=_positive_int(
            "DISPATCH_GITHUB_CREATES_PER_MINUTE",
            settings.get("DISPATCH_GITHUB_CREATES_PER_MINUTE") or str(DEFAULT_CREATES_PER_MINUTE),
        ),
        creates_per_hour=_positive_int(
            "DISPATCH_GITHUB_CREATES_PER_HOUR",
            settings.get("DISPATCH_GITHUB_CREATES_PER_HOUR") or str(DEFAULT_CREATES_PER_HOUR),
        ),
    )
