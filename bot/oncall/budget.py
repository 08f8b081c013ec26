"""How many PagerDuty and Slack calls one `/oncall` command may make, counted where it makes them.

The PagerDuty token's rate limit and Slack's per-method tiers are shared by the whole bot, and a command runs on one
of the few worker threads that also serve support messages and button clicks: one command must not spend them.
A command gets a `CallBudget`; the clients it reads through (`CountedPagerDuty`, `CountedSlack`) take one call from
it before each request and raise `CallBudgetExceeded` instead of making the call that would pass the limit.
Cached answers (a Slack user already looked up) cost nothing, because no request is made.
"""

from __future__ import annotations

from typing import Any

MAX_CALLS_PER_COMMAND = 25


class CallBudgetExceeded(Exception):
    """The command would make more vendor calls than its budget allows; it stops before making that call."""


class CallBudget:
    def __init__(self, limit: int = MAX_CALLS_PER_COMMAND):
        self.limit = limit
        self.used = 0

    def require(self, calls: int) -> None:
        """Stop at once when the command already knows it needs more calls than it has left."""
        if self.used + calls > self.limit:
            raise CallBudgetExceeded(f"{self.used} + {calls} calls > {self.limit}")

    def spend(self, calls: int = 1) -> None:
        self.require(calls)
        self.used += calls


class CountedPagerDuty:
    """The PagerDuty REST client as a command uses it (`rget` only), one call from the budget per request."""

    def __init__(self, client: Any, budget: CallBudget):
        self.client = client
        self.budget = budget

    def rget(self, path: str, **kwargs: Any) -> Any:
        self.budget.spend()
        return self.client.rget(path, **kwargs)


class CountedSlack:
    """The Slack Web API methods a command reads with, one call from the budget per request."""

    def __init__(self, slack: Any, budget: CallBudget):
        self.slack = slack
        self.budget = budget

    def conversations_info(self, **kwargs: Any) -> Any:
        self.budget.spend()
        return self.slack.conversations_info(**kwargs)

    def usergroups_list(self, **kwargs: Any) -> Any:
        self.budget.spend()
        return self.slack.usergroups_list(**kwargs)

    def users_lookupByEmail(self, **kwargs: Any) -> Any:  # the Slack SDK's method name
        self.budget.spend()
        return self.slack.users_lookupByEmail(**kwargs)
