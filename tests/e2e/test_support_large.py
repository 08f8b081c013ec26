"""Support desk with huge data, end to end: a report of 150 open tickets and a 45,000-character Zendesk comment
reach Slack whole and in order, in posts Slack takes (its fake refuses, and records, whatever Slack would refuse)."""

from __future__ import annotations

import time
from typing import Any

from sandbox.world import World
from tests.e2e.test_support import AGENT_ID, CHANNEL, GROUP_ID, open_request, poll, settled

BIG_WAIT = 120.0  # hundreds of posts and Zendesk updates on a shared machine; returns as soon as they are done
REPORT = "📊 *Daily support report*"
CONTINUED = "_(continued, part "
POST_MESSAGE = r"/api/chat\.postMessage$"


def shown(message: dict[str, Any]) -> str:
    """What a message shows: its section texts, or its text when it has no blocks."""
    if not message.get("blocks"):
        return message.get("text") or ""
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def idle(bot: Any, timeout: float = BIG_WAIT) -> None:
    """Nothing left in the outbox (a longer wait than `settled`, for hundreds of effects)."""
    bot.world.slack.wait_for(
        lambda: bot.runtime.outbox.counts()["pending"] == 0, timeout=timeout, message="an idle outbox"
    )


def report_posts(world: World) -> list[str]:
    """The report's posts in the channel, in posting order: its first part and its continued parts."""
    texts = [shown(m) for m in world.slack.messages(CHANNEL) if m.get("user") == "UBOT" and not m.get("thread_ts")]
    return [text for text in texts if text.startswith((REPORT, CONTINUED))]


def stop_slack_after_the_first_report_post(world: World) -> None:
    """The moment Slack has taken the report's first post, every later post fails (a Slack outage)."""

    def observer(request: Any) -> None:
        if request.method == "POST" and request.path.endswith("/chat.postMessage") and report_posts(world):
            world.slack.inject_fault(POST_MESSAGE, 500, times=-1)
            world.slack.observers.remove(observer)

    world.slack.observers.append(observer)


def test_a_report_of_150_open_tickets_names_every_one_once_across_a_restart(make_bot, world):
    settings = {"SUPPORT_REPORT_TIME": "daily 09:00", "SUPPORT_ESCALATION_POLICY": ""}
    bot = make_bot(**settings)
    ids = []
    for n in range(150):  # long subjects, so that 150 tickets fill more than one Slack message
        subject = f"Problem {n:03d}: " + " ".join(f"detail{n}-{d}" for d in range(120))
        ticket = world.zendesk.create_email_ticket(
            subject, f"Details of problem {n}", f"user{n}@customer.example", f"User {n}", group_id=GROUP_ID
        )
        ids.append(ticket["id"])
    poll(bot)  # one export page: 150 emailed tickets, each with its post in the support channel
    idle(bot)
    threads = "SELECT COUNT(*) FROM support_threads WHERE state = 'open' AND thread_ts IS NOT NULL"
    assert bot.runtime.store.scalar(threads) == 150

    stop_slack_after_the_first_report_post(world)
    bot.runtime.scheduler.run_and_wait("support.report")
    world.slack.wait_for(
        lambda: any(r.status == 500 for r in world.slack.calls("POST", POST_MESSAGE)),
        timeout=BIG_WAIT,
        message="the report's second part refused by the outage",
    )
    assert len(report_posts(world)) == 1  # the bot stops midway through its report
    bot.runtime.store.set_state("support.report.due_at", str(time.time() - 60))  # so the restart catches up today
    bot.stop()
    world.slack.clear_faults()

    restarted_at = time.time()
    again = make_bot(**settings)
    world.slack.wait_for(
        lambda: any(
            j.name == "support.report" and (j.last_success_at or 0) >= restarted_at
            for j in again.runtime.scheduler.status()
        ),
        timeout=BIG_WAIT,
        message="the report job run again at start",
    )
    idle(again)
    posts = report_posts(world)
    queued = again.runtime.store.scalar("SELECT COUNT(*) FROM support_posts WHERE source LIKE 'report:%'")
    assert len(posts) == queued > 1  # every part once: the restart neither lost one nor made a second report
    assert posts[0].startswith(REPORT) and "*Open 🔥: 150*, oldest first:" in posts[0]
    for number, post in enumerate(posts[1:], start=2):
        assert post.startswith(f"{CONTINUED}{number})_")
    listed = [line for post in posts for line in post.split("\n") if line.startswith("• <")]
    assert [int(line.split("|#", 1)[1].split(">", 1)[0]) for line in listed] == ids  # all 150, oldest first
    assert all(f"Problem {n:03d}: detail{n}-0 " in line for n, line in enumerate(listed))
    assert all(line.endswith("|thread>") for line in listed)
    assert world.slack.refusals() == []


def comment_of_45000_characters() -> str:
    """Paragraphs of numbered words and one very long line, 45,000 characters, nothing a signature trim cuts."""
    paragraphs = [" ".join(f"word{p:02d}x{w:03d}" for w in range(80)) for p in range(30)]
    long_line = " ".join(f"line{w:04d}" for w in range(1500))
    body = "\n\n".join([*paragraphs, long_line])
    filler = " ".join(f"end{w:05d}" for w in range(10_000))
    return (body + "\n\n" + filler)[:45_000].rsplit(" ", 1)[0].ljust(45_000, "z")


def test_a_45000_character_zendesk_comment_reaches_the_thread_whole(bot, world):
    ts, ticket = open_request(world, "VPN down")
    settled(bot)
    body = comment_of_45000_characters()
    assert len(body) == 45_000
    world.zendesk.agent_comment(ticket["id"], body, author_id=AGENT_ID)
    poll(bot)
    settled(bot)
    replies = [m for m in world.slack.replies(CHANNEL, ts)[1:] if m.get("user") == "UBOT"]
    start = next(i for i, m in enumerate(replies) if shown(m).startswith("Zoe Zendesk (Zendesk): "))
    comment_posts = [shown(m) for m in replies[start:]]
    for number, post in enumerate(comment_posts[1:], start=2):  # if it took more than one post: each says so
        assert post.startswith(f"{CONTINUED}{number})_")
    arrived = " ".join(post.split("\n", 1)[1] if post.startswith(CONTINUED) else post for post in comment_posts)
    assert arrived.split() == ["Zoe", "Zendesk", "(Zendesk):", *body.split()]  # every word, in order
    assert "the rest is in Zendesk" not in arrived
    assert world.slack.refusals() == []
