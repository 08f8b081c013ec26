"""Jira sync: P1 PagerDuty incidents become Jira issues; status and priority flow both ways."""

create = None  # set to the service factory (runtime -> service) when the capability is built
