"""Jira sync settings, validated at startup (a bad value stops the bot with a one-line reason)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents.config import positive_int, slack_channel
from bot.settings import Settings, SettingsError

DEFAULT_PRIORITY_MAP = "P1=Highest,P2=High,P3=Medium,P4=Low,P5=Lowest"
DEFAULT_TRANSITIONS = "acknowledged=In Progress,resolved=Done"
PD_STATUSES = ("triggered", "acknowledged", "resolved")


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


def parse_pairs(name: str, text: str) -> dict[str, str]:
    """`A=B,C=D` as a dict; raises SettingsError naming the setting."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        key, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or not key or not value:
            raise SettingsError(f"{name} must be comma-separated KEY=VALUE pairs, got {item!r}")
        pairs[key] = value
    return pairs


def load_jira_config(settings: Settings) -> JiraConfig:
    priorities = frozenset(p.strip() for p in (settings.get("JIRA_PRIORITIES", "P1") or "P1").split(",") if p.strip())
    if not priorities:
        raise SettingsError("JIRA_PRIORITIES must name at least one PagerDuty priority, such as P1")
    priority_map = parse_pairs("JIRA_PRIORITY_MAP", settings.get("JIRA_PRIORITY_MAP", DEFAULT_PRIORITY_MAP) or "")
    transitions = parse_pairs("JIRA_TRANSITIONS", settings.get("JIRA_TRANSITIONS", DEFAULT_TRANSITIONS) or "")
    unknown = [status for status in transitions if status not in PD_STATUSES]
    if unknown:
        raise SettingsError(
            f"JIRA_TRANSITIONS keys must be PagerDuty statuses ({', '.join(PD_STATUSES)}), got {unknown[0]!r}"
        )
    project = str(settings.jira_project).strip().upper()
    return JiraConfig(
        project=project,
        issue_type=(settings.get("JIRA_ISSUE_TYPE", "Incident") or "Incident").strip(),
        priorities=priorities,
        priority_map=priority_map,
        transitions=transitions,
        notify_channel=slack_channel(settings, "JIRA_NOTIFY_CHANNEL"),
        poll_seconds=positive_int(settings, "JIRA_POLL_SECONDS", 60),
        browse_url=f"{settings.jira_url}/browse/",
    )
