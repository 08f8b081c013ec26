import pytest

from bot.jira_sync.config import load as load_jira_config
from bot.settings import SettingsError, load_settings

BASE = {"JIRA_PROJECT": "ops", "JIRA_URL": "https://acme.atlassian.net", "PAGERDUTY_API_TOKEN": "x"}


def config(**env: str):
    return load_jira_config(load_settings({**BASE, **env}, dotenv_path=None))


def test_defaults():
    loaded = config()
    assert loaded.project == "OPS" and loaded.issue_type == "Incident"
    assert loaded.priorities == frozenset({"P1"})
    assert loaded.priority_map == {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}
    assert loaded.transitions == {"acknowledged": "In Progress", "resolved": "Done"}
    assert loaded.reverse_priority_map["High"] == "P2"
    assert loaded.browse_url == "https://acme.atlassian.net/browse/"
    assert loaded.poll_seconds == 60 and loaded.notify_channel is None


def test_overrides():
    loaded = config(
        JIRA_PRIORITIES="P1, P2",
        JIRA_ISSUE_TYPE="Bug",
        JIRA_PRIORITY_MAP="P1=Blocker,P2=Blocker,P3=Major",
        JIRA_TRANSITIONS="triggered=Reopen,resolved=Close",
        JIRA_NOTIFY_CHANNEL="C0INC",
        JIRA_POLL_SECONDS="30",
    )
    assert loaded.priorities == frozenset({"P1", "P2"}) and loaded.issue_type == "Bug"
    assert loaded.reverse_priority_map == {"Blocker": "P1", "Major": "P3"}
    assert loaded.transitions == {"triggered": "Reopen", "resolved": "Close"}
    assert loaded.notify_channel == "C0INC" and loaded.poll_seconds == 30


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JIRA_PRIORITY_MAP": "P1:Highest"}, "JIRA_PRIORITY_MAP must be comma-separated KEY=VALUE pairs"),
        ({"JIRA_TRANSITIONS": "closed=Done"}, "JIRA_TRANSITIONS keys must be PagerDuty statuses"),
        ({"JIRA_PRIORITIES": " , "}, "JIRA_PRIORITIES must name at least one"),
        ({"JIRA_NOTIFY_CHANNEL": "incidents"}, "JIRA_NOTIFY_CHANNEL must be a Slack channel ID"),
        ({"JIRA_POLL_SECONDS": "1m"}, "JIRA_POLL_SECONDS must be a whole number"),
    ],
)
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError, match=message):
        config(**env)
