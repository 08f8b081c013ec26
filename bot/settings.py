"""Settings from the environment and `.env`, and the one parser of every declared setting.

Every setting is declared once as a `Setting` (name, default, parser, help, secret, capability): the foundation's
in `CORE` below, each capability's in its own `config.py`, listed by its spec. `Settings.read(setting)` parses a
declared value; `docs/settings.md` is generated from the declarations (`python -m bot.settings_doc`).
Secrets live only here (in memory) and are never logged or stored in SQLite; `Settings.__repr__` hides them.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is malformed; the message names it and what is expected."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(name: str, value: str) -> str:
    """A vendor base URL. Plain http is refused unless the host is this machine (an emulator, a local proxy):
    credentials and vendor data never cross a network in the clear."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) URL such as https://example.com, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a non-numeric port
    except ValueError as error:
        raise SettingsError(f"{name} has a malformed port: {value!r}") from error
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise SettingsError(f"{name} must use https:// (plain http is only allowed for loopback hosts), got {value!r}")
    return value.rstrip("/")


def parse_int(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()):
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def parse_port(name: str, value: str) -> int:
    port = parse_int(name, value)
    if not 0 < port < 65536:
        raise SettingsError(f"{name} must be a TCP port between 1 and 65535, got {value!r}")
    return port


