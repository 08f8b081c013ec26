"""Dispatch within Slack's and GitHub's limits whatever the data size: every message Block Kit takes, every GitHub
body within 65,536 characters, and nothing lost on the way."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks import MAX_BUTTON_TEXT, answer_messages, violations
from bot.dispatch import slack_messages as ui
from bot.dispatch.audit_texts import (
    MAX_GITHUB_BODY,
    acknowledgements_batch,
    acknowledgements_comment,
    github_parts,
    issue_body,
)
from bot.dispatch.message_spec import MAX_SECTION, MAX_SLACK_TEXT, Defaults, InvalidMessage, parse_message
from bot.text import producer_text

DEFAULTS = Defaults("acme/alerts", pagerduty_service="P1", default_channel="#ops")
# Producer text that grows when made safe for Slack: every `<` and `>` becomes `&lt;` / `&gt;` (four times longer).
MARKUP = "if a<b and c>d then <<alert>> "
DENSE = "<" * 20 + " "  # about four times longer once safe: 40,000 characters become more than 50 sections
YES_LABEL = "Y" * 75  # the MESSAGE-SPEC's cap on a button label
NO_LABEL = "N" * 75


def huge(size: int, unit: str = MARKUP, line_every: int = 7) -> str:
    """`size` characters of `unit`, with a line break every few units (as real text has)."""
    lines = [(unit * line_every).rstrip()] * (size // (len(unit) * line_every) + 1)
    return "\n".join(lines)[:size]


def squeeze(text: str) -> str:
    """Text without whitespace: splitting at line ends and spaces may drop a break, never a character."""
    return "".join(text.split())


def parse(kind: str, **slack: Any) -> Any:
    message = {
        "type": kind,
        "requestId": "big",
        "users": [{"slackId": "U0BOB", "slack": "bob"}],
        "body": {"github": {"title": "T" * 256, "body": "B" * 45_000}, "slack": {"message": "hello", **slack}},
    }
    return parse_message(message, DEFAULTS)


def section_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def assert_postable(parts: list[tuple[str, list[dict[str, Any]]]]) -> None:
    for text, blocks in parts:
        assert violations({"text": text, "blocks": blocks}) == []
        assert text.strip()


# --- the MESSAGE-SPEC's own caps stay ----------------------------------------------------------------------------


def test_the_message_spec_caps_slack_texts_and_labels():
    with pytest.raises(InvalidMessage) as too_long:
        parse("broadcast", message="m" * 45_000)
    assert too_long.value.errors == [f"body.slack.message must be at most {MAX_SLACK_TEXT} characters (it has 45000)"]
    with pytest.raises(InvalidMessage) as labels:
        parse("self-service", prompt="p", actions={"yes": "y" * 76, "no": "n"})
    assert labels.value.errors == ["body.slack.actions.yes must be at most 75 characters (it has 76)"]
    assert len(parse("low-priority").github_body) == 45_000  # GitHub bodies are GitHub's concern (below)


# --- Slack ---------------------------------------------------------------------------------------------------


def test_a_message_at_the_cap_reaches_slack_whole_over_continued_messages():
    text = huge(MAX_SLACK_TEXT, DENSE)
    message = parse("broadcast", message=text, prompt=huge(MAX_SECTION), actions={"yes": YES_LABEL, "no": NO_LABEL})
    rendered = producer_text(text)
    assert len(rendered) > 150_000  # more than 50 sections: one message cannot hold it
    whole_text, blocks = ui.alert_message(7, 3, message, None)
    parts = ui.spread(whole_text, blocks)
    assert len(parts) > 1
    assert_postable(parts)
    shown = "".join(section_texts(part_blocks) for _, part_blocks in parts)
    assert squeeze(shown) == squeeze(rendered + producer_text(message.prompt))
    markers = [part_blocks[0]["block_id"] for _, part_blocks in parts]
    assert markers[0] == "dispatch:7:message:3"  # the first part keeps the marker a retry looks for
    assert markers[1:] == [f"dispatch:7:message:3:part{n}" for n in range(2, len(parts) + 1)]
    assert all(b["type"] != "actions" for _, part_blocks in parts[:-1] for b in part_blocks)
    [ack] = [e for b in parts[-1][1] if b["type"] == "actions" for e in b["elements"]]  # the button comes last
    assert (ack["text"]["text"], ack["action_id"], ack["value"]) == (YES_LABEL, ui.ACK, "7")
    acknowledged = ui.spread(*ui.alert_message(7, 3, message, None, acknowledged="done"))
    assert len(acknowledged) == len(parts)  # the update replaces the last part with the same cut
    assert_postable(acknowledged)


def test_a_short_message_is_posted_exactly_as_before():
    message = parse("broadcast", message="Please rotate your keys")
    text, blocks = ui.alert_message(1, 2, message, None)
    assert ui.spread(text, blocks) == [(text, blocks)]
    assert text == "Please rotate your keys"


def test_huge_prompts_responses_and_reminders_stay_within_limits():
    prompt, response = huge(MAX_SECTION), huge(MAX_SECTION)
    actions = {"yes": YES_LABEL, "no": NO_LABEL, "yes_response": response, "no_response": response}
    message = parse("self-service", prompt=prompt, actions=actions)
    text, blocks = ui.prompt_message(7, 3, message)
    assert_postable(ui.spread(text, blocks))
    assert squeeze(section_texts(blocks)) == squeeze(producer_text(prompt))
    yes, no = blocks[-1]["elements"]
    assert (yes["text"]["text"], no["text"]["text"]) == (YES_LABEL, NO_LABEL)
    for answer in ("yes", "no", "no response"):
        text, blocks, [attachment] = ui.answered_prompt(7, 3, message, answer, "U0BOB", 1.7e9, None, 30)
        assert_postable(ui.spread(text, blocks))
        assert squeeze(section_texts(blocks)) == squeeze(producer_text(prompt))
    assert attachment["text"] == "Nobody answered in time, so this alert has been escalated to PagerDuty."
    text, blocks = ui.reminder(7, 3, message, 1.7e9)
    assert_postable(ui.spread(text, blocks))
    assert producer_text(prompt) in text and squeeze(producer_text(prompt)) in squeeze(section_texts(blocks))


def test_a_button_label_is_clipped_never_its_meaning():
    # A label longer than Slack allows (a message stored before the cap): clipped; the action and value decide.
    element = ui._button("Z" * 200, ui.YES, 12345, "primary")
    assert len(element["text"]["text"]) == MAX_BUTTON_TEXT and element["text"]["text"].endswith("…")
    assert (element["action_id"], element["value"], element["style"]) == (ui.YES, "12345", "primary")


def test_notes_with_long_vendor_errors_stay_within_limits():
    error = "GitHub answered 422: " + "Validation Failed <details> " * 500
    text, blocks = ui.error_notice(1, "issue-error", f"Error: dispatch r1 failed, {error}")
    assert_postable(ui.spread(text, blocks))
    assert squeeze(section_texts(blocks)).count("ValidationFailed") == 500


def recipients(count: int, acknowledged: int) -> list[dict[str, Any]]:
    return [
        {
            "slack_id": f"U1{n:05d}",
            "destination": f"U1{n:05d}",
            "state": "sent",
            "error": None,
            "acknowledged_at": 1.7e9 if n < acknowledged else None,
            "acknowledged_by": f"U1{n:05d}" if n < acknowledged else None,
        }
        for n in range(count)
    ]


def test_status_names_all_1000_recipients_and_the_whole_history():
    alert = {
        "request_id": "bc-1000",
        "type": "broadcast",
        "state": "notified",
        "outcome": None,
        "title": "Rotate your keys (bc-1000)",
        "issue_url": "https://github.example/acme/alerts/issues/1",
        "repo": "acme/alerts",
        "issue_number": 1,
    }
    people = recipients(1000, acknowledged=400)
    history = [{"at": 1.7e9, "event": "message sent", "actor": r["slack_id"]} for r in people]
    text = ui.status_text(alert, people, history)
    assert "Acknowledged (400/1000): " in text
    for person in people:
        assert text.count(f"<@{person['slack_id']}>") == 2  # in its list, and in the history
    messages = answer_messages(text)  # what the answer becomes in Slack (listeners/replies.py)
    assert all(violations(message) == [] for message in messages)
    shown = "\n".join(section_texts(message["blocks"]) for message in messages)
    assert all(f"<@{person['slack_id']}>" in shown for person in people)
    assert squeeze(shown) == squeeze(text)


# --- GitHub --------------------------------------------------------------------------------------------------


def test_a_body_within_githubs_limit_is_sent_unchanged():
    assert github_parts("B" * MAX_GITHUB_BODY) == ["B" * MAX_GITHUB_BODY]
    body = issue_body(parse("low-priority"))
    assert github_parts(body) == [body] and len(body) == 45_000


@pytest.mark.parametrize("size", [MAX_GITHUB_BODY + 1, 200_000, 1_000_000])
def test_a_longer_body_is_split_with_notes_and_nothing_lost(size):
    text = huge(size, "word " * 9 + "<x> & y ", line_every=3)
    parts = github_parts(text)
    assert len(parts) >= 2 and all(len(part) <= MAX_GITHUB_BODY for part in parts)
    total = len(parts)
    assert parts[0].endswith(f"_(continued in the next comment: part 2 of {total})_")
    for number, part in enumerate(parts[1:], start=2):
        assert part.startswith(f"_(continued, part {number} of {total})_")
    notes = [f"_(continued in the next comment: part {n} of {total})_" for n in range(2, total + 1)]
    notes += [f"_(continued, part {n} of {total})_" for n in range(2, total + 1)]
    joined = "".join(parts)
    for note in notes:
        joined = joined.replace(note, "")
    assert squeeze(joined) == squeeze(text)


def test_a_code_block_cut_in_two_is_closed_and_reopened():
    recipients_line = ", ".join(f"user-{n}" for n in range(8_000))
    message = parse_message(
        {
            "type": "broadcast",
            "requestId": "many",
            "users": [{"slackId": f"U1{n:05d}", "slack": f"user-{n}"} for n in range(8_000)],
            "body": {"github": {"title": "T", "body": "Rotate your keys."}, "slack": {"message": "m"}},
        },
        DEFAULTS,
    )
    body = issue_body(message)
    assert body == f"Rotate your keys. \n\n ```\n{recipients_line}\n```"
    parts = github_parts(body)
    assert len(parts) == 2 and all(len(part) <= MAX_GITHUB_BODY for part in parts)
    assert all(part.count("```") % 2 == 0 for part in parts)  # each part renders its share as code
    listed = " ".join(parts).replace(",", " ").split()
    assert {f"user-{n}" for n in range(8_000)} <= set(listed)


def test_acknowledgement_comments_stay_within_githubs_limit():
    rows = [
        {
            "id": n,
            "slack_id": f"U1{n:05d}",
            "slack_handle": "h" * 5_000 if n % 2 else f"user-{n}",
            "acknowledged_at": 1.7e9,
            "acknowledged_by": f"U1{n:05d}",
        }
        for n in range(1_000)
    ]
    taken: list[dict[str, Any]] = []
    while len(taken) < len(rows):
        batch = acknowledgements_batch(rows[len(taken) :])
        assert batch and len(acknowledgements_comment(batch)) <= MAX_GITHUB_BODY
        taken += batch
    assert [r["id"] for r in taken] == list(range(1_000))
    assert acknowledgements_batch(rows[:3]) == rows[:3]
    assert "(`U100001`)" in acknowledgements_comment(rows[:2])  # a clipped handle keeps the Slack ID
