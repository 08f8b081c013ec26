"""Support desk figures: Slack message → Zendesk ticket → link in the thread, and Zendesk comment → Slack.

    .venv/bin/python -m bench.support_flow [--messages 100] [--open 10,100,1000] [--comments 10]

1. Zendesk comment → Slack latency with 10, 100 and 1,000 open tickets: agents comment on some tickets, one
   poll cycle runs, and the time until each comment is in its Slack thread is measured, with the number of
   Zendesk requests that cycle made. The open tickets are seeded straight into SQLite and the fake (a
   benchmark shortcut: what is measured is the poll and the posts, which do not care how a ticket began).
2. Messages per second through the whole path: people post N requests in the support channel; each becomes a
   ticket (Zendesk fake) and gets its link and the on-call notice in its thread.

Everything runs against the loopback fakes with the test retry profile (Slack posts unpaced); the numbers
describe this machine. In production add the poll interval (ZENDESK_POLL_SECONDS) and Zendesk's export delay
(it holds back the last minute of changes) to the comment latency, and Slack's ~1 post/s per channel.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sandbox.world import World
from tests.e2e.harness import BotUnderTest

CHANNEL = "C0SUPPORT"
SEED_CHANNEL = "C0BENCH"  # parents of the seeded threads: not a support channel, so posting there opens nothing
AGENT_ID = 950001


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Arrivals:
    """When each bot message appeared in Slack, keyed by a needle found in its text."""

    def __init__(self, world: World):
        self.world = world
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.needles: set[str] = set()
        world.slack.subscribe(self._on_change)

    def _on_change(self, change: dict) -> None:
        if change.get("kind") != "message" or not change.get("bot"):
            return
        text = change.get("text") or ""
        now = time.perf_counter()
        with self.lock:
            for needle in self.needles:
                if needle in text and needle not in self.seen:
                    self.seen[needle] = now

    def expect(self, needles: list[str]) -> None:
        with self.lock:
            self.needles.update(needles)

    def wait(self, needles: list[str], timeout: float) -> dict[str, float]:
        self.world.slack.wait_for(lambda: all(n in self.seen for n in needles), timeout=timeout, message="arrivals")
        with self.lock:
            return {n: self.seen[n] for n in needles}


def message_throughput(world: World, bot: BotUnderTest, messages: int) -> None:
    posted: dict[str, float] = {}
    creates_before = len(world.zendesk.calls("POST", r"/tickets\.json$"))
    started = time.perf_counter()
    for n in range(messages):
        ts, _ = world.slack.post_message("U0BOB", CHANNEL, f"bench request {n}")
        posted[ts] = time.perf_counter()
    world.slack.wait_for(
        lambda: all(
            any("Secondary on call" in (m.get("text") or "") for m in world.slack.replies(CHANNEL, ts)) for ts in posted
        ),
        timeout=600,
        message="every link and on-call notice",
    )
    elapsed = time.perf_counter() - started
    latencies = []  # from Slack's own timestamps (the fake's wall clock): message -> its link reply
    for ts in posted:
        link = next(m for m in world.slack.replies(CHANNEL, ts) if "your new support request" in (m.get("text") or ""))
        latencies.append((float(link["ts"]) - float(ts)) * 1000)
    zendesk = len(world.zendesk.calls("POST", r"/tickets\.json$")) - creates_before
    print(
        f"Slack message -> Zendesk ticket -> link + on-call in the thread: {messages} requests in {elapsed:.2f} s "
        f"= {messages / elapsed:.1f} requests/s; message -> link p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {percentile(latencies, 0.95):.0f} ms ({zendesk} ticket creates, one per message)"
    )


def single_message_latency(world: World, count: int = 10) -> None:
    """One request at a time (no burst): how long a person waits for the ticket link."""
    latencies = []
    for n in range(count):
        ts, _ = world.slack.post_message("U0DAVE", CHANNEL, f"single request {n}")
        link = world.slack.wait_for(
            lambda ts=ts: next(
                (m for m in world.slack.replies(CHANNEL, ts) if "your new support request" in (m.get("text") or "")),
                None,
            ),
            timeout=30,
            message="the link",
        )
        latencies.append((float(link["ts"]) - float(ts)) * 1000)
    print(
        f"one request at a time ({count}): message -> link p50 {statistics.median(latencies):.0f} ms, "
        f"max {max(latencies):.0f} ms"
    )


def seed_open_tickets(world: World, bot: BotUnderTest, target: int) -> None:
    """Top the open tickets up to `target`: a ticket in the fake, a parent message, and the thread row."""
    store = bot.runtime.store
    missing = target - int(store.scalar("SELECT COUNT(*) FROM support_threads WHERE state = 'open'") or 0)
    for n in range(max(missing, 0)):
        ticket = world.zendesk.create_email_ticket(
            f"Seeded {n}", "Seeded ticket", f"user{n}@bench.example", f"User {n}"
        )
        ts, _ = world.slack.post_message("U0CAROL", SEED_CHANNEL, f"seeded request {n}")
        store.execute(
            "INSERT INTO support_threads (channel_id, thread_ts, origin, state, ticket_id, ticket_status, subject, "
            "opened_at) VALUES (?, ?, 'slack', 'open', ?, 'open', ?, ?)",
            [SEED_CHANNEL, ts, ticket["id"], ticket["subject"], time.time()],
        )


def comment_latency(world: World, bot: BotUnderTest, arrivals: Arrivals, open_tickets: int, comments: int) -> None:
    seed_open_tickets(world, bot, open_tickets)
    rows = bot.runtime.store.query("SELECT ticket_id FROM support_threads WHERE state = 'open'")
    chosen = random.sample([r["ticket_id"] for r in rows], comments)
    needles = [f"bench comment {open_tickets}-{ticket_id}" for ticket_id in chosen]
    arrivals.expect(needles)
    bot.runtime.scheduler.run_and_wait("support.poll")  # start from a quiet cursor
    written: dict[str, float] = {}
    for ticket_id, needle in zip(chosen, needles, strict=True):
        world.zendesk.agent_comment(ticket_id, needle, author_id=AGENT_ID)
        written[needle] = time.perf_counter()
    before = len(world.zendesk.calls())
    poll_started = time.perf_counter()
    bot.runtime.scheduler.run_and_wait("support.poll")
    poll_ms = (time.perf_counter() - poll_started) * 1000
    requests = world.zendesk.calls()[before:]
    seen = arrivals.wait(needles, timeout=120)
    latencies = [(seen[n] - written[n]) * 1000 for n in needles]
    kinds = sorted({r.path.split("/api/v2/")[-1] for r in requests})
    print(
        f"{open_tickets:>5} open tickets: {comments} Zendesk comments -> Slack threads in one poll cycle: "
        f"{len(requests)} Zendesk request(s) ({', '.join(kinds)}), poll {poll_ms:.0f} ms, "
        f"comment -> Slack p50 {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--open", default="10,100,1000", help="open-ticket counts to measure, ascending")
    parser.add_argument("--comments", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(size) for size in args.open.split(",")]
    with tempfile.TemporaryDirectory() as directory, World(Path(directory)) as world:
        world.slack.add_channel(SEED_CHANNEL, "bench", members=["UBOT", "U0CAROL"])
        bot = BotUnderTest(world, ZENDESK_POLL_SECONDS="3600")  # polls run only when the bench asks
        arrivals = Arrivals(world)
        try:
            for size in sizes:  # seeded threads first, so "10 open tickets" means ten
                comment_latency(world, bot, arrivals, max(size, args.comments), args.comments)
            single_message_latency(world)
            message_throughput(world, bot, args.messages)
        finally:
            bot.stop()


if __name__ == "__main__":
    main()
