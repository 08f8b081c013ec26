"""Dispatch's own settings, declared once, and `load()`: validated at start, each error naming the setting."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.dispatch.message_spec import Defaults
from bot.dispatch.rules import EVERYONE
from bot.settings import Setting, Settings, SettingsError, parse_bool, parse_text, parse_url

# GitHub allows 80 content-creating requests a minute and 500 an hour: stay well below both by default.
DEFAULT_CREATES_PER_MINUTE = 40
DEFAULT_CREATES_PER_HOUR = 450

_CHANNEL = re.compile(r"#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,}")
_GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]+)?")
_PD_ID = re.compile(r"[A-Z0-9]{2,20}")
_ALLOWED = re.compile(r"[UWS][A-Z0-9]{2,}")
_PORT = re.compile(r"\d+")
# https://sqs.<region>.amazonaws.com/<account ID>/<queue name> (or an emulator's URL with the same path)
_QUEUE_PATH = re.compile(r"/[0-9]{12}/[A-Za-z0-9_-]{1,80}(?:\.fifo)?")
_SECONDS = re.compile(r"[0-9]+")
CAPABILITY = "dispatch"
MIN_TOKEN_LENGTH = 32  # a bearer token that short can be guessed or brute-forced over a network
DEFAULT_BROADCAST_MAX = 200
MAX_SQS_WAIT_SECONDS = 20  # SQS's longest long poll
MAX_SQS_VISIBILITY_SECONDS = 12 * 60 * 60  # SQS's longest visibility timeout


def parse_minutes(name: str, value: str) -> float:
    """A positive number of minutes, decimals allowed."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number != number or number == float("inf"):
        raise SettingsError(f"{name} must be a positive number of minutes (decimals allowed), got {value!r}")
    return number


def parse_count(name: str, value: str) -> int:
    """A whole number of at least 1."""
    if not re.fullmatch(r"\d+", value.strip()) or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def parse_allowed(name: str, value: str) -> tuple[str, ...]:
    """Comma-separated Slack user (U…, W…) and usergroup (S…) IDs, or `*` for everyone."""
    allowed = tuple(item.strip() for item in value.split(",") if item.strip())
    for item in allowed:
        if item != EVERYONE and not _ALLOWED.fullmatch(item):
            expected = "comma-separated Slack user IDs (U…) and usergroup IDs (S…), or * for everyone"
            raise SettingsError(f"{name} must be {expected}, got {item!r}")
    return allowed


