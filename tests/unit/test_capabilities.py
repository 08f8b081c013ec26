from bot import capabilities
from bot.settings import load_settings


def test_describe_says_why_a_capability_is_not_running(monkeypatch):
    settings = load_settings({"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y"}, dotenv_path=None)
    oncall = settings.capability("oncall")
    monkeypatch.delitem(capabilities.FACTORIES, "oncall", raising=False)
    assert capabilities.describe(oncall) == (False, "not part of this version yet")
    monkeypatch.setitem(capabilities.FACTORIES, "oncall", lambda runtime: None)
    assert capabilities.describe(oncall) == (False, "off, missing PAGERDUTY_API_TOKEN")
    configured = load_settings({"PAGERDUTY_API_TOKEN": "pd"}, dotenv_path=None).capability("oncall")
    assert capabilities.describe(configured) == (True, "on")
