import pytest

from bot.incidents.config import load as load_poller_config
from bot.settings import SettingsError, load_settings

BASE = {"PAGERDUTY_API_TOKEN": "main", "PAGERDUTY_FROM_EMAIL": "bot@example.com"}


def config(**env: str):
    return load_poller_config(load_settings({**BASE, **env}, dotenv_path=None))


def test_defaults_and_the_main_account():
    loaded = config()
    assert loaded.poll_seconds == 60 and loaded.lookback_hours == 1.0
    [main] = loaded.accounts
    assert (main.name, main.token, main.url, main.from_email) == (
        "default",
        "main",
        "https://api.pagerduty.com",
        "bot@example.com",
    )


def test_extra_accounts_with_their_own_url_and_from():
    loaded = config(
        PAGERDUTY_ACCOUNT_EU="eu-token",
        PAGERDUTY_ACCOUNT_EU_URL="https://api.eu.pagerduty.com/",
        PAGERDUTY_ACCOUNT_LEGACY_OPS="legacy-token",
        PAGERDUTY_ACCOUNT_LEGACY_OPS_FROM="ops@example.com",
    )
    by_name = {a.name: a for a in loaded.accounts}
    assert list(by_name) == ["default", "eu", "legacy_ops"]
    assert by_name["eu"].url == "https://api.eu.pagerduty.com"
    assert by_name["eu"].from_email == "bot@example.com"
    assert by_name["legacy_ops"].url == "https://api.pagerduty.com"
    assert by_name["legacy_ops"].from_email == "ops@example.com"
    assert "eu-token" not in repr(by_name["eu"])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAGERDUTY_ACCOUNT_EU_URL": "https://x.example"}, "PAGERDUTY_ACCOUNT_EU_URL is set but PAGERDUTY_ACCOUNT_EU"),
        ({"PAGERDUTY_ACCOUNT_EU": "t", "PAGERDUTY_ACCOUNT_EU_URL": "ftp://x"}, "PAGERDUTY_ACCOUNT_EU_URL must be"),
        ({"PAGERDUTY_ACCOUNT_DEFAULT": "t"}, "'default' is the name of the main"),
        ({"PAGERDUTY_ACCOUNT_eu": "t"}, "account names may only use A-Z, 0-9 and _"),
        ({"INCIDENT_POLL_SECONDS": "0"}, "INCIDENT_POLL_SECONDS must be a whole number of at least 1"),
        ({"INCIDENT_POLL_SECONDS": "soon"}, "INCIDENT_POLL_SECONDS must be a whole number"),
        ({"INCIDENT_LOOKBACK_HOURS": "-2"}, "INCIDENT_LOOKBACK_HOURS must be a number of 0 or more"),
    ],
)
def test_bad_settings_name_themselves(env, message):
    with pytest.raises(SettingsError, match=message):
        config(**env)


def test_both_consumers_list_the_pollers_settings_as_the_same_objects():
    from bot import jira_sync, statuspage
    from bot.incidents.config import SETTINGS

    for spec in (statuspage.SPEC, jira_sync.SPEC):
        assert all(any(listed is setting for listed in spec.settings) for setting in SETTINGS)
        assert {s.capability for s in spec.settings} == {"incidents", spec.name}
