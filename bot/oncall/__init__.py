"""On-call topics and usergroups follow PagerDuty; `/oncall` answers who is on call."""

create = None  # set to the service factory (runtime -> service) when the capability is built
