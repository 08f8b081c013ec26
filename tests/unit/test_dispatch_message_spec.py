"""MESSAGE-SPEC parsing: every field, the original's aliases and defaults, and every problem named by its path."""

from __future__ import annotations

import json

import pytest

from bot.dispatch.audit_texts import issue_body
from bot.dispatch.message_spec import Defaults, InvalidMessage, Message, Recipient, parse_message

DEFAULTS = Defaults("acme/alerts", github_user="acme/security", default_channel="#alerts", pagerduty_service="PDEF")
BARE = Defaults("acme/alerts")


def errors_of(raw: object, defaults: Defaults = DEFAULTS) -> list[str]:
    with pytest.raises(InvalidMessage) as caught:
        parse_message(raw if isinstance(raw, str | bytes) else json.dumps(raw), defaults)
    return caught.value.errors


def self_service(**extra: object) -> dict:
    message = {
        "type": "self-service",
        "requestId": "r1",
        "users": [{"slack": "bob", "slackId": "U0BOB", "github": "bob", "google": "ignored"}],
        "body": {
            "github": {"title": "T", "body": "B", "labels": ["a", "b"]},
            "slack": {"message": "M", "prompt": "P?", "actions": {"yes": "Y", "no": "N", "yes_response": "ok"}},
        },
    }
    message.update(extra)
    return message


def test_a_full_self_service_message():
    message = parse_message(json.dumps(self_service()), DEFAULTS)
    assert message.type == message.requested_type == "self-service"
    assert message.request_id == "r1" and message.repo == "acme/alerts" and message.pagerduty_service == "PDEF"
    assert message.recipients == (Recipient("U0BOB", "bob", "bob"),)
    assert (message.github_title, message.github_body, message.labels) == ("T", "B", ("a", "b"))
    assert (message.slack_message, message.prompt, message.yes_label, message.no_label) == ("M", "P?", "Y", "N")
    assert (message.yes_response, message.no_response, message.retrigger) == ("ok", None, True)
    assert Message.from_json(message.to_json()) == message


def test_aliases_and_defaults_of_the_original():
    high = parse_message({"type": "high", "body": {"pagerduty": {"title": "Down"}}}, DEFAULTS, lambda: "abcdef012345")
    assert (high.type, high.requested_type, high.request_id) == ("high-priority", "high", "abcdef012345")
    assert parse_message(self_service(gitHubRepo="other"), DEFAULTS).repo == "acme/other"
    assert parse_message(self_service(githubRepo="org/repo"), DEFAULTS).repo == "org/repo"
    legacy = self_service()
    legacy["body"]["github"]["label"] = "legacy"
    assert parse_message(legacy, DEFAULTS).labels == ("a", "b", "legacy")
    no_users = parse_message({**self_service(), "users": []}, DEFAULTS)
    assert no_users.recipients == (Recipient(None, None, "acme/security"),)  # both defaults, as the original
    assert parse_message(self_service(retrigger=False), DEFAULTS).retrigger is False


def test_an_unknown_type_is_high_priority_with_a_warning():
    message = parse_message({"type": "critical", "body": {"pagerduty": {"title": "X"}}}, DEFAULTS)
    assert (message.type, message.requested_type) == ("high-priority", "critical")
    assert message.warnings == ("type 'critical' is not recognized; routed as high-priority to PagerDuty",)
    assert errors_of({"type": "whatever"}) == ["body.pagerduty.title is required for high-priority"]


def test_the_pagerduty_service_comes_from_the_body_then_the_message_then_the_default():
    base = {"type": "high-priority", "body": {"pagerduty": {"title": "X"}}}
    assert parse_message(base, DEFAULTS).pagerduty_service == "PDEF"
    assert parse_message({**base, "pagerDutyServiceId": "PMSG"}, DEFAULTS).pagerduty_service == "PMSG"
    named = {**base, "pagerDutyServiceId": "PMSG", "body": {"pagerduty": {"title": "X", "service": "PBODY"}}}
    assert parse_message(named, DEFAULTS).pagerduty_service == "PBODY"  # the original ignored this field
    assert errors_of(base, BARE) == ["pagerDutyServiceId is required: PAGERDUTY_SERVICE_ID is not set"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{", ["message is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"]),
        (b"\xff", ["message is not UTF-8 text"]),
        ("[]", ["message must be a JSON object, got list"]),
        ("{}", ["type is required (one of self-service, broadcast, high-priority, low-priority, nag)"]),
        ('{"type": 3}', ["type must be a string (one of self-service, broadcast, high-priority, low-priority, nag)"]),
    ],
)
def test_envelope_errors(raw, expected):
    assert errors_of(raw) == expected