def parse_repo(name: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", value.strip()):
        raise SettingsError(f"{name} must be owner/name, such as acme/alerts, got {value!r}")
    return value.strip()


def parse_csv(name: str, value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_slack_ids(name: str, value: str) -> tuple[str, ...]:
    ids = parse_csv(name, value)
    for item in ids:
        if not re.fullmatch(r"[UWCGSDB][A-Z0-9]{2,}", item):
            raise SettingsError(f"{name} must be comma-separated Slack IDs such as U012ABCDEF, got {item!r}")
    return ids


def parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    return parse


def parse_time_of_day(name: str, value: str) -> str:
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
        raise SettingsError(f"{name} must be a time of day as HH:MM, such as 09:00, got {value!r}")
    return value.strip()


def parse_time_zone(name: str, value: str) -> str:
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"{name} must be a time zone such as Europe/London, got {value!r}") from error
    return value.strip()


def parse_text(name: str, value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class RetryProfile:
    """Every timing that differs between production and the test suite, in one place (SWITCHBOARD_RETRY_PROFILE)."""

    timeout: float  # one vendor request
    rate_limit_retries: int  # in-call retries after a 429
    max_wait: float  # longest Retry-After waited out inside a call; a longer one goes back to the caller at once
    network_retries: int  # re-sends of a request that never reached the vendor (connection errors)
    library_retries: int  # retries a vendor library makes by itself (Jira's on 429/503, GitHub's on GETs)
    pacing: float  # multiplier on the gaps kept between requests to respect vendors' rate limits (0 = none)
    outbox_backoff_base: float  # first backoff of a failed outbox effect; doubles per failure
    socket_ping_interval: float  # Socket Mode ping: also how soon a dead connection is noticed
    reconnect_base: float  # first wait after Socket Mode fails to reconnect; doubles per failure, up to 60 s
    heartbeat_seconds: float  # how often the running bot tells `app.py health` it is alive


MAX_RETRY_AFTER_SECONDS = 5.0  # no client sleeps longer than this inside one request: jobs move on instead

RETRY_PROFILES = {
    "production": RetryProfile(
        timeout=20.0,
        rate_limit_retries=3,
        max_wait=MAX_RETRY_AFTER_SECONDS,
        network_retries=2,
        library_retries=3,
        pacing=1.0,
        outbox_backoff_base=2.0,
        socket_ping_interval=10.0,
        reconnect_base=1.0,
        heartbeat_seconds=15.0,
    ),
    "test": RetryProfile(
        timeout=5.0,
        rate_limit_retries=1,
        max_wait=0.2,
        network_retries=0,
        library_retries=0,
        pacing=0.0,
        outbox_backoff_base=0.05,
        socket_ping_interval=1.0,
        reconnect_base=0.05,
        heartbeat_seconds=0.5,
    ),
}


@dataclass(frozen=True)
class Setting:
    """One setting: its environment name, default, parser, what it is for, whether it is secret, whose it is.

    A name ending in `_<NAME>` is a family (`PAGERDUTY_ACCOUNT_<NAME>`): `Settings.read_family` returns each member.
    """

    name: str
    default: str | None
    parse: Callable[[str, str], Any]
    help: str
    secret: bool = False
    capability: str = "core"

    @property
    def is_family(self) -> bool:
        return self.name.endswith("_<NAME>")


CORE: tuple[Setting, ...] = (
    Setting("SLACK_BOT_TOKEN", None, parse_text, "Bot token (xoxb-…) of the Slack app", secret=True),
    Setting(
        "SLACK_APP_TOKEN", None, parse_text, "App-level token (xapp-…, scope connections:write) for Socket Mode", True
    ),
    Setting("SLACK_API_URL", "https://slack.com/api/", parse_url, "Slack Web API base URL"),
    Setting("PAGERDUTY_API_TOKEN", None, parse_text, "PagerDuty REST API key", secret=True),
    Setting("PAGERDUTY_FROM_EMAIL", None, parse_text, "Email of a PagerDuty user, sent as `From` on incident writes"),
    Setting("PAGERDUTY_API_URL", "https://api.pagerduty.com", parse_url, "PagerDuty REST API base URL (EU: api.eu…)"),
    Setting("ZENDESK_SUBDOMAIN", None, parse_text, "Zendesk subdomain (acme for acme.zendesk.com)"),
    Setting("ZENDESK_EMAIL", None, parse_text, "Email of the Zendesk agent the bot acts as"),
    Setting("ZENDESK_API_TOKEN", None, parse_text, "Zendesk API token", secret=True),
    Setting("ZENDESK_URL", None, parse_url, "Zendesk base URL; default https://<subdomain>.zendesk.com"),
    Setting("GITHUB_TOKEN", None, parse_text, "GitHub token for the Dispatch audit issues", secret=True),
    Setting("GITHUB_REPO", None, parse_repo, "Default repository (owner/name) for Dispatch audit issues"),
    Setting(
        "GITHUB_API_URL", "https://api.github.com", parse_url, "GitHub API base URL (Enterprise: https://host/api/v3)"
    ),
    Setting("JIRA_URL", None, parse_url, "Jira site URL, such as https://acme.atlassian.net"),
    Setting("JIRA_EMAIL", None, parse_text, "Email of the Jira user the bot acts as"),
    Setting("JIRA_API_TOKEN", None, parse_text, "Jira API token", secret=True),
    Setting("JIRA_PROJECT", None, parse_text, "Jira project key for incident issues, such as OPS"),
    Setting("STATUSPAGE_API_KEY", None, parse_text, "Statuspage API key", secret=True),
    Setting("STATUSPAGE_PAGE_ID", None, parse_text, "Statuspage page ID"),
    Setting("STATUSPAGE_API_URL", "https://api.statuspage.io/v1", parse_url, "Statuspage API base URL"),
    Setting(
        "DATABASE_PATH", "data/switchboard.db", parse_text, "SQLite file holding all state (relative to the checkout)"
    ),
    Setting(
        "SWITCHBOARD_ADMINS",
        "",
        parse_slack_ids,
        "Slack user IDs allowed to change configuration (workspace admins and owners always may)",
    ),
    Setting(
        "SWITCHBOARD_ALERT_CHANNEL",
        None,
        parse_text,
        "Channel told when work fails for good (with a Retry button); unset: a DM to each SWITCHBOARD_ADMINS user",
    ),
    Setting(
        "DIGEST_CHANNELS",
        "",
        parse_slack_ids,
        "Channels that get the daily digest (incidents, status minutes, tickets, alarms, on-call changes)",
    ),
    Setting("DIGEST_TIME", "09:00", parse_time_of_day, "When the daily digest is posted, HH:MM in DIGEST_TIMEZONE"),
    Setting("DIGEST_TIMEZONE", "UTC", parse_time_zone, "Time zone of DIGEST_TIME and of the digest's day"),
    Setting(
        "SWITCHBOARD_SHADOW",
        "false",
        parse_bool,
        "Shadow mode for every capability: read and decide everything, write nothing to any vendor, record it all",
    ),
    Setting(
        "SHADOW_CAPABILITIES",
        "",
        parse_csv,
        "Shadow mode for these capabilities only, comma-separated (oncall, dispatch, support, statuspage, jira_sync)",
    ),
    Setting(
        "SWITCHBOARD_RETENTION_DAYS",
        "90",
        parse_int,
        "Days that finished work, history and delivery records are kept before housekeeping deletes them",
    ),
    Setting(
        "SWITCHBOARD_RETRY_PROFILE",
        "production",
        choice("production", "test"),
        "Vendor client timeouts and retries: production, or test (short timeouts, no waiting)",
    ),
    Setting(
        "SWITCHBOARD_COMMANDS_PER_MINUTE",
        "10",
        parse_int,
        "Slash commands one person may run per minute (they call vendors on shared rate limits); 0 = no limit",
    ),
    Setting("LOG_FORMAT", "text", choice("text", "json"), "Log lines as plain text or one JSON object per line"),
    Setting("LOG_LEVEL", "INFO", choice("DEBUG", "INFO", "WARNING", "ERROR"), "Log level"),
    Setting("METRICS_PORT", None, parse_port, "TCP port of the Prometheus `/metrics` endpoint; unset: no endpoint"),
    Setting(
        "METRICS_HOST",
        "127.0.0.1",
        parse_text,
        "Address the `/metrics` endpoint listens on (0.0.0.0 for every interface, as in a container)",
    ),
    Setting("SSL_CERT_FILE", None, parse_text, "Custom certificate authority bundle for every vendor client"),
    Setting("REQUESTS_CA_BUNDLE", None, parse_text, "Same as SSL_CERT_FILE (used when SSL_CERT_FILE is unset)"),
)
CORE_BY_NAME = {setting.name: setting for setting in CORE}


@dataclass(frozen=True)
class Settings:
    """Parsed settings. Attribute names are the environment names in lower case."""

    values: Mapping[str, Any]
    raw: Mapping[str, str] = field(default_factory=dict)  # every variable seen, for capability-specific extras
    renamed: tuple[str, ...] = ()  # one warning per old name read as its new one

    def __getattr__(self, item: str) -> Any:
        values = object.__getattribute__(self, "values")
        key = item.upper()
        if key in values:
            return values[key]
        raise AttributeError(item)

    def __repr__(self) -> str:
        shown = {k: ("***" if CORE_BY_NAME[k].secret and v else v) for k, v in self.values.items()}
        return f"Settings({shown})"

    def get(self, name: str, default: str | None = None) -> str | None:
        """A setting that has no spec yet (capability extras), raw from the environment."""
        value = self.raw.get(name)
        return value if value not in (None, "") else default

    def has(self, name: str) -> bool:
        if name in self.values:
            return self.values[name] not in (None, "", ())
        return self.get(name) is not None

    @property
    def zendesk_base_url(self) -> str | None:
        if self.zendesk_url:
            return self.zendesk_url
        return f"https://{self.zendesk_subdomain}.zendesk.com" if self.zendesk_subdomain else None

    @property
    def retry_profile(self) -> RetryProfile:
        return RETRY_PROFILES[self.switchboard_retry_profile]

    @property
    def ca_bundle(self) -> str | None:
        return self.ssl_cert_file or self.requests_ca_bundle

    @property
    def database_file(self) -> Path:
        path = Path(self.database_path)
        return path if path.is_absolute() else ROOT / path

    def read(self, setting: Setting) -> Any:
        """The parsed value of a declared setting (its default when unset); raises SettingsError naming it."""
        raw = self.raw.get(setting.name)
        if raw is None or raw.strip() == "":
            raw = setting.default
        return None if raw is None else setting.parse(setting.name, raw)

    def read_family(self, setting: Setting) -> dict[str, Any]:
        """Every member of a family (`PAGERDUTY_ACCOUNT_<NAME>`): {NAME: parsed value}, sorted by name."""
        prefix = setting.name[: -len("<NAME>")]
        return {
            key[len(prefix) :]: setting.parse(key, value)
            for key, value in sorted(self.raw.items())
            if key.startswith(prefix) and len(key) > len(prefix) and value.strip()
        }

    def missing_slack_tokens(self) -> list[str]:
        return [n for n in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if not self.has(n)]

    def with_overrides(self, **overrides: str) -> Settings:
        """A copy with some variables replaced (tests and the sandbox)."""
        return load_settings({**self.raw, **overrides}, dotenv_path=None)


# The names the replaced tools used (their READMEs), read when the new name is unset, with a warning at startup.
ALIASES: dict[str, tuple[str, str]] = {  # old name -> (new name, the tool that used it)
    "STATUSPAGE_KEY": ("STATUSPAGE_API_KEY", "pagerstatus"),
    "STATUSPAGE_PAGE": ("STATUSPAGE_PAGE_ID", "pagerstatus"),
    "ZENDESK_AGENT_EMAIL": ("ZENDESK_EMAIL", "zenslackchat"),
    "ZENDESK_USER_ID": ("ZENDESK_ASSIGNEE_ID", "zenslackchat"),
    "SRE_SUPPORT_CHANNEL": ("SUPPORT_CHANNELS", "zenslackchat"),
    "PAGERDUTY_ESCALATION_POLICY_ID": ("SUPPORT_ESCALATION_POLICY", "zenslackchat"),
    "DISABLE_MESSAGE_PROCESSING": ("SUPPORT_DISABLE_MESSAGE_PROCESSING", "zenslackchat"),
    "JIRA_SERVER_URL": ("JIRA_URL", "jira-pagerduty-integration"),
    "JIRA_USER_EMAIL": ("JIRA_EMAIL", "jira-pagerduty-integration"),
    "PAGERDUTY_USER_EMAIL": ("PAGERDUTY_FROM_EMAIL", "jira-pagerduty-integration"),
    "INCIDENT_PROJECT_KEY": ("JIRA_PROJECT", "jira-pagerduty-integration"),
    "QUESTIONS_FILE": ("JIRA_QUESTIONS_FILE", "jira-pagerduty-integration"),
    "PERSON_PROJECT_KEY": ("JIRA_PERSON_PROJECT", "jira-pagerduty-integration"),
    "TIMELINE_PROJECT_KEY": ("JIRA_TIMELINE_PROJECT", "jira-pagerduty-integration"),
}
ALIAS_PREFIXES: dict[str, tuple[str, str]] = {"PD_ACCOUNT_": ("PAGERDUTY_ACCOUNT_", "pagerstatus")}


def apply_aliases(merged: dict[str, str]) -> list[str]:
    """Copy every old name that is set to its new name when that is unset; one warning line per name used."""
    warnings = []
    renames = {old: new for old, new in ALIASES.items() if old in merged}
    for prefix, (new_prefix, tool) in ALIAS_PREFIXES.items():
        renames.update({key: (new_prefix + key[len(prefix) :], tool) for key in merged if key.startswith(prefix)})
    for old, (new, tool) in sorted(renames.items()):
        if merged.get(new, "").strip() or not merged[old].strip():
            continue
        merged[new] = merged[old]
        warnings.append(f"{old} is {tool}'s name for {new}: it is read as {new}; rename it")
    return warnings


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = ROOT / ".env") -> Settings:
    """Read `.env` (if any) under the environment (the environment wins) and parse every known setting."""
    merged: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    renamed = apply_aliases(merged)
    values: dict[str, Any] = {}
    for spec in CORE:
        raw = merged.get(spec.name)
        if raw is None or raw.strip() == "":
            raw = spec.default
        values[spec.name] = None if raw is None else spec.parse(spec.name, raw)
    return Settings(values=values, raw=merged, renamed=tuple(renamed))
