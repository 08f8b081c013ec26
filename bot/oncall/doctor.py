"""On-call's doctor: problems in the links it can see, each with its fix.

- a PagerDuty user on a linked schedule (on call now or within the next week) whom Slack does not know by email,
  or whose Slack account is deactivated: topics show a plain name, usergroups leave them out, no hand-off DM;
- a PagerDuty user deactivated in PagerDuty but still on a linked schedule;
- a linked schedule PagerDuty does not know;
- a linked channel the bot is not in (`conversations.info` `is_member`): its topic cannot be written.
Cheap reads: the sync's own (one batched `GET /oncalls` over the week, cached emails), `users.lookupByEmail` for
the people not already known (cached), one `conversations.info` per linked channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.capability import Finding
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.doctor import channel_problems
from bot.identity import SlackDirectory
from bot.oncall import rules
from bot.oncall.links import Link, load_links
from bot.oncall.reader import OnCallReader
from bot.oncall.roster import OnCall
from bot.oncall.topic import join_names
from bot.store import Store
from bot.text import escape

TITLE = "On-call topics and usergroups"  # the capability's title, as its findings are listed under
WINDOW_SECONDS = 7 * 86400.0  # the people on call now and within the next week
NO_MATCH_FIX = (
    "use the same email address in PagerDuty and in Slack (change it in their PagerDuty profile), so topics can "
    "mention them, usergroups include them and hand-off DMs reach them"
)
DEACTIVATED_IN_SLACK_FIX = "take them off the schedule in PagerDuty, or reactivate their Slack account"
DEACTIVATED_IN_PAGERDUTY_FIX = "take them off the schedule in PagerDuty (topics show them as a deactivated user)"


@dataclass
class Person:
    """One PagerDuty user met on linked schedules, with the schedules (display names) they are on."""

    on_call: OnCall
    schedules: list[str] = field(default_factory=list)


def people_on(spans: dict[str, list[OnCall]], names: dict[str, str]) -> list[Person]:
    """Every PagerDuty user of these schedules once, in schedule order."""
    people: dict[str, Person] = {}
    for sid, shifts in spans.items():
        for shift in shifts:
            person = people.setdefault(shift.user_id, Person(shift))
            if names[sid] not in person.schedules:
                person.schedules.append(names[sid])
    return list(people.values())


class OncallDoctor:
    def __init__(
        self,
        store: Store,
        reader: OnCallReader,
        directory: SlackDirectory,
        slack: WebClient,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.reader = reader
        self.directory = directory
        self.slack = slack
        self.clock = clock

    def findings(self) -> list[Finding]:
        links = load_links(self.store)
        if not links:
            return []
        return self.schedule_problems(links) + self.channel_problems(links)

    def schedule_problems(self, links: list[Link]) -> list[Finding]:
        now = self.clock()
        meta = self.reader.schedule_meta(rules.linked_schedules(links), now)
        findings = [
            Finding(
                TITLE,
                f"linked schedule `{escape(sid)}` is not in PagerDuty",
                f"`/oncall unlink {escape(sid)}` in its channels, or link the schedule that replaced it",
            )
            for sid, m in meta.items()
            if m["missing"]
        ]
        spans, _, _ = self.reader.read_oncall(meta, now, now + WINDOW_SECONDS)
        for person in people_on(spans, rules.display_names(links, meta)):
            finding = self.person_problem(person)
            if finding is not None:
                findings.append(finding)
        return findings

    def person_problem(self, person: Person) -> Finding | None:
        who, on = person.on_call, join_names(person.schedules)
        name = escape(who.name)
        if who.deactivated:
            return Finding(TITLE, f"{name}, deactivated in PagerDuty, is still on {on}", DEACTIVATED_IN_PAGERDUTY_FIX)
        if not who.email:
            return Finding(TITLE, f"PagerDuty user {name} on {on} has no email to find in Slack", NO_MATCH_FIX)
        if self.directory.lookup(who.email).found:
            return None
        email = escape(who.email)
        if self.deactivated_in_slack(who.email):
            problem = f"PagerDuty user {name} ({email}) on {on} is deactivated in Slack"
            return Finding(TITLE, problem, DEACTIVATED_IN_SLACK_FIX)
        return Finding(TITLE, f"PagerDuty user {name} ({email}) on {on} has no Slack account", NO_MATCH_FIX)

    def deactivated_in_slack(self, email: str) -> bool:
        """The directory counts a deactivated account as not found; ask Slack which of the two it is."""
        try:
            return bool(self.slack.users_lookupByEmail(email=email)["user"].get("deleted"))
        except SlackApiError as error:
            if slack_error(error) == "users_not_found":
                return False
            raise

    def channel_problems(self, links: list[Link]) -> list[Finding]:
        channels = list(dict.fromkeys(c for lnk in links for c in lnk.channels))
        return channel_problems(self.slack, TITLE, channels, "linked to an on-call schedule")
