import pytest

from bot.settings import SettingsError, load_settings
from bot.statuspage.config import load as load_statuspage_config

BASE = {"PAGERDUTY_API_TOKEN": "pd", "STATUSPAGE_API_KEY": "k", "STATUSPAGE_PAGE_ID": "p"}


def config(**env: str):
    return load_statuspage_config(load_settings({**BASE, **env}, dotenv_path=None))


def test_defaults():
    loaded = config()
    assert loaded.open_on == ("acknowledged",)
    assert loaded.marker == "⛈" and loaded.notify_channel is None
    assert loaded.request_interval is None and loaded.audit_seconds == 600
    assert loaded.impact.status_for("P1") == "major_outage"


def test_overrides():
    loaded = config(
        STATUSPAGE_OPEN_ON="triggered",
        STATUSPAGE_NOTIFY_CHANNEL="C0OPS",
        STATUSPAGE_INCIDENT_BODY="Line one\\nline two",
        STATUSPAGE_REQUEST_INTERVAL="2",
    )
    assert loaded.open_on == ("triggered", "acknowledged")
    assert loaded.body_template == "Line one\nline two"
    assert loaded.request_interval == 2.0 and loaded.notify_channel == "C0OPS"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STATUSPAGE_OPEN_ON": "resolved"}, "STATUSPAGE_OPEN_ON must be acknowledged or triggered"),
        ({"STATUSPAGE_NOTIFY_CHANNEL": "#ops"}, "STATUSPAGE_NOTIFY_CHANNEL must be a Slack channel ID"),
        ({"STATUSPAGE_IMPACT": "P1=broken"}, "STATUSPAGE_IMPACT: expected PRIORITY=STATUS"),
        ({"STATUSPAGE_INCIDENT_NAME": "x" * 201}, "STATUSPAGE_INCIDENT_NAME must be at most 200 characters"),
        ({"STATUSPAGE_AUDIT_SECONDS": "-1"}, "STATUSPAGE_AUDIT_SECONDS must be a whole number"),
    ],
)
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message):
        config(**env)
