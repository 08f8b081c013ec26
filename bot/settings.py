"""Settings from the environment and `.env`: every name, its default and what it must look like, in one table.

Secrets live only here (in memory) and are never logged or stored in SQLite; `Settings.__repr__` hides them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is malformed; the message names it and what is expected."""


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) URL such as https://example.com, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a non-numeric port
    except ValueError as error:
        raise SettingsError(f"{name} has a malformed port: {value!r}") from error
    return value.rstrip("/")


def _int(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value.strip()):
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def _port(name: str, value: str) -> int:
    port = _int(name, value)
    if not 0 < port < 65536:
        raise SettingsError(f"{name} must be a TCP port between 1 and 65535, got {value!r}")
    return port


def _repo(name: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", value.strip()):
        raise SettingsError(f"{name} must be owner/name, such as acme/alerts, got {value!r}")
    return value.strip()


def _csv(name: str, value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _slack_ids(name: str, value: str) -> tuple[str, ...]:
    ids = _csv(name, value)
    for item in ids:
        if not re.fullmatch(r"[UWCGSDB][A-Z0-9]{2,}", item):
            raise SettingsError(f"{name} must be comma-separated Slack IDs such as U012ABCDEF, got {item!r}")
    return ids


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _choice(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value

    return parse


def _text(name: str, value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Spec:
    """One setting: its environment name, default, parser, whether it is secret, and what it is for."""

    name: str
    default: str | None
    parse: Callable[[str, str], Any]
    help: str
    secret: bool = False


SPECS: tuple[Spec, ...] = (
    Spec("SLACK_BOT_TOKEN", None, _text, "Bot token (xoxb-…) of the Slack app", secret=True),
    Spec("SLACK_APP_TOKEN", None, _text, "App-level token (xapp-…, scope connections:write) for Socket Mode", True),
    Spec("SLACK_API_URL", "https://slack.com/api/", _url, "Slack Web API base URL"),
    Spec("PAGERDUTY_API_TOKEN", None, _text, "PagerDuty REST API key", secret=True),
    Spec("PAGERDUTY_FROM_EMAIL", None, _text, "Email of a PagerDuty user, sent as `From` on incident writes"),
    Spec("PAGERDUTY_API_URL", "https://api.pagerduty.com", _url, "PagerDuty REST API base URL (EU: api.eu…)"),
    Spec("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com", _url, "PagerDuty Events API v2 base URL"),
    Spec("ZENDESK_SUBDOMAIN", None, _text, "Zendesk subdomain (acme for acme.zendesk.com)"),
    Spec("ZENDESK_EMAIL", None, _text, "Email of the Zendesk agent the bot acts as"),
    Spec("ZENDESK_API_TOKEN", None, _text, "Zendesk API token", secret=True),
    Spec("ZENDESK_URL", None, _url, "Zendesk base URL; default https://<subdomain>.zendesk.com"),
    Spec("GITHUB_TOKEN", None, _text, "GitHub token for the Dispatch audit issues", secret=True),
    Spec("GITHUB_REPO", None, _repo, "Default repository (owner/name) for Dispatch audit issues"),
    Spec("GITHUB_API_URL", "https://api.github.com", _url, "GitHub API base URL (Enterprise: https://host/api/v3)"),
    Spec("JIRA_URL", None, _url, "Jira site URL, such as https://acme.atlassian.net"),
    Spec("JIRA_EMAIL", None, _text, "Email of the Jira user the bot acts as"),
    Spec("JIRA_API_TOKEN", None, _text, "Jira API token", secret=True),
    Spec("JIRA_PROJECT", None, _text, "Jira project key for incident issues, such as OPS"),
    Spec("STATUSPAGE_API_KEY", None, _text, "Statuspage API key", secret=True),
    Spec("STATUSPAGE_PAGE_ID", None, _text, "Statuspage page ID"),
    Spec("STATUSPAGE_API_URL", "https://api.statuspage.io/v1", _url, "Statuspage API base URL"),
    Spec("DATABASE_PATH", "data/switchboard.db", _text, "SQLite file holding all state (relative to the checkout)"),
    Spec(
        "SWITCHBOARD_ADMINS",
        "",
        _slack_ids,
        "Slack user IDs allowed to change configuration (workspace admins and owners always may)",
    ),
    Spec(
        "SWITCHBOARD_RETRY_PROFILE",
        "production",
        _choice("production", "test"),
        "Vendor client timeouts and retries: production, or test (short timeouts, no waiting)",
    ),
    Spec("LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "Log level"),
    Spec("SSL_CERT_FILE", None, _text, "Custom certificate authority bundle for every vendor client"),
    Spec("REQUESTS_CA_BUNDLE", None, _text, "Same as SSL_CERT_FILE (used when SSL_CERT_FILE is unset)"),
)
SPECS_BY_NAME = {spec.name: spec for spec in SPECS}


@dataclass(frozen=True)
class Capability:
    """A capability is on when every setting it needs is present."""

    name: str
    title: str
    needs: tuple[str, ...]
    on: bool = False
    missing: tuple[str, ...] = ()


CAPABILITY_NEEDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("oncall", "On-call topics and usergroups", ("PAGERDUTY_API_TOKEN",)),
    ("dispatch", "Alarm dispatch", ("GITHUB_TOKEN", "GITHUB_REPO", "PAGERDUTY_API_TOKEN", "PAGERDUTY_FROM_EMAIL")),
    (
        "support",
        "Support desk (Zendesk)",
        ("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SUPPORT_CHANNELS"),
    ),
    ("statuspage", "Status page", ("PAGERDUTY_API_TOKEN", "STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID")),
    (
        "jira_sync",
        "Jira sync",
        ("PAGERDUTY_API_TOKEN", "PAGERDUTY_FROM_EMAIL", "JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT"),
    ),
)


@dataclass(frozen=True)
class Settings:
    """Parsed settings. Attribute names are the environment names in lower case."""

    values: Mapping[str, Any]
    raw: Mapping[str, str] = field(default_factory=dict)  # every variable seen, for capability-specific extras

    def __getattr__(self, item: str) -> Any:
        values = object.__getattribute__(self, "values")
        key = item.upper()
        if key in values:
            return values[key]
        raise AttributeError(item)

    def __repr__(self) -> str:
        shown = {k: ("***" if SPECS_BY_NAME[k].secret and v else v) for k, v in self.values.items()}
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
    def ca_bundle(self) -> str | None:
        return self.ssl_cert_file or self.requests_ca_bundle

    @property
    def database_file(self) -> Path:
        path = Path(self.database_path)
        return path if path.is_absolute() else ROOT / path

    def capabilities(self) -> list[Capability]:
        result = []
        for name, title, needs in CAPABILITY_NEEDS:
            missing = tuple(n for n in needs if not self.has(n))
            result.append(Capability(name, title, needs, on=not missing, missing=missing))
        return result

    def capability(self, name: str) -> Capability:
        return next(c for c in self.capabilities() if c.name == name)

    def missing_slack_tokens(self) -> list[str]:
        return [n for n in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN") if not self.has(n)]

    def with_overrides(self, **overrides: str) -> Settings:
        """A copy with some variables replaced (tests and the sandbox)."""
        return load_settings({**self.raw, **overrides}, dotenv_path=None)


def load_settings(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = ROOT / ".env") -> Settings:
    """Read `.env` (if any) under the environment (the environment wins) and parse every known setting."""
    merged: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for spec in SPECS:
        raw = merged.get(spec.name)
        if raw is None or raw.strip() == "":
            raw = spec.default
        values[spec.name] = None if raw is None else spec.parse(spec.name, raw)
    return Settings(values=values, raw=merged)
