"""PagerDuty REST API v2 and Events API v2 fake, served over loopback TLS (the `pagerduty` client is https-only).

State mirrors the real account: users, schedules (explicit shifts plus overrides), escalation policies, services,
priorities, incidents with alerts, notes and log entries. On-call answers are computed from the fake's clock
(`now()`, moved with `advance()`), so tests can step across a hand-off without sleeping.

Modules: `fake` assembles `PagerDutyFake`; `model` (records and time arithmetic), `state` (the account's tables),
`oncall` (final schedules and who is on call), `lifecycle` (what happens to an incident), `render` and
`render_incidents` (PagerDuty's JSON), `auth` (tokens and the `From` rule), `errors`, `events_api`, and one REST
module per resource in `rest/`; `seeding`, `responders` and `inspection` are the API tests drive the fake with.
"""

from sandbox.fakes.pagerduty.fake import PagerDutyFake

__all__ = ["PagerDutyFake"]