def parse_token(name: str, value: str) -> str:
    """A bearer token long enough not to be guessed; the error never shows the value (it is a secret)."""
    token = value.strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(
            f"{name} must be at least {MIN_TOKEN_LENGTH} characters long (it has {len(token)}); generate one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return token


def parse_pem_file(name: str, value: str) -> str:
    """The path of a PEM file this process can read."""
    path = Path(value.strip()).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise SettingsError(f"{name} must be the path of a readable PEM file, got {value.strip()!r}")
    return str(path)


def parse_intake_port(name: str, value: str) -> int:
    if not _PORT.fullmatch(value.strip()) or not 0 < int(value) < 65536:
        raise SettingsError(f"{name} must be a TCP port between 1 and 65535, got {value!r}")
    return int(value)


def parse_queue_url(name: str, value: str) -> str:
    """An SQS queue URL: https (plain http only for a loopback emulator), path /<account ID>/<queue name>."""
    url = parse_url(name, value.strip())
    if not _QUEUE_PATH.fullmatch(urlsplit(url).path):
        raise SettingsError(
            f"{name} must be an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/alarms, "
            f"got {value!r}"
        )
    return url


def parse_sqs_wait(name: str, value: str) -> int:
    """A long poll's wait: SQS allows 1 to 20 seconds (0 would be a short poll, a busy loop on an empty queue)."""
    return _seconds_between(name, value, 1, MAX_SQS_WAIT_SECONDS)


def parse_sqs_visibility(name: str, value: str) -> int:
    """A visibility timeout: at least 1 second (0 would hand a bad message straight back), at most SQS's 12 hours."""
    return _seconds_between(name, value, 1, MAX_SQS_VISIBILITY_SECONDS)


def _seconds_between(name: str, value: str, low: int, high: int) -> int:
    if not _SECONDS.fullmatch(value.strip()) or not low <= int(value) <= high:
        raise SettingsError(f"{name} must be a whole number of seconds from {low} to {high}, got {value!r}")
    return int(value)


def _matching(name: str, value: str, pattern: re.Pattern[str], expected: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value):
        raise SettingsError(f"{name} must be {expected}, got {value!r}")
    return value


def parse_github_user(name: str, value: str) -> str:
    """A GitHub login or org/team; a leading @ is dropped."""
    expected = "a GitHub login or org/team without @, such as octocat or acme/security"
    return _matching(name, value.strip().lstrip("@"), _GITHUB_LOGIN, expected)


def parse_channel(name: str, value: str) -> str:
    expected = "a channel name starting with # (such as #alerts) or a channel ID (such as C012AB3CD)"
    return _matching(name, value, _CHANNEL, expected)


def parse_pagerduty_service(name: str, value: str) -> str:
    return _matching(name, value, _PD_ID, "a PagerDuty service ID such as PABC123")


PAGERDUTY_SERVICE = Setting(
    "PAGERDUTY_SERVICE_ID",
    None,
    parse_pagerduty_service,
    "PagerDuty service for messages that name none; without it such high-priority and self-service messages are "
    "rejected",
    capability=CAPABILITY,
)
DEFAULT_CHANNEL = Setting(
    "SLACK_DEFAULT_CHANNEL",
    None,
    parse_channel,
    "`#name` or channel ID for users without `slackId` and for delivery errors (invite the bot); without it such "
    "messages are rejected",
    capability=CAPABILITY,
)
GITHUB_DEFAULT_USER = Setting(
    "GITHUB_DEFAULT_USER",
    None,
    parse_github_user,
    "Login or `org/team` mentioned when a message names no GitHub user",
    capability=CAPABILITY,
)
CONFIRM_TIMEOUT_MINUTES = Setting(
    "DISPATCH_CONFIRM_TIMEOUT_MINUTES",
    "30",
    parse_minutes,
    "How long a Yes/No prompt waits before escalating (decimals allowed); the reminder goes out halfway",
    capability=CAPABILITY,
)
ALLOWED_USERS = Setting(
    "DISPATCH_ALLOWED_USERS",
    "",
    parse_allowed,
    "Slack user IDs and usergroup IDs (`S…`) who may `/dispatch page`, `broadcast` and `json` besides the admins "
    "(`*`: everyone); when set, also the only ones who may use the rest of `/dispatch`",
    capability=CAPABILITY,
)
BROADCAST_MAX = Setting(
    "DISPATCH_BROADCAST_MAX",
    str(DEFAULT_BROADCAST_MAX),
    parse_count,
    "Most people one `/dispatch` broadcast (or `json` message) may reach, usergroups expanded, unless an admin "
    "sends it",
    capability=CAPABILITY,
)
ALLOW_MENTIONS = Setting(
    "DISPATCH_ALLOW_MENTIONS",
    "false",
    parse_bool,
    "Let producer text mention users and usergroups (`<@U…>`, `<!subteam^…>`); `<!channel>`, `<!here>` and "
    "`<!everyone>` never work",
    capability=CAPABILITY,
)
HTTP_PORT = Setting(
    "DISPATCH_HTTP_PORT", None, parse_intake_port, "Turns on the HTTP intake on this port", capability=CAPABILITY
)
HTTP_HOST = Setting(
    "DISPATCH_HTTP_HOST", "127.0.0.1", parse_text, "Address the HTTP intake binds to", capability=CAPABILITY
)
TOKEN = Setting(
    "DISPATCH_TOKEN",
    None,
    parse_token,
    "Bearer token the HTTP intake requires (required when DISPATCH_HTTP_PORT is set; at least 32 characters)",
    secret=True,
    capability=CAPABILITY,
)
TLS_CERT = Setting(
    "DISPATCH_HTTP_TLS_CERT",
    None,
    parse_pem_file,
    "PEM certificate chain: the HTTP intake speaks HTTPS (set with DISPATCH_HTTP_TLS_KEY)",
    capability=CAPABILITY,
)
TLS_KEY = Setting(
    "DISPATCH_HTTP_TLS_KEY",
    None,
    parse_pem_file,
    "PEM private key of DISPATCH_HTTP_TLS_CERT",
    capability=CAPABILITY,
)
CREATES_PER_MINUTE = Setting(
    "DISPATCH_GITHUB_CREATES_PER_MINUTE",
    str(DEFAULT_CREATES_PER_MINUTE),
    parse_count,
    "GitHub issues and comments created per minute at most (GitHub allows 80)",
    capability=CAPABILITY,
)
SQS_QUEUE_URL = Setting(
    "DISPATCH_SQS_QUEUE_URL",
    None,
    parse_queue_url,
    "Turns on the SQS intake: long-polls this queue (subscribed to the producers' SNS topic) for messages; needs "
    "`pip install boto3` and AWS credentials from the standard chain (environment, config files, instance role)",
    capability=CAPABILITY,
)
SQS_ENDPOINT_URL = Setting(
    "DISPATCH_SQS_ENDPOINT_URL",
    None,
    parse_url,
    "SQS endpoint used instead of the region's: a VPC endpoint, or a local emulator over http://127.0.0.1",
    capability=CAPABILITY,
)
SQS_WAIT_SECONDS = Setting(
    "DISPATCH_SQS_WAIT_SECONDS",
    str(MAX_SQS_WAIT_SECONDS),
    parse_sqs_wait,
    "How long one SQS receive waits for a message (a long poll, 1 to 20 s); shutdown never waits for it",
    capability=CAPABILITY,
)
SQS_VISIBILITY_SECONDS = Setting(
    "DISPATCH_SQS_VISIBILITY_SECONDS",
    "60",
    parse_sqs_visibility,
    "How long a received SQS message stays hidden; one not taken in (invalid, or not stored) is received again "
    "after it, until the queue's redrive policy moves it to the dead-letter queue",
    capability=CAPABILITY,
)
CREATES_PER_HOUR = Setting(
    "DISPATCH_GITHUB_CREATES_PER_HOUR",
    str(DEFAULT_CREATES_PER_HOUR),
    parse_count,
    "GitHub issues and comments created per hour at most (GitHub allows 500)",
    capability=CAPABILITY,
)

SETTINGS: tuple[Setting, ...] = (
    PAGERDUTY_SERVICE,
    DEFAULT_CHANNEL,
    GITHUB_DEFAULT_USER,
    CONFIRM_TIMEOUT_MINUTES,
    ALLOWED_USERS,
    BROADCAST_MAX,
    ALLOW_MENTIONS,
    HTTP_PORT,
    HTTP_HOST,
    TOKEN,
    TLS_CERT,
    TLS_KEY,
    CREATES_PER_MINUTE,
    CREATES_PER_HOUR,
    SQS_QUEUE_URL,
    SQS_ENDPOINT_URL,
    SQS_WAIT_SECONDS,
    SQS_VISIBILITY_SECONDS,
)


@dataclass(frozen=True)
class DispatchConfig:
    default_repo: str  # owner/name: GITHUB_REPO
    github_default_user: str | None  # who is @-mentioned when a message names no GitHub login
    default_channel: str | None  # where alerts for users without a Slack ID, and delivery errors, go
    pagerduty_service: str | None  # used when the message names no PagerDuty service
    confirm_timeout_seconds: float
    allowed: tuple[str, ...]  # Slack user and usergroup IDs who may page and broadcast ("*": everybody)
    broadcast_max: int  # most recipients of one Slack-made message, unless an admin sends it
    allow_mentions: bool  # producer text may mention users and usergroups
    http_port: int | None
    http_host: str
    http_token: str | None
    tls_cert: str | None  # both set: the HTTP intake speaks HTTPS
    tls_key: str | None
    creates_per_minute: int
    creates_per_hour: int
    sqs_queue_url: str | None  # set: the SQS intake long-polls this queue
    sqs_endpoint_url: str | None  # instead of the region's endpoint (a VPC endpoint, a local emulator)
    sqs_wait_seconds: int  # one long poll
    sqs_visibility_seconds: int  # how long a received message stays hidden before it is received again

    @property
    def message_defaults(self) -> Defaults:
        """What these settings supply when a message leaves something out."""
        return Defaults(self.default_repo, self.github_default_user, self.default_channel, self.pagerduty_service)


def load(settings: Settings) -> DispatchConfig:
    """Everything dispatch reads from the environment, validated; raises SettingsError naming the bad setting."""
    minutes = settings.read(CONFIRM_TIMEOUT_MINUTES)
    allowed = settings.read(ALLOWED_USERS)
    port = settings.read(HTTP_PORT)
    token = settings.read(TOKEN)
    if port is not None and not token:
        raise SettingsError("DISPATCH_TOKEN is required when DISPATCH_HTTP_PORT is set (the intake's bearer token)")
    tls_cert, tls_key = settings.read(TLS_CERT), settings.read(TLS_KEY)
    if (tls_cert is None) != (tls_key is None):
        raise SettingsError(
            "DISPATCH_HTTP_TLS_CERT and DISPATCH_HTTP_TLS_KEY must be set together (the certificate and its key)"
        )
    return DispatchConfig(
        default_repo=settings.github_repo,
        github_default_user=settings.read(GITHUB_DEFAULT_USER),
        default_channel=settings.read(DEFAULT_CHANNEL),
        pagerduty_service=settings.read(PAGERDUTY_SERVICE),
        confirm_timeout_seconds=minutes * 60.0,
        allowed=allowed,
        broadcast_max=settings.read(BROADCAST_MAX),
        allow_mentions=settings.read(ALLOW_MENTIONS),
        http_port=port,
        http_host=settings.read(HTTP_HOST),
        http_token=token,
        tls_cert=tls_cert,
        tls_key=tls_key,
        creates_per_minute=settings.read(CREATES_PER_MINUTE),
        creates_per_hour=settings.read(CREATES_PER_HOUR),
        sqs_queue_url=settings.read(SQS_QUEUE_URL),
        sqs_endpoint_url=settings.read(SQS_ENDPOINT_URL),
        sqs_wait_seconds=settings.read(SQS_WAIT_SECONDS),
        sqs_visibility_seconds=settings.read(SQS_VISIBILITY_SECONDS),
    )
