"""Settings of the shared PagerDuty incident poller: how often, how far back, and which accounts.

Accounts: the main token (`PAGERDUTY_API_TOKEN`, named `default`) plus one `PAGERDUTY_ACCOUNT_<NAME>=<token>` per
extra account, each with an optional `PAGERDUTY_ACCOUNT_<NAME>_URL` (default `PAGERDUTY_API_URL`) and
`PAGERDUTY_ACCOUNT_<NAME>_FROM` (a user email of that account for writes; default `PAGERDUTY_FROM_EMAIL`).

Both the status page and the Jira sync list `SETTINGS` (the same objects), and use the parsers below for their own
settings of the same kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.settings import Setting, Settings, SettingsError, parse_text, parse_url

ACCOUNT_PREFIX = "PAGERDUTY_ACCOUNT_"
DEFAULT_ACCOUNT = "default"


# --- parsers shared by the poller, the status page and the Jira sync (name, value) -> value ----------------------
def parse_positive_int(name: str, value: str) -> int:
    """A whole number of at least 1 (seconds between polls, audits)."""
    if not re.fullmatch(r"\d+", value.strip()) or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)


def parse_non_negative_number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number < 0:
        raise SettingsError(f"{name} must be a number of 0 or more, got {value!r}")
    return number


def parse_channel(name: str, value: str) -> str:
    """A Slack channel ID (public or private), where announcements are posted."""
    channel = value.strip()
    if not re.fullmatch(r"[CG][A-Z0-9]{2,}", channel):
        raise SettingsError(f"{name} must be a Slack channel ID such as C012ABCDEF, got {value!r}")
    return channel


POLL_SECONDS = Setting(
    "INCIDENT_POLL_SECONDS",
    "60",
    parse_positive_int,
    "How often PagerDuty is polled (both the status page and the Jira sync)",
    capability="incidents",
)
LOOKBACK_HOURS = Setting(
    "INCIDENT_LOOKBACK_HOURS",
    "1",
    parse_non_negative_number,
    "How far back the first poll reads log entries; later polls resume from the persisted cursor",
    capability="incidents",
)
ACCOUNT_TOKEN = Setting(
    "PAGERDUTY_ACCOUNT_<NAME>",
    None,
    parse_text,
    "API key of another PagerDuty account (NAME: A-Z, 0-9, _; it may not end in _URL or _FROM)",
    secret=True,
    capability="incidents",
)
ACCOUNT_URL = Setting(
    "PAGERDUTY_ACCOUNT_<NAME>_URL",
    None,
    parse_url,
    "That account's REST API base URL; default PAGERDUTY_API_URL",
    capability="incidents",
)
ACCOUNT_FROM = Setting(
    "PAGERDUTY_ACCOUNT_<NAME>_FROM",
    None,
    parse_text,
    "Email of a user of that account, sent as `From` on its incident writes; default PAGERDUTY_FROM_EMAIL",
    capability="incidents",
)
SETTINGS: tuple[Setting, ...] = (POLL_SECONDS, LOOKBACK_HOURS, ACCOUNT_TOKEN, ACCOUNT_URL, ACCOUNT_FROM)
_COMPANIONS = (ACCOUNT_URL, ACCOUNT_FROM)  # per-account settings: `PAGERDUTY_ACCOUNT_<NAME>` plus a suffix
_COMPANION_SUFFIXES = tuple(setting.name.removeprefix(ACCOUNT_TOKEN.name) for setting in _COMPANIONS)


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


def _of_account(family: Setting, name: str) -> Setting:
    """One account's member of a per-account family (`PAGERDUTY_ACCOUNT_EU_URL`), to read like any setting."""
    return replace(family, name=family.name.replace("<NAME>", name))


def load_accounts(settings: Settings) -> tuple[AccountConfig, ...]:
    """The main account, then every PAGERDUTY_ACCOUNT_<NAME> in name order. Keys ending in _URL or _FROM are
    attributes of the account before the suffix (so an account name cannot end in _URL or _FROM)."""
    main_url = settings.pagerduty_api_url
    main_from = settings.pagerduty_from_email
    accounts = [AccountConfig(DEFAULT_ACCOUNT, settings.pagerduty_api_token, main_url, main_from)]
    # The token family's prefix also covers the companions (`EU_URL`): tell them apart by their suffix.
    members = settings.read_family(ACCOUNT_TOKEN)
    tokens = {name: token for name, token in members.items() if not name.endswith(_COMPANION_SUFFIXES)}
    for member in members:
        suffix = next((s for s in _COMPANION_SUFFIXES if member.endswith(s)), None)
        if suffix and member[: -len(suffix)] not in tokens:
            base = f"{ACCOUNT_PREFIX}{member[: -len(suffix)]}"
            raise SettingsError(f"{ACCOUNT_PREFIX}{member} is set but {base} (that account's API token) is not")
    for name, token in tokens.items():
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            raise SettingsError(f"{ACCOUNT_PREFIX}{name}: account names may only use A-Z, 0-9 and _")
        if name.lower() == DEFAULT_ACCOUNT:
            raise SettingsError(f"{ACCOUNT_PREFIX}{name}: 'default' is the name of the main PAGERDUTY_API_TOKEN")
        url = settings.read(_of_account(ACCOUNT_URL, name)) or main_url
        from_email = settings.read(_of_account(ACCOUNT_FROM, name)) or main_from
        accounts.append(AccountConfig(name.lower(), token, url, from_email))
    return tuple(accounts)


def load(settings: Settings) -> PollerConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return PollerConfig(
        poll_seconds=settings.read(POLL_SECONDS),
        lookback_hours=settings.read(LOOKBACK_HOURS),
        accounts=load_accounts(settings),
    )
