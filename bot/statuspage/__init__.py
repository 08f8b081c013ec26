"""Status page: PagerDuty incidents tagged with a component drive Statuspage incidents."""

create = None  # set to the service factory (runtime -> service) when the capability is built
