"""The on-call notice after a new ticket: primary and secondary of one PagerDuty escalation policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OnCallPerson:
    user_id: str
    name: str
    email: str | None


def people_on_call(oncalls: list[dict[str, Any]]) -> list[OnCallPerson]:
    """Distinct people ordered by escalation level (several schedules on one level repeat people)."""
    ordered = sorted(oncalls, key=lambda entry: int(entry.get("escalation_level") or 99))
    people: dict[str, OnCallPerson] = {}
    for entry in ordered:
        user = entry.get("user") or {}
        user_id = str(user.get("id") or "")
        if user_id and user_id not in people:
            name = str(user.get("name") or user.get("summary") or user_id)
            people[user_id] = OnCallPerson(user_id, name, user.get("email"))
    return list(people.values())


def oncall_notice(people: list[OnCallPerson], render: Callable[[OnCallPerson], str]) -> str:
    """`📧 Primary on call: …\\nℹ️ Secondary on call: ….` — coping with nobody or only one person."""
    if not people:
        return "📧 Nobody is on call for support right now."
    primary = f"📧 Primary on call: {render(people[0])}"
    if len(people) == 1:
        return primary + "."
    return f"{primary}\nℹ️ Secondary on call: {render(people[1])}."


def fetch_oncalls(client: Any, policy_id: str) -> list[dict[str, Any]]:
    """Every current on-call entry of the policy, users included (their emails map them to Slack)."""
    params = {"escalation_policy_ids[]": [policy_id], "include[]": ["users"]}
    return list(client.iter_all("oncalls", params=params))
