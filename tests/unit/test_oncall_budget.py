import pytest

from bot.oncall.budget import MAX_CALLS_PER_COMMAND, CallBudget, CallBudgetExceeded, CountedPagerDuty, CountedSlack


class Recorder:
    """Stands in for a vendor client: records every call it receives."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def rget(self, path: str, **kwargs: object) -> dict:
        self.calls.append(path)
        return {"id": path}

    def conversations_info(self, **kwargs: object) -> dict:
        self.calls.append("conversations.info")
        return {"channel": {}}

    def usergroups_list(self, **kwargs: object) -> dict:
        self.calls.append("usergroups.list")
        return {"usergroups": []}

    def users_lookupByEmail(self, **kwargs: object) -> dict:
        self.calls.append("users.lookupByEmail")
        return {"user": {}}


def test_a_command_may_make_25_calls_and_the_26th_is_never_made():
    budget = CallBudget()
    pagerduty, slack = Recorder(), Recorder()
    counted_pd, counted_slack = CountedPagerDuty(pagerduty, budget), CountedSlack(slack, budget)
    for n in range(MAX_CALLS_PER_COMMAND - 3):
        counted_pd.rget(f"/schedules/P{n}")
    counted_slack.conversations_info(channel="C1")
    counted_slack.usergroups_list()
    counted_slack.users_lookupByEmail(email="a@b.example")
    assert budget.used == MAX_CALLS_PER_COMMAND == 25
    with pytest.raises(CallBudgetExceeded):
        counted_pd.rget("/schedules/PLAST")
    with pytest.raises(CallBudgetExceeded):
        counted_slack.conversations_info(channel="C2")
    assert "/schedules/PLAST" not in pagerduty.calls and slack.calls.count("conversations.info") == 1
    assert len(pagerduty.calls) + len(slack.calls) == 25


def test_require_refuses_a_known_need_before_any_call():
    budget = CallBudget(limit=5)
    budget.require(5)
    with pytest.raises(CallBudgetExceeded):
        budget.require(6)
    assert budget.used == 0
    budget.spend(4)
    with pytest.raises(CallBudgetExceeded):
        budget.require(2)
