"""Properties of the MESSAGE-SPEC parser: any body (bytes, text, JSON of any shape) gives a routable Message or
InvalidMessage listing the problems, never another exception; a Message survives its JSON round trip."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dispatch.message_spec import (
    MAX_BUTTON,
    MAX_REQUEST_ID,
    MAX_SECTION,
    MAX_SLACK_TEXT,
    MAX_TITLE,
    TYPES,
    Defaults,
    InvalidMessage,
    Message,
    parse_message,
)
from tests.property.shapes import JSON_SHAPES, KB
from tests.property.strategies import PROPERTY, any_text

FULL = Defaults("acme/alerts", github_user="acme/security", default_channel="C0ALERTS", pagerduty_service="PDEF")
BARE = Defaults("acme/alerts")
defaults = st.sampled_from([FULL, BARE])
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """A field as producers send it: the expected kind of value, something else, or left out (None)."""
    return st.one_of(st.none(), strategy, strategy, json_value)


text_field = st.one_of(any_text, st.sampled_from(["", "  ", "x" * (MAX_TITLE + 1), "x" * (MAX_BUTTON + 1)]))
user = st.fixed_dictionaries(
    {},
    optional={
        "slackId": maybe(st.sampled_from(["U0ALICE", "W0BOB", " U0ALICE ", "alice", "U1"])),
        "slack": maybe(st.sampled_from(["alice", "@bob"]) | any_text),
        "github": maybe(st.sampled_from(["octocat", "@octocat", "acme/oncall", "-bad", "x" * 50]) | any_text),
    },
)
message_shaped = st.fixed_dictionaries(
    {"type": maybe(st.sampled_from([*TYPES, "high", "unknown"]))},
    optional={
        "requestId": maybe(st.sampled_from(["r1", "r\n1", "x" * (MAX_REQUEST_ID + 1)]) | any_text),
        "retrigger": maybe(st.booleans()),
        "githubRepo": maybe(st.sampled_from(["alerts", "org/repo", "a b", "../x"]) | any_text),
        "gitHubRepo": maybe(st.sampled_from(["alerts", "other"])),
        "pagerDutyServiceId": maybe(st.sampled_from(["PABC123", "P", "PABC 123"]) | any_text),
        "users": maybe(st.lists(maybe(user), max_size=4)),
        "body": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "github": maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "title": maybe(text_field),
                                "body": maybe(text_field),
                                "labels": maybe(st.lists(maybe(text_field), max_size=3)),
                                "label": maybe(text_field),
                            },
                        )
                    ),
                    "slack": maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "message": maybe(text_field),
                                "prompt": maybe(text_field),
                                "actions": maybe(
                                    st.fixed_dictionaries(
                                        {},
                                        optional={
                                            key: maybe(text_field)
                                            for key in ("yes", "no", "yes_response", "no_response")
                                        },
                                    )
                                ),
                            },
                        )
                    ),
                    "pagerduty": maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "title": maybe(text_field),
                                "body": maybe(text_field),
                                "service": maybe(text_field),
                            },
                        )
                    ),
                },
            )
        ),
    },
)
"""Objects shaped like a Dispatch message, each field right, wrong or missing, so most reach deep validation."""


Body = str | bytes | Mapping[str, Any]


def read(raw: Body, given_defaults: Defaults) -> Message | InvalidMessage:
    """The message, or the documented error; any other exception fails the test."""
    try:
        return parse_message(raw, given_defaults, lambda: "generated01")
    except InvalidMessage as error:
        return error


def assert_well_formed(outcome: Message | InvalidMessage) -> None:
    if isinstance(outcome, InvalidMessage):
        assert outcome.errors and all(isinstance(error, str) and error for error in outcome.errors)
        assert str(outcome) == "; ".join(outcome.errors)
        return
    assert outcome.type in TYPES
    assert outcome.request_id and len(outcome.request_id) <= MAX_REQUEST_ID
    assert not CONTROL.search(outcome.request_id)
    assert len(outcome.github_title) <= MAX_TITLE and len(outcome.slack_message) <= MAX_SLACK_TEXT
    assert len(outcome.yes_label) <= MAX_BUTTON and len(outcome.no_label) <= MAX_BUTTON
    assert all(len(text or "") <= MAX_SECTION for text in (outcome.prompt, outcome.yes_response, outcome.no_response))
    assert len(set(outcome.labels)) == len(outcome.labels)
    slack_ids = [recipient.slack_id for recipient in outcome.recipients if recipient.slack_id]
    assert len(set(slack_ids)) == len(slack_ids), "each recipient once"
    assert Message.from_json(outcome.to_json()) == outcome


def assert_deterministic(raw: Body, given_defaults: Defaults, outcome: Message | InvalidMessage) -> None:
    again = read(raw, given_defaults)
    assert type(again) is type(outcome)
    if isinstance(outcome, Message):
        assert again == outcome and again.warnings == outcome.warnings
    else:
        assert again.errors == outcome.errors


@PROPERTY
@given(st.binary(max_size=300) | st.text(max_size=300), defaults)
def test_any_body_gives_a_message_or_the_documented_error(raw, given_defaults):
    outcome = read(raw, given_defaults)
    assert_well_formed(outcome)
    assert_deterministic(raw, given_defaults, outcome)


@PROPERTY
@given(json_value, defaults)
def test_any_json_gives_a_message_or_the_documented_error(value, given_defaults):
    raw = json.dumps(value)
    outcome = read(raw, given_defaults)
    assert_well_formed(outcome)
    assert_deterministic(raw, given_defaults, outcome)


@PROPERTY
@given(message_shaped, defaults, st.sampled_from(["text", "bytes", "object"]))
def test_message_shaped_objects_give_a_message_or_every_problem(value, given_defaults, form):
    raw = {"text": json.dumps(value), "bytes": json.dumps(value).encode(), "object": value}[form]
    outcome = read(raw, given_defaults)
    assert_well_formed(outcome)
    assert_deterministic(raw, given_defaults, outcome)
    assert type(read(json.dumps(value), given_defaults)) is type(outcome), "the same answer in every form"


# Nested deeper than the interpreter's recursion limit (about 1,000 levels): their own test below.
DEEP_NAMES = ("deep arrays", "deep objects", "unclosed arrays")
SAFE_SHAPES = {name: shape for name, shape in JSON_SHAPES.items() if name not in DEEP_NAMES}
DEEP_SHAPES = {name: JSON_SHAPES[name] for name in DEEP_NAMES}


@pytest.mark.parametrize("shape", SAFE_SHAPES.values(), ids=SAFE_SHAPES.keys())
@pytest.mark.parametrize("given_defaults", [FULL, BARE], ids=["defaults", "no defaults"])
def test_40_kB_adversarial_json_gives_a_message_or_the_documented_error(shape, given_defaults):
    raw = shape(40 * KB)
    outcome = read(raw, given_defaults)
    assert_well_formed(outcome)
    assert_well_formed(read(raw.encode(), given_defaults))


@pytest.mark.parametrize("shape", DEEP_SHAPES.values(), ids=DEEP_SHAPES.keys())
def test_40_kB_deeply_nested_json_gives_the_documented_error(shape):
    assert_well_formed(read(shape(40 * KB), FULL))
