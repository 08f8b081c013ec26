"""Settings of the shared PagerDuty incident poller: how often, how far back, and which accounts.

Accounts: the main token (`PAGERDUTY_API_TOKEN`, named `default`) plus one `PAGERDUTY_ACCOUNT_<NAME>=<token>` per
extra account, each with an optional `PAGERDUTY_ACCOUNT_<NAME>_URL` (default `PAGERDUTY_API_URL`) and
`PAGERDUTY_ACCOUNT_<NAME>_FROM` (a user email of that account for writes; default `PAGERDUTY_FROM_EMAIL`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Settings, SettingsError, parse_url

ACCOUNT_PREFIX = "PAGERDUTY_ACCOUNT_"
DEFAULT_ACCOUNT = "default"
_ATTRIBUTE_SUFFIXES = ("_URL", "_FROM")


@dataclass(frozen=True)
class AccountConfig:
    name: str  # lower case; "default" for the main token
    token: str
    url: str
    from_email: str | None

    def __repr__(self) -> str:  # never show the token
        return f"AccountConfig(name={self.name!r}, url={self.url!r}, from_email={self.from_email!r})"


@dataclass(frozen=True)
class PollerConfig:
    poll_seconds: int
    lookback_hours: float
    accounts: tuple[AccountConfig, ...]


def positive_int(settings: Settings, name: str, default: int, minimum: int = 1) -> int:
    raw = settings.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d+", raw.strip()) or int(raw) < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, got {raw!r}")
    return int(raw)


def positive_number(settings: Settings, name: str, default: float) -> float:
    raw = settings.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"{name} must be a number of 0 or more, got {raw!r}")
    return value


def slack_channel(settings: Settings, name: str) -> str | None:
    raw = settings.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
        raise SettingsError(f"{name} must be a Slack channel ID such as C012ABCDEF, got {raw!r}")
    return value


def load_accounts(settings: Settings) -> tuple[AccountConfig, ...]:
    """The main account, then every PAGERDUTY_ACCOUNT_<NAME> in name order. Keys ending in _URL or _FROM are
    attributes of the account before the suffix (so an account name cannot end in _URL or _FROM)."""
    main_url = settings.pagerduty_api_url
    main_from = settings.pagerduty_from_email
    accounts = [AccountConfig(DEFAULT_ACCOUNT, settings.pagerduty_api_token, main_url, main_from)]
    raw = {k: v.strip() for k, v in settings.raw.items() if k.startswith(ACCOUNT_PREFIX) and v and v.strip()}
    names = sorted(k[len(ACCOUNT_PREFIX) :] for k in raw if not k.endswith(_ATTRIBUTE_SUFFIXES))
    for key in raw:
        suffix = next((s for s in _ATTRIBUTE_SUFFIXES if key.endswith(s)), None)
        if suffix and key[len(ACCOUNT_PREFIX) : -len(suffix)] not in names:
            base = key[: -len(suffix)]
            raise SettingsError(f"{key} is set but {base} (that account's API token) is not")
    for name in names:
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            raise SettingsError(f"{ACCOUNT_PREFIX}{name}: account names may only use A-Z, 0-9 and _")
        if name.lower() == DEFAULT_ACCOUNT:
            raise SettingsError(f"{ACCOUNT_PREFIX}{name}: 'default' is the name of the main PAGERDUTY_API_TOKEN")
        url_key = f"{ACCOUNT_PREFIX}{name}_URL"
        url = parse_url(url_key, raw[url_key]) if url_key in raw else main_url
        from_email = raw.get(f"{ACCOUNT_PREFIX}{name}_FROM") or main_from
        accounts.append(AccountConfig(name.lower(), raw[ACCOUNT_PREFIX + name], url, from_email))
    return tuple(accounts)


def load_poller_config(settings: Settings) -> PollerConfig:
    return PollerConfig(
        poll_seconds=positive_int(settings, "INCIDENT_POLL_SECONDS", 60),
        lookback_hours=positive_number(settings, "INCIDENT_LOOKBACK_HOURS", 1.0),
        accounts=load_accounts(settings),
    )