def test_every_problem_is_listed_by_path():
    bad = {
        "type": "self-service",
        "requestId": "",
        "retrigger": "yes",
        "githubRepo": "not a repo",
        "users": [{"slackId": "bob", "github": "@"}, "carol"],
        "body": {"github": {"title": "x" * 300, "labels": "a"}, "slack": {"actions": {"yes": "y" * 80}}},
    }
    assert errors_of(bad, BARE) == [
        "requestId must be a non-empty string without control characters",
        "retrigger must be true or false",
        "githubRepo must be a repository name or owner/name such as alerts, got 'not a repo'",
        "users[0].slackId must be a Slack user ID such as U012AB3CD, got 'bob'",
        "users[0].github must be a GitHub login without @, got '@'",
        "users[0].slackId is required: SLACK_DEFAULT_CHANNEL is not set",
        "users[1] must be an object",
        "body.github.title must be at most 256 characters (it has 300)",
        "body.github.body is required for self-service",
        "body.github.labels must be an array of label names",
        "body.slack.message is required for self-service",
        "body.slack.prompt is required for self-service",
        "body.slack.actions.yes must be at most 75 characters (it has 80)",
        "body.slack.actions.no is required for self-service",
        "pagerDutyServiceId is required for self-service (a No answer escalates): PAGERDUTY_SERVICE_ID is not set",
    ]


def test_structure_errors_and_repo_disagreement():
    assert errors_of({"type": "broadcast", "users": {}, "body": []}) == [
        "body must be an object",
        "users must be an array",
        "body.github.title is required for broadcast",
        "body.github.body is required for broadcast",
        "body.slack.message is required for broadcast",
    ]
    message = self_service(githubRepo="a", gitHubRepo="b")
    assert errors_of(message) == ["githubRepo and gitHubRepo name different repositories; send one of them"]


def test_users_without_slack_id_need_a_default_channel_only_when_someone_is_messaged():
    assert "users is required" in errors_of({**self_service(), "users": None}, BARE)[0]
    low = {"type": "low-priority", "body": {"github": {"title": "T", "body": "B"}}}
    assert parse_message(low, BARE).recipients == ()


def test_self_service_asks_only_the_first_user_and_duplicates_get_one_message():
    two = self_service(users=[{"slackId": "U0BOB"}, {"slackId": "U0CAROL"}])
    message = parse_message(two, DEFAULTS)
    assert [r.slack_id for r in message.recipients] == ["U0BOB"]
    assert message.warnings == ("self-service asks only users[0]; the other users are ignored",)
    twice = {
        "type": "broadcast",
        "users": [{"slackId": "U0BOB"}, {"slackId": "U0BOB"}, {"slack": "x"}, {"slack": "y"}],
        "body": {"github": {"title": "T", "body": "B"}, "slack": {"message": "M"}},
    }
    parsed = parse_message(twice, DEFAULTS)
    assert [r.listed_as for r in parsed.recipients] == ["U0BOB", "x", "y"]
    assert parsed.warnings == ("users lists U0BOB more than once; they get one message",)


def test_issue_bodies_as_the_original_wrote_them():
    ss = parse_message(self_service(), DEFAULTS)
    assert issue_body(ss) == "B \n\n @bob"
    users = [{"slack": "carol", "slackId": "U0CAROL"}, {"slackId": "U0DAVE"}]
    bc = parse_message(
        {
            "type": "broadcast",
            "users": users,
            "body": {"github": {"title": "T", "body": "B"}, "slack": {"message": "M"}},
        },
        DEFAULTS,
    )
    assert issue_body(bc) == "B \n\n ```\ncarol, U0DAVE\n```"
    nag = parse_message(
        {"type": "nag", "users": users, "body": {"github": {"title": "T", "body": "B"}, "slack": {"message": "M"}}},
        DEFAULTS,
    )
    assert issue_body(nag) == "B"
    low = parse_message({"type": "low-priority", "body": {"github": {"title": "T", "body": "B"}}}, DEFAULTS)
    assert issue_body(low) == "B \n\n @acme/security"
    untagged = parse_message({"type": "low-priority", "body": {"github": {"title": "T", "body": "B"}}}, BARE)
    assert issue_body(untagged) == "B"
