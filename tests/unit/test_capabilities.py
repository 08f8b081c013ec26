from bot.settings import load_settings
from bot.wiring import SPECS, capability_states, spec


def test_a_capability_says_why_it_is_not_running():
    off = load_settings({"SLACK_BOT_TOKEN": "x", "SLACK_APP_TOKEN": "y"}, dotenv_path=None)
    state = spec("oncall").state(off)
    assert (state.running, state.why) == (False, "off, missing PAGERDUTY_API_TOKEN")
    assert state.missing == ("PAGERDUTY_API_TOKEN",)
    assert spec("oncall").off_message(off) == (
        "On-call topics and usergroups is off in this Switchboard: set PAGERDUTY_API_TOKEN and restart it."
    )
    on = spec("oncall").state(load_settings({"PAGERDUTY_API_TOKEN": "pd"}, dotenv_path=None))
    assert (on.running, on.why) == (True, "on")


def test_capabilities_report_missing_names():
    states = {s.name: s for s in capability_states(load_settings({"PAGERDUTY_API_TOKEN": "pd"}, dotenv_path=None))}
    assert states["oncall"].running
    assert not states["dispatch"].running
    assert states["dispatch"].missing == ("GITHUB_TOKEN", "GITHUB_REPO", "PAGERDUTY_FROM_EMAIL")
    assert states["jira_sync"].missing[:2] == ("PAGERDUTY_FROM_EMAIL", "JIRA_URL")


def test_every_capability_has_one_spec_of_one_shape():
    assert [s.name for s in SPECS] == ["oncall", "dispatch", "support", "statuspage", "jira_sync"]
    for capability in SPECS:
        assert capability.title and capability.needs and capability.migrations
        assert all(command.name.startswith("/") for command in capability.commands)
