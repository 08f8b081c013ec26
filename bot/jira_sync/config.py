"""Jira sync settings, validated at startup (a bad value stops the bot with a one-line reason).

The Jira credentials and JIRA_PROJECT are core settings; the poller's (INCIDENT_*, PAGERDUTY_ACCOUNT_<NAME>) are
declared in `bot/incidents/config.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.config import parse_channel, parse_positive_int
from bot.settings import Setting, Settings, SettingsError, parse_text

DEFAULT_PRIORITY_MAP = "P1=Highest,P2=High,P3=Medium,P4=Low,P5=Lowest"
DEFAULT_TRANSITIONS = "acknowledged=In Progress,resolved=Done"
PD_STATUSES = ("triggered", "acknowledged", "resolved")


def parse_pairs(name: str, text: str) -> dict[str, str]:
    """`A=B,C=D` as a dict; raises SettingsError naming the setting."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        key, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or not key or not value:
            raise SettingsError(f"{name} must be comma-separated KEY=VALUE pairs, got {item!r}")
        pairs[key] = value
    return pairs


def parse_priorities(name: str, text: str) -> frozenset[str]:
    priorities = frozenset(p.strip() for p in text.split(",") if p.strip())
    if not priorities:
        raise SettingsError(f"{name} must name at least one PagerDuty priority, such as P1")
    return priorities


def parse_transitions(name: str, text: str) -> dict[str, str]:
    transitions = parse_pairs(name, text)
    unknown = [status for status in transitions if status not in PD_STATUSES]
    if unknown:
        raise SettingsError(f"{name} keys must be PagerDuty statuses ({', '.join(PD_STATUSES)}), got {unknown[0]!r}")
    return transitions


PRIORITIES = Setting(
    "JIRA_PRIORITIES",
    "P1",
    parse_priorities,
    "PagerDuty priorities that get a Jira issue, comma-separated",
    capability="jira_sync",
)
ISSUE_TYPE = Setting(
    "JIRA_ISSUE_TYPE", "Incident", parse_text, "Issue type of the created issues", capability="jira_sync"
)
PRIORITY_MAP = Setting(
    "JIRA_PRIORITY_MAP",
    DEFAULT_PRIORITY_MAP,
    parse_pairs,
    "PagerDuty → Jira priority (read backwards for Jira → PagerDuty; the first match wins)",
    capability="jira_sync",
)
TRANSITIONS = Setting(
    "JIRA_TRANSITIONS",
    DEFAULT_TRANSITIONS,
    parse_transitions,
    "PagerDuty status (triggered, acknowledged, resolved) → Jira transition name (or target status name)",
    capability="jira_sync",
)
NOTIFY_CHANNEL = Setting(
    "JIRA_NOTIFY_CHANNEL",
    None,
    parse_channel,
    "Channel ID where each new issue's link is posted",
    capability="jira_sync",
)
POLL_SECONDS = Setting(
    "JIRA_POLL_SECONDS", "60", parse_positive_int, "How often Jira is searched for changes", capability="jira_sync"
)
SETTINGS: tuple[Setting, ...] = (PRIORITIES, ISSUE_TYPE, PRIORITY_MAP, TRANSITIONS, NOTIFY_CHANNEL, POLL_SECONDS)


@dataclass(frozen=True)
class JiraConfig:
    project: str
    issue_type: str
    priorities: frozenset[str]  # PagerDuty priorities that get a Jira issue
    priority_map: dict[str, str]  # PagerDuty priority -> Jira priority
    transitions: dict[str, str]  # PagerDuty status -> Jira transition name
    notify_channel: str | None
    poll_seconds: int
    browse_url: str  # JIRA_URL + /browse/

    @property
    def reverse_priority_map(self) -> dict[str, str]:
        """Jira priority -> PagerDuty priority (the first PagerDuty priority mapped to it wins)."""
        reverse: dict[str, str] = {}
        for pd_name, jira_name in self.priority_map.items():
            reverse.setdefault(jira_name, pd_name)
        return reverse


def load(settings: Settings) -> JiraConfig:
    """Raises SettingsError naming the setting, so a bad value stops startup with one line."""
    return JiraConfig(
        project=str(settings.jira_project).strip().upper(),
        issue_type=settings.read(ISSUE_TYPE),
        priorities=settings.read(PRIORITIES),
        priority_map=settings.read(PRIORITY_MAP),
        transitions=settings.read(TRANSITIONS),
        notify_channel=settings.read(NOTIFY_CHANNEL),
        poll_seconds=settings.read(POLL_SECONDS),
        browse_url=f"{settings.jira_url}/browse/",
    )
