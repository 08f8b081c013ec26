"""Properties of the Slack text escapers in `bot.text`: whatever the vendor or producer wrote, the output is text
Slack shows literally (escape), keeps only the markup allowed (producer_text), never links with a misleading label
(link), and text leaving Slack cannot notify or format (for_github, for_jira)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import escape, for_github, for_jira, link, producer_text
from tests.property.shapes import KB, TEXT_SHAPES
from tests.property.strategies import (
    BROADCAST_TOKENS,
    PROPERTY,
    SAFE_TARGET,
    any_text,
    label,
    misleading_labels,
    slack_tokens,
    unescape,
    url,
)

BROADCAST_WORD = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
CHANNEL = re.compile(r"#[CG][A-Z0-9]+(?:\|[^<>]*)?")
MENTION = re.compile(r"(?:@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+)(?:\|[^<>]*)?")
GITHUB_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
JIRA_MARKUP = set("\\{}[]|*_+^~?!#-")
ADVERSARIAL = pytest.mark.parametrize("shape", TEXT_SHAPES.values(), ids=TEXT_SHAPES.keys())


def assert_escaped(text: str, original: str) -> None:
    assert "<" not in text and ">" not in text
    assert not ENTITY.search(text), "every & starts one of the three entities"
    assert not BROADCAST_WORD.search(text)
    assert unescape(text).replace("@\u2060", "@") == original.replace("@\u2060", "@")


def assert_producer_safe(text: str, allow_mentions: bool) -> None:
    assert not any(token in text for token in BROADCAST_TOKENS)
    for token in slack_tokens(text):
        allowed = CHANNEL.fullmatch(token) or SAFE_TARGET.fullmatch(token)
        allowed = allowed or (allow_mentions and MENTION.fullmatch(token))
        assert allowed, f"<{token}> survived"
    if not allow_mentions:
        assert "<@" not in text and "<!subteam" not in text
    # Outside its `<…>` tokens the text is plain: no broadcast words, no stray `<` or `>`.
    outside = re.sub(r"<[^<>]*>", " ", text)
    assert "<" not in outside and ">" not in outside
    assert not BROADCAST_WORD.search(outside)
    assert misleading_labels(text) == []


@PROPERTY
@given(any_text)
def test_escape_shows_any_text_literally_and_round_trips(text):
    escaped = escape(text)
    assert_escaped(escaped, text)
    assert escape(text) == escaped


@PROPERTY
@given(url, label, st.booleans())
def test_link_never_misleads_and_links_only_safe_targets(target, shown, strict):
    made = link(target, shown, strict=strict)
    assert not any(token in made for token in BROADCAST_TOKENS)
    for token in slack_tokens(made):
        linked, _, token_label = token.partition("|")
        assert SAFE_TARGET.fullmatch(linked), f"<{token}> links an unsafe target"
        assert not (strict and token_label), "strict links never carry a label"
    assert misleading_labels(made) == []
    outside = re.sub(r"<[^<>]*>", " ", made)
    assert "<" not in outside and ">" not in outside and not BROADCAST_WORD.search(outside)
    assert link(target, shown, strict=strict) == made


@pytest.mark.parametrize(
    "target", ["http://\x1f0", "https://x.example/\tb", "https://x.example/\rb", "http://a\u2028b"]
)
def test_a_target_with_whitespace_or_control_characters_is_not_linked(target):
    assert slack_tokens(link(target)) == []
    assert slack_tokens(producer_text(f"<{target}|docs>")) == []


@PROPERTY
@given(any_text, st.booleans())
def test_producer_text_keeps_only_allowed_markup(text, allow_mentions):
    safe = producer_text(text, allow_mentions=allow_mentions)
    assert_producer_safe(safe, allow_mentions)
    assert producer_text(text, allow_mentions=allow_mentions) == safe


@PROPERTY
@given(any_text, st.booleans())
def test_producer_text_is_stable_and_leaves_escaped_text_alone(text, allow_mentions):
    safe = producer_text(text, allow_mentions=allow_mentions)
    assert producer_text(safe, allow_mentions=allow_mentions) == safe
    assert producer_text(escape(text), allow_mentions=allow_mentions) == escape(text)


@PROPERTY
@given(any_text)
def test_text_for_github_cannot_notify_and_round_trips(text):
    neutral = for_github(text)
    assert not GITHUB_MENTION.search(neutral)
    assert neutral.replace("@\u200b", "@") == text.replace("@\u200b", "@")


@PROPERTY
@given(any_text)
def test_text_for_jira_has_no_markup_and_round_trips(text):
    escaped = for_jira(text)
    characters = iter(escaped)
    for character in characters:  # the output is plain characters and `\x` pairs
        if character == "\\":
            assert next(characters, None) in JIRA_MARKUP
        else:
            assert character not in JIRA_MARKUP
    assert re.sub(r"\\(.)", r"\1", escaped, flags=re.DOTALL) == text


@ADVERSARIAL
def test_escape_on_40_kB_adversarial_text(shape):
    text = shape(40 * KB)
    assert_escaped(escape(text), text)


@ADVERSARIAL
@pytest.mark.parametrize("allow_mentions", [False, True])
def test_producer_text_on_40_kB_adversarial_text(shape, allow_mentions):
    assert_producer_safe(producer_text(shape(40 * KB), allow_mentions=allow_mentions), allow_mentions)


@ADVERSARIAL
def test_strict_link_on_40_kB_adversarial_label_and_target(shape):
    text = shape(40 * KB)
    for made in (link("https://x.example/a", text, strict=True), link(text, "docs", strict=True), link(text)):
        assert misleading_labels(made) == []
        assert all(SAFE_TARGET.fullmatch(token) for token in slack_tokens(made))


# `link` without strict scans a label for anything URL-like; a label longer than LONGEST_PLAIN_LABEL always shows
# its target instead, so the scan never meets 40 kB (it backtracked quadratically on long runs of letters).


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(shape, id=name)
        for name, shape in TEXT_SHAPES.items()
    ],
)
def test_link_with_a_40_kB_adversarial_label(shape):
    made = link("https://x.example/a", shape(40 * KB))
    assert misleading_labels(made) == []
    assert all(SAFE_TARGET.fullmatch(token.partition("|")[0]) for token in slack_tokens(made))


@ADVERSARIAL
def test_text_leaving_slack_on_40_kB_adversarial_text(shape):
    text = shape(40 * KB)
    assert not GITHUB_MENTION.search(for_github(text))
    assert re.sub(r"\\(.)", r"\1", for_jira(text), flags=re.DOTALL) == text
