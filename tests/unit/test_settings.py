import re

import pytest

from bot.settings import SettingsError, load_settings

BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}


def settings(**extra: str):
    return load_settings({**BASE, **extra}, dotenv_path=None)


def test_defaults_apply_when_unset():
    s = settings()
    assert s.slack_api_url == "https://slack.com/api"
    assert s.pagerduty_api_url == "https://api.pagerduty.com"
    assert s.database_path == "data/switchboard.db"
    assert s.switchboard_admins == ()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PAGERDUTY_API_URL", "api.pagerduty.com", "PAGERDUTY_API_URL must be an http(s) URL"),
        ("JIRA_URL", "https://jira.example.com:http", "JIRA_URL has a malformed port"),
        ("GITHUB_REPO", "acme", "GITHUB_REPO must be owner/name"),
        ("SWITCHBOARD_ADMINS", "U123,alice", "SWITCHBOARD_ADMINS must be comma-separated Slack IDs"),
        ("SWITCHBOARD_RETRY_PROFILE", "fast", "SWITCHBOARD_RETRY_PROFILE must be one of production, test"),
    ],
)
def test_malformed_values_name_the_setting(name, value, expected):
    with pytest.raises(SettingsError, match=re.escape(expected)):
        settings(**{name: value})


def test_dotenv_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-from-file\nGITHUB_REPO=acme/alerts\n")
    s = load_settings({"SLACK_BOT_TOKEN": "xoxb-from-env"}, dotenv_path=env_file)
    assert s.slack_bot_token == "xoxb-from-env"
    assert s.github_repo == "acme/alerts"


def test_secrets_are_not_in_repr():
    s = settings(PAGERDUTY_API_TOKEN="pd-secret-value")
    assert "pd-secret-value" not in repr(s)
    assert "xoxb-1" not in repr(s)


def test_zendesk_url_defaults_from_subdomain():
    assert settings(ZENDESK_SUBDOMAIN="acme").zendesk_base_url == "https://acme.zendesk.com"
    assert settings(ZENDESK_SUBDOMAIN="acme", ZENDESK_URL="http://127.0.0.1:9").zendesk_base_url == "http://127.0.0.1:9"


def test_ca_bundle_prefers_ssl_cert_file():
    assert settings(REQUESTS_CA_BUNDLE="/b.pem").ca_bundle == "/b.pem"
    assert settings(REQUESTS_CA_BUNDLE="/b.pem", SSL_CERT_FILE="/a.pem").ca_bundle == "/a.pem"


def test_docs_settings_page_is_generated_from_the_declarations():
    from bot.settings import ROOT
    from bot.settings_doc import markdown

    page = (ROOT / "docs" / "settings.md").read_text()
    assert page == markdown(), "docs/settings.md is stale: run python -m bot.settings_doc > docs/settings.md"


def test_every_setting_is_declared_once_with_help():
    from bot.wiring import all_settings

    declared: dict[str, object] = {}
    for setting in all_settings():
        assert declared.setdefault(setting.name, setting) is setting, f"{setting.name} is declared twice"
        assert setting.help and setting.capability


def test_plain_http_vendor_urls_are_refused_unless_loopback():
    with pytest.raises(SettingsError, match="JIRA_URL must use https://"):
        settings(JIRA_URL="http://jira.acme.example")
    with pytest.raises(SettingsError, match="SLACK_API_URL must use https://"):
        settings(SLACK_API_URL="http://10.0.0.5/api")
    assert settings(JIRA_URL="http://127.0.0.1:8080").jira_url == "http://127.0.0.1:8080"
    assert settings(SLACK_API_URL="http://[::1]:9/api").slack_api_url == "http://[::1]:9/api"
    assert settings(JIRA_URL="https://acme.atlassian.net").jira_url == "https://acme.atlassian.net"


def test_the_replaced_tools_setting_names_are_read_with_a_warning():
    s = load_settings(
        {
            "PD_ACCOUNT_HUGOPS": "pd-key",
            "STATUSPAGE_KEY": "sp-key",
            "JIRA_SERVER_URL": "https://acme.atlassian.net",
            "JIRA_URL": "",
            "SRE_SUPPORT_CHANNEL": "C0SUPPORT",
            "SUPPORT_CHANNELS": "C0NEW",
        },
        dotenv_path=None,
    )
    assert s.statuspage_api_key == "sp-key" and s.jira_url == "https://acme.atlassian.net"
    assert s.raw["PAGERDUTY_ACCOUNT_HUGOPS"] == "pd-key"
    assert s.raw["SUPPORT_CHANNELS"] == "C0NEW"  # the new name wins when both are set
    assert s.renamed[1] == (
        "PD_ACCOUNT_HUGOPS is pagerstatus's name for PAGERDUTY_ACCOUNT_HUGOPS: "
        "it is read as PAGERDUTY_ACCOUNT_HUGOPS; rename it"
    )
    assert len(s.renamed) == 3 and all("SRE_SUPPORT_CHANNEL" not in line for line in s.renamed)
    assert "sp-key" not in " ".join(s.renamed)  # names only, never values
