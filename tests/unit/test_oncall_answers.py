"""On-call answers and messages whatever the data size: complete, and within Slack's limits once sent."""

from __future__ import annotations

from typing import Any

from bot.blocks import MAX_SECTION_TEXT, answer_messages, violations
from bot.clients.slack import SlackApiError
from bot.oncall.answers import links_answer
from bot.oncall.effects import HANDOFF_DM, OncallEffects, handoff_dm_payload
from bot.oncall.links import Link, add_link, load_links, settle_targets
from bot.oncall.recording import queue_handoff_dms
from bot.oncall.rules import Handoff
from bot.outbox import Outbox

NOW = 1_700_000_000.0


def sections(messages: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m.get("blocks") or [] if b["type"] == "section"]


def test_list_names_every_one_of_1000_links_and_fits_slacks_limits():
    links = [Link((f"PL{n:04d}XX",), {}, (f"C{n:04d}LRG",), (f"S{n:04d}LRG",)) for n in range(1000)]
    names = {f"PL{n:04d}XX": f"Team {n:04d}" for n in range(1000)}
    answer = links_answer(links, names, {}, {}, None, NOW)
    lines = answer.splitlines()
    listed = set(lines)
    assert lines[0] == "*On-call links* (1000)" and lines[-1] == "PagerDuty has not been read yet."
    for n in range(1000):
        assert f"• *Team {n:04d}* (`PL{n:04d}XX`)" in listed
        assert f"    <#C{n:04d}LRG>: not synced yet" in listed
        assert f"    `S{n:04d}LRG`: not synced yet" in listed
    assert len(lines) == 1 + 3 * 1000 + 1  # no "…and N more"
    messages = answer_messages(answer)
    assert all(not violations(m) for m in messages)
    assert "\n".join(sections(messages)) == answer  # split at line ends, nothing lost


def test_links_load_in_order_with_their_targets_in_order(store):
    with store.write() as db:
        for n in range(300):
            add_link(db, Link((f"PL{n:04d}XX",), {}, (f"C{n:04d}B", f"C{n:04d}A"), (f"S{n:04d}",)), "U1", NOW)
        add_link(db, Link(("PL0007XX",), {}, ("C0007C",)), "U1", NOW)  # extends an earlier link: its order is kept
        settle_targets(db, NOW)
    links = load_links(store)
    assert [link.schedules for link in links] == [(f"PL{n:04d}XX",) for n in range(300)]
    assert links[7].channels == ("C0007B", "C0007A", "C0007C") and links[7].usergroups == ("S0007",)
    assert links[8].channels == ("C0008B", "C0008A")


# --- the hand-off DM --------------------------------------------------------------------------------
class FakeSlack:
    def __init__(self, fail_first: str | None = None):
        self.posted: list[dict[str, Any]] = []
        self.fail_first = fail_first

    def chat_postMessage(self, **args: Any) -> dict[str, Any]:
        if self.fail_first:
            code, self.fail_first = self.fail_first, None
            raise SlackApiError(code, {"ok": False, "error": code})
        self.posted.append(args)
        return {"channel": "D0BOB", "ts": f"{len(self.posted)}.0"}


def long_handoff(count: int = 400) -> Handoff:
    names = [f"Schedule {n:03d} of the payments platform, EU region" for n in range(count)]
    text = f":pager: You are now on call for {', '.join(names[:-1])} and {names[-1]} until <!date^1700003600^x|y>."
    return Handoff("line", "U0BOB", text, "oncall:handoff:PBOB:1699996400:PS000")


def test_a_short_hand_off_dm_keeps_its_payload():
    assert handoff_dm_payload("U0BOB", ":pager: You are now on call for Primary.", "k") == {
        "user": "U0BOB",
        "text": ":pager: You are now on call for Primary.",
    }


def test_a_hand_off_dm_too_long_for_one_message_is_sent_whole_in_order(store):
    handoff = long_handoff()
    assert len(handoff.dm_text) > 20_000
    outbox = Outbox(store)
    slack = FakeSlack()
    outbox.register(HANDOFF_DM, OncallEffects(slack, outbox).handlers()[HANDOFF_DM])  # type: ignore[arg-type]
    with store.write() as db:
        queue_handoff_dms(db, outbox, [handoff])
    assert store.scalar("SELECT COUNT(*) FROM outbox") == 1  # the next part is queued once this one is posted
    outbox.run_due()
    texts = [post["text"] for post in slack.posted]
    assert len(texts) > 1 and all(len(text) <= MAX_SECTION_TEXT for text in texts)
    assert all(post["channel"] == "U0BOB" for post in slack.posted)
    assert " ".join(texts) == handoff.dm_text  # cut at spaces, in order, nothing lost
    keys = [row["key"] for row in store.query("SELECT key FROM outbox ORDER BY id")]
    assert keys == [handoff.dm_key] + [f"{handoff.dm_key}:{n}" for n in range(1, len(texts))]
    with store.write() as db:  # the next cycle queues the same hand-off again: nothing more is sent
        queue_handoff_dms(db, outbox, [handoff])
    outbox.run_due()
    assert len(slack.posted) == len(texts)


def test_a_part_slack_asks_to_retry_is_sent_before_the_next_one(store):
    handoff = long_handoff()
    outbox = Outbox(store)
    slack = FakeSlack()
    outbox.register(HANDOFF_DM, OncallEffects(slack, outbox).handlers()[HANDOFF_DM])  # type: ignore[arg-type]
    with store.write() as db:
        queue_handoff_dms(db, outbox, [handoff])
    slack.fail_first = "ratelimited"
    outbox.run_due()
    assert slack.posted == []  # the first part waits for Slack, and nothing after it goes first
    outbox.run_due(now=NOW * 2)
    assert " ".join(post["text"] for post in slack.posted) == handoff.dm_text
