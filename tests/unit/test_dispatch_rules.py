"""Dispatch's pure decisions: first steps, how an alert ends once its messages are out, who may answer or use
/dispatch, and what an answer or a timeout leads to."""

from __future__ import annotations

import pytest

from bot.dispatch import rules
from bot.dispatch.message_spec import BROADCAST, HIGH, LOW, NAG, SELF_SERVICE


def test_types_with_an_audit_issue_start_there_and_high_priority_pages_at_once():
    assert rules.first_step(SELF_SERVICE) == ("dispatch.issue", {})
    assert rules.first_step(LOW) == ("dispatch.issue", {})
    assert rules.first_step(HIGH) == ("dispatch.page", {"reason": "high"})


def test_after_the_issue_low_priority_is_done_and_every_other_type_messages_people():
    assert rules.state_after_issue(LOW) == rules.FILED
    assert rules.state_after_failed_issue(LOW) == rules.FAILED
    for kind in (SELF_SERVICE, BROADCAST, NAG):
        assert rules.state_after_issue(kind) == rules.state_after_failed_issue(kind) == rules.NOTIFYING
    assert rules.reuses_existing_issue(NAG) and not rules.reuses_existing_issue(BROADCAST)


@pytest.mark.parametrize(
    ("kind", "has_prompt", "deliveries", "ending"),
    [
        (BROADCAST, False, [("sent", "U1"), ("pending", "U2")], None),
        (BROADCAST, False, [("sent", "U1"), ("sent", "U2")], (rules.NOTIFIED, None)),
        (BROADCAST, False, [("sent", "U1"), ("failed", "U2")], (rules.NOTIFIED, "1 of 2 delivered")),
        (BROADCAST, False, [("failed", "U1")], (rules.FAILED, "0 of 1 delivered")),
        (SELF_SERVICE, True, [("sent", "U1")], None),  # the prompt is on its way
        (SELF_SERVICE, True, [("failed", "U1")], (rules.FAILED, "could not message the user")),
        (SELF_SERVICE, True, [("sent", None)], (rules.NOTIFIED, "no prompt: users[0] has no Slack user ID")),
    ],
)
def test_an_alert_settles_once_no_message_is_pending(kind, has_prompt, deliveries, ending):
    assert rules.settled(kind, has_prompt, deliveries) == ending


def test_yes_closes_and_no_or_silence_escalates():
    assert rules.state_after_answer(rules.YES) == rules.CLOSING
    assert rules.state_after_answer(rules.NO) == rules.state_after_answer(rules.NO_RESPONSE) == rules.ESCALATING
    assert rules.answer_deadlines(100.0, 60.0) == (130.0, 160.0)
    assert rules.escalation_due(160.0, 160.0) and not rules.escalation_due(160.0, 130.0)
    assert rules.is_answerable(rules.NOTIFYING) and not rules.is_answerable(rules.CLOSING)


def test_only_the_addressee_or_an_admin_may_answer_and_admins_are_asked_only_when_needed():
    asked: list[str] = []

    def is_admin(user: str) -> bool:
        asked.append(user)
        return user == "U0ADMIN"

    assert rules.may_answer("U0BOB", "U0BOB", is_admin) and asked == []
    assert rules.may_answer("U0ADMIN", "U0BOB", is_admin)
    assert not rules.may_answer("U0EVE", "U0BOB", is_admin)


def test_dispatch_users_are_listed_users_members_of_listed_groups_or_admins():
    def members(group: str) -> frozenset[str]:
        return frozenset({"U0CAROL"}) if group == "S0TEAM" else frozenset()

    def nobody_is_admin(user: str) -> bool:
        return False

    allowed = ("U0BOB", "S0TEAM")
    assert rules.may_use("U0EVE", (), nobody_is_admin, members)
    assert rules.may_use("U0BOB", allowed, nobody_is_admin, members)
    assert rules.may_use("U0CAROL", allowed, nobody_is_admin, members)
    assert not rules.may_use("U0EVE", allowed, nobody_is_admin, members)
    assert rules.may_use("U0EVE", allowed, lambda user: True, members)


def test_page_outcomes_say_why_and_whether_the_incident_was_already_open():
    assert rules.page_outcome("high", already_open=False) == "paged"
    already = rules.page_outcome(rules.NO_RESPONSE, already_open=True)
    assert already == "escalated: no response (incident was already open)"
