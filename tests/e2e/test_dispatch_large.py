"""Dispatch with huge data, end to end: a broadcast to 1,000 people and `/dispatch status` naming every one of
them, alarms whose texts are as long as the MESSAGE-SPEC allows, and GitHub bodies past GitHub's limit. Slack's
limits are enforced by the Slack emulator, which refuses (and records) every payload Slack would refuse."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import violations
from bot.dispatch.audit_texts import MAX_GITHUB_BODY
from bot.dispatch.message_spec import MAX_SECTION, MAX_SLACK_TEXT
from bot.text import producer_text
from tests.e2e.harness import BotUnderTest
from tests.e2e.test_dispatch import (
    REPO,
    alert,
    broadcast,
    buttons,
    click,
    dispatch_bot,
    dm_messages,
    self_service,
    submit,
)

PEOPLE = 1000  # past DISPATCH_BROADCAST_MAX (200): only an admin (Alice) may reach them from Slack
ROUTED = 120.0  # seconds a large alert may take to go out on a busy machine (it takes a few)
DENSE = "<" * 20 + " "  # about four times longer once made safe for Slack (`&lt;`)
LABELS = {"yes": "Y" * 75, "no": "N" * 75}  # the MESSAGE-SPEC's cap on a button label


def huge(size: int, unit: str = DENSE, per_line: int = 7) -> str:
    line = (unit * per_line).rstrip()
    return "\n".join([line] * (size // len(line) + 1))[:size]


def squeeze(text: str) -> str:
    """Text without whitespace: a split at a line end or a space drops that break, never a character."""
    return "".join(text.split())


def texts(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "section")


def wait_state(bot: BotUnderTest, request_id: str, state: str) -> dict[str, Any]:
    return bot.slack.wait_for(
        lambda: (row := alert(bot, request_id)) and row["state"] == state and row, ROUTED, f"{request_id}: {state}"
    )


def assert_within_limits(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        assert violations({"text": message.get("text"), "blocks": message.get("blocks")}) == []


def whole_answer(bot: BotUnderTest, user: str, channel: str, text: str, expected: list[str]) -> list[dict[str, Any]]:
    """Every message of a slash command's answer (response_url posts, then DMs past Slack's five), once they
    name everything in `expected`."""
    responses, dms = len(bot.slack.responses), len(dm_messages(bot, user))
    bot.command(user, channel, "/dispatch", text)

    def answer() -> list[dict[str, Any]] | None:
        parts = [r["body"] for r in bot.slack.responses[responses:]] + dm_messages(bot, user)[dms:]
        shown = "\n".join(f"{part.get('text', '')}\n{texts(part)}" for part in parts)
        return parts if all(name in shown for name in expected) else None

    return bot.slack.wait_for(answer, 30.0, "an answer naming everything")


def test_status_of_a_broadcast_to_1000_people_names_every_one(make_bot, world):
    people = [f"U1{n:05d}" for n in range(PEOPLE)]
    for n, person in enumerate(people):
        world.slack.add_user(person, f"person{n}")
    world.slack.add_usergroup("S0MANY", "many", users=people)
    bot = dispatch_bot(make_bot)

    reply = bot.command_reply("U0ALICE", "C0OPS", "/dispatch", "broadcast <!subteam^S0MANY|@many> Rotate your keys")
    assert f"{PEOPLE} people get a DM with an Acknowledge button" in reply
    rid = reply.split("`")[1]
    row = wait_state(bot, rid, "notified")
    assert row["outcome"] is None  # every DM delivered
    assert all(len(dm_messages(bot, person)) == 1 for person in people)
    [issue] = world.github.issues(REPO)
    assert len(issue["body"]) <= MAX_GITHUB_BODY and all(person in issue["body"] for person in people)

    first, last = people[0], people[-1]
    for person in (first, last):
        click(bot, person, person, dm_messages(bot, person)[0], "dispatch_ack")
    bot.slack.wait_for(lambda: len([r for r in recipients(bot, rid) if r["acknowledged_at"]]) == 2)

    answer = whole_answer(bot, "U0ALICE", "C0OPS", f"status {rid}", [f"<@{person}>" for person in people])
    assert_within_limits(answer)
    shown = "\n".join(texts(part) or part.get("text", "") for part in answer)
    assert f"Acknowledged (2/{PEOPLE}): <@{first}> at " in shown
    assert f"Not yet: <@{people[1]}>, " in shown and f"<@{people[-2]}>" in shown
    assert shown.count("message sent") == PEOPLE  # the whole history, not its last lines
    assert world.slack.refusals() == []


def recipients(bot: BotUnderTest, request_id: str) -> list[dict[str, Any]]:
    service = bot.runtime.services["dispatch"]
    return service.alerts.recipients(alert(bot, request_id)["id"])


def test_an_alarm_with_the_longest_texts_reaches_its_recipient_whole(make_bot, world):
    bot = dispatch_bot(make_bot)
    message = self_service("huge")
    body, text, prompt, response = "B" * 45_000, huge(MAX_SLACK_TEXT), huge(MAX_SECTION), huge(MAX_SECTION, "<ok> ")
    message["body"]["github"]["body"] = body
    message["body"]["slack"].update(message=text, prompt=prompt)
    message["body"]["slack"]["actions"].update(LABELS, yes_response=response)
    rid = submit(bot, message)

    def prompt_posted() -> dict[str, Any] | None:
        return next((m for m in dm_messages(bot, "U0BOB") if buttons(m)), None)

    asked = bot.slack.wait_for(prompt_posted, ROUTED, "the Yes/No prompt")
    dms = dm_messages(bot, "U0BOB")
    assert_within_limits(dms)
    alarm = dms[: dms.index(asked)]
    rendered = producer_text(text)
    assert len(rendered) > 150_000 and len(alarm) >= 2  # more than 50 sections: continued messages
    assert squeeze("".join(texts(m) for m in alarm)) == squeeze(rendered)
    assert "GitHub issue" in json.dumps(alarm[-1]["blocks"])  # the link after the whole text
    assert squeeze(texts(asked)) == squeeze(producer_text(prompt))
    assert [(b["text"]["text"], b["action_id"]) for b in buttons(asked)] == [
        (LABELS["yes"], "dispatch_yes"),
        (LABELS["no"], "dispatch_no"),
    ]
    [issue] = world.github.issues(REPO)
    assert issue["body"] == f"{body} \n\n @bob"  # within GitHub's limit: sent whole

    click(bot, "U0BOB", "U0BOB", asked, "dispatch_yes")
    wait_state(bot, rid, "closed")
    updated = bot.slack.wait_for(
        lambda: next((m for m in dm_messages(bot, "U0BOB") if m["ts"] == asked["ts"] and m.get("attachments")), None)
    )
    assert_within_limits([updated])
    assert buttons(updated) == [] and updated["attachments"][0]["text"] == producer_text(response)
    assert world.slack.refusals() == []


def test_a_long_broadcast_is_acknowledged_on_its_last_part(make_bot, world):
    bot = dispatch_bot(make_bot)
    rid = submit(bot, broadcast("long-bc", [{"slackId": "U0CAROL"}]))
    wait_state(bot, rid, "notified")  # a short one first: the long one must not change what short ones look like
    [short] = dm_messages(bot, "U0CAROL")
    assert short["text"] == "Please rotate your keys (long-bc)" and len(short["blocks"]) == 2

    long = broadcast("long-bc-2", [{"slackId": "U0CAROL"}])
    long["body"]["slack"]["message"] = huge(MAX_SLACK_TEXT)
    rid = submit(bot, long)
    wait_state(bot, rid, "notified")
    parts = dm_messages(bot, "U0CAROL")[1:]
    assert len(parts) >= 2 and [bool(buttons(part)) for part in parts] == [False] * (len(parts) - 1) + [True]
    assert_within_limits(parts)
    assert squeeze("".join(texts(m) for m in parts)) == squeeze(producer_text(long["body"]["slack"]["message"]))
    click(bot, "U0CAROL", "U0CAROL", parts[-1], "dispatch_ack")
    acknowledged = bot.slack.wait_for(
        lambda: next((m for m in dm_messages(bot, "U0CAROL") if m["ts"] == parts[-1]["ts"] and not buttons(m)), None)
    )
    assert_within_limits([acknowledged])
    assert "Acknowledged by <@U0CAROL>" in json.dumps(acknowledged["blocks"])
    assert world.slack.refusals() == []


def test_a_body_past_githubs_limit_continues_in_comments(make_bot, world):
    bot = dispatch_bot(make_bot)
    body = huge(150_000, "audit line with words ", per_line=4)
    submit(bot, {"type": "low-priority", "requestId": "gh-big", "body": {"github": {"title": "Big", "body": body}}})
    [issue] = world.github.wait_for(lambda: world.github.issues(REPO), 30.0)
    comments = world.github.wait_for(lambda: len(c := world.github.comments(REPO, issue["number"])) == 2 and c, 30.0)
    parts = [issue["body"], *(c["body"] for c in comments)]
    assert all(len(part) <= MAX_GITHUB_BODY for part in parts)
    assert parts[0].endswith("_(continued in the next comment: part 2 of 3)_")
    assert parts[1].startswith("_(continued, part 2 of 3)_") and parts[2].startswith("_(continued, part 3 of 3)_")
    notes = [f"_(continued in the next comment: part {n} of 3)_" for n in (2, 3)]
    notes += [f"_(continued, part {n} of 3)_" for n in (2, 3)]
    joined = "".join(parts)
    for note in notes:
        joined = joined.replace(note, "")
    assert squeeze(joined) == squeeze(body + " \n\n @sandbox-oncall")
