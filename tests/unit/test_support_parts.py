"""Support posts of any length: split into parts when queued, each part one Slack message within Block Kit's limits,
nothing lost, in order, and each part queued once."""

from __future__ import annotations

import pytest

from bot import blocks
from bot.outbox import Outbox
from bot.support import records
from bot.support.message_parts import CONTINUED, post_parts, slack_messages
from bot.support.report import ReportTicket, report_text
from bot.support.text import zendesk_to_slack


def shown(message: dict) -> str:
    """What a message shows: its sections, else its text."""
    if "blocks" not in message:
        return message["text"]
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def sent(text: str) -> list[str]:
    """What the posts of `text` show, in order, each checked to be one message within every limit; the
    "continued" line of each later part is checked and left out."""
    shown_parts = []
    for number, part in enumerate(post_parts(text), start=1):
        messages = slack_messages(part)
        assert len(messages) == 1 and blocks.violations(messages[0]) == []
        body = shown(messages[0])
        if number > 1:
            first_line, body = body.split("\n", 1)
            assert first_line == CONTINUED.format(number=number)
        shown_parts.append(body)
    return shown_parts


def words(text: str) -> list[str]:
    return text.split()


HUGE_TEXTS = {
    "45,000-character comment of words": " ".join(f"w{n:05d}" for n in range(7500)),
    "a million characters in words": " ".join(f"word{n}" for n in range(120_000)),
    "400,000 characters without a space": "x" * 400_000,
    "5,000 report lines with links and entities": "\n".join(
        f"• <https://z.example/agent/tickets/{n}|#{n}> Printer &amp; VPN &lt;{n}&gt; — open 3d — "
        f"<https://s.example/archives/C0SUPPORT/p{n:016d}|thread>"
        for n in range(5000)
    ),
    "long lines, blank lines and indents": "\n".join(
        ["a" * 9000, "", "  indented", " ".join("b" * 17 for _ in range(20_000)), "", "tail"] * 5
    ),
}


@pytest.mark.parametrize("text", HUGE_TEXTS.values(), ids=HUGE_TEXTS.keys())
def test_huge_text_is_sent_whole_in_order_each_part_one_message_within_the_limits(text):
    parts = sent(text)
    assert "".join(words("\n".join(parts))) == "".join(words(text))  # only whitespace at cuts may differ
    if len(text) > 200_000:
        assert len(parts) > 1


def test_a_cut_keeps_the_text_as_written_except_at_the_cut():
    lines = [f"line {n} " + "y" * 100 for n in range(3000)]
    parts = sent("\n".join(lines))
    assert len(parts) > 1 and "\n".join(parts).split("\n") == lines  # whole lines, none lost, none repeated


def test_short_posts_are_unchanged_plain_text():
    text = "Zoe Zendesk (Zendesk): Which client version?"
    assert post_parts(text) == [text]
    assert slack_messages(text) == [{"text": text}]


def test_a_45000_character_zendesk_comment_is_converted_whole():
    body = " ".join(f"w{n:05d}" for n in range(7500))
    text = zendesk_to_slack(body, "https://z.example/agent/tickets/9")
    assert text == body  # no cut, no "the rest is in Zendesk"
    assert words("\n".join(sent(f"Zoe Zendesk (Zendesk): {text}"))) == ["Zoe", "Zendesk", "(Zendesk):", *words(body)]


def test_the_report_lists_every_open_ticket():
    now = 1_000_000.0
    tickets = [ReportTicket(n, f"https://z/{n}", f"Problem {n}", now - n, None) for n in range(1, 1001)]
    text = report_text(title_date="Tue 9 Jul", closed_since="Mon 8 Jul", closed_count=0, open_tickets=tickets, now=now)
    assert "*Open 🔥: 1000*, oldest first:" in text and "more." not in text
    listed = [line for line in "\n".join(sent(text)).split("\n") if line.startswith("• ")]
    assert [line.split("|#")[1].split(">")[0] for line in listed] == [str(n) for n in range(1000, 0, -1)]


def test_a_long_post_is_queued_as_parts_once(store):
    outbox = Outbox(store)
    report = {"source": "report:C1:2024-07-09", "channel": "C1", "kind": "report"}
    text = "\n".join(f"• ticket {n} " + "z" * 80 for n in range(3000))
    parts = post_parts(text)
    assert len(parts) > 1
    with store.write() as db:
        assert records.queue_post(db, outbox, text=text, **report)
    rows = store.query("SELECT source, kind, text FROM support_posts ORDER BY id")
    assert [r["source"] for r in rows] == ["report:C1:2024-07-09"] + [
        f"report:C1:2024-07-09#{n}" for n in range(2, len(parts) + 1)
    ]
    assert {r["kind"] for r in rows} == {"report"} and [r["text"] for r in rows] == parts
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'support.post'") == len(parts)
    longer = text + "\n" + "\n".join(f"• ticket {n}" + "z" * 80 for n in range(3000, 6000))
    with store.write() as db:  # the same report again (a restart), even with more tickets: nothing new
        assert not records.queue_post(db, outbox, text=longer, **report)
    assert store.scalar("SELECT COUNT(*) FROM support_posts") == len(parts)


def test_an_emailed_tickets_post_continues_in_its_thread(store):
    outbox = Outbox(store)
    text = "📧 *New support request by email*\n" + "\n".join("q" * 2900 for _ in range(60))
    with store.write() as db:
        records.queue_post(db, outbox, source="email:7", channel="C1", kind="parent", text=text, thread_id=None)
    assert [r["kind"] for r in store.query("SELECT kind FROM support_posts ORDER BY id")] == ["parent", "text"]
