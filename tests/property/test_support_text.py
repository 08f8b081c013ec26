"""Properties of the support desk's text converters: a Zendesk comment (written by anyone who can email the desk)
becomes Slack text with no broadcast, mention or misleading link; Slack text becomes plain text for Zendesk that
reads back what was written."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.support.text import comment_from_slack, markdown_to_mrkdwn, slack_to_plain, zendesk_to_slack
from bot.text import escape
from tests.property.shapes import KB, TEXT_SHAPES
from tests.property.strategies import (
    BROADCAST_TOKENS,
    PROPERTY,
    SAFE_TARGET,
    any_text,
    misleading_labels,
    slack_tokens,
)

TICKET_URL = "https://acme.zendesk.com/agent/tickets/7"
BROADCAST_WORD = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
ticket_url = st.sampled_from([TICKET_URL, "https://acme.zendesk.com/agent/tickets/7?a=1&b=<!here>"]) | any_text
files = st.lists(
    st.fixed_dictionaries({}, optional={"name": any_text, "permalink": any_text}),
    max_size=3,
)


def name_of(user_id: str) -> str:
    return f"Name of {user_id}"


def assert_safe_for_slack(text: str, original: str) -> None:
    """Only links to http(s)/mailto targets, none with a misleading label; everything else plain."""
    assert not any(token in text for token in BROADCAST_TOKENS)
    for token in slack_tokens(text):
        target = token.partition("|")[0]
        assert SAFE_TARGET.fullmatch(target), f"<{token}> is not a link to a safe target"
    assert misleading_labels(text) == []
    outside = re.sub(r"<[^<>]*>", " ", text)
    assert "<" not in outside and ">" not in outside
    assert not BROADCAST_WORD.search(outside)
    for marker in ("\x00", "\x01"):  # control characters a converter might use as its own markers never leak
        assert text.count(marker) <= original.count(marker)


@PROPERTY
@given(any_text, ticket_url, st.none() | st.integers(min_value=0, max_value=300) | st.just(3000))
def test_zendesk_comments_become_safe_slack_text(body, url, limit):
    converted = zendesk_to_slack(body, url, limit=limit)
    assert_safe_for_slack(converted, body)
    assert zendesk_to_slack(body, url, limit=limit) == converted


@PROPERTY
@given(any_text)
def test_markdown_of_escaped_text_becomes_safe_mrkdwn(text):
    converted = markdown_to_mrkdwn(escape(text))
    assert_safe_for_slack(converted, text)
    assert markdown_to_mrkdwn(escape(text)) == converted


@PROPERTY
@given(
    st.sampled_from(["https://sso.acme.com/login", "sso.acme.com", "www.acme.com", "docs", "a@b.example"]) | any_text,
    st.sampled_from(["https://evil.example/login", "http://x.example/a?b=1&c=2", "mailto:a@b.example"]),
)
def test_a_markdown_link_never_shows_another_target(label, target):
    comment = f"see [{label}]({target}) now"
    assert_safe_for_slack(zendesk_to_slack(comment, TICKET_URL), comment)


@PROPERTY
@given(any_text)
def test_slack_text_to_plain_reads_back_escaped_text(text):
    """Escaped text (what Slack sends for literal characters) reads back as written, broadcast guards aside."""
    plain = slack_to_plain(escape(text), name_of)
    assert plain.replace("@\u2060", "@") == text.replace("@\u2060", "@")


@PROPERTY
@given(
    st.from_regex(r"https?://[a-z]{1,8}\.example/[a-z0-9/]{0,10}", fullmatch=True),
    st.text(st.characters(exclude_characters="<>|&"), min_size=1, max_size=30),
)
def test_a_slack_link_becomes_label_and_target(target, label):
    plain = slack_to_plain(f"see <{target}|{label}>", name_of)
    assert plain == (f"see {target}" if label == target else f"see {label} ({target})")


@PROPERTY
@given(any_text, any_text, files, st.booleans())
def test_slack_messages_become_zendesk_comments(author, text, attached, edited):
    plain = slack_to_plain(text, name_of)
    assert slack_to_plain(text, name_of) == plain
    comment = comment_from_slack(author, plain, attached, edited)
    assert comment.startswith(f"{author} ({'Slack, edited' if edited else 'Slack'}): {plain.strip()}")
    for attachment in attached:
        assert f"- {attachment.get('name') or 'file'}: {attachment.get('permalink') or '(no link)'}" in comment


ADVERSARIAL = pytest.mark.parametrize("shape", TEXT_SHAPES.values(), ids=TEXT_SHAPES.keys())


@ADVERSARIAL
@pytest.mark.parametrize("limit", [None, 3000, 600])
def test_40_kB_adversarial_zendesk_comment(shape, limit):
    comment = shape(40 * KB)
    assert_safe_for_slack(zendesk_to_slack(comment, TICKET_URL, limit=limit), comment)


@ADVERSARIAL
def test_40_kB_adversarial_markdown(shape):
    text = shape(40 * KB)
    assert_safe_for_slack(markdown_to_mrkdwn(escape(text)), text)


@ADVERSARIAL
def test_40_kB_adversarial_slack_text_to_plain(shape):
    text = shape(40 * KB)
    plain = slack_to_plain(text, name_of)
    assert comment_from_slack("Ann", plain, [], edited=False).startswith("Ann (Slack): ")
    assert slack_to_plain(escape(text), name_of).replace("@\u2060", "@") == text
