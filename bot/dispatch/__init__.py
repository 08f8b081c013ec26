"""Alarm dispatch: MESSAGE-SPEC alarms become DMs, Yes/No confirmations, GitHub audit issues and PagerDuty pages."""

create = None  # set to the service factory (runtime -> service) when the capability is built
