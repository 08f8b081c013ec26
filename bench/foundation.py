"""Foundation figures: Socket Mode ack latency, SQLite write throughput under parallel writers, outbox throughput.

    .venv/bin/python -m bench.foundation [--commands 200] [--writers 8] [--rows 500] [--effects 300]

Everything runs against the loopback fakes; the numbers describe this machine, not Slack.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bot.store import Store
from bot.wiring import MIGRATIONS
from sandbox.world import World
from tests.e2e.harness import BotUnderTest


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ack_latency(world: World, bot: BotUnderTest, commands: int) -> None:
    latencies = []
    for _ in range(commands):
        started = time.perf_counter()
        bot.command("U0BOB", "C0OPS", "/switchboard", "help")
        latencies.append((time.perf_counter() - started) * 1000)
    print(
        f"slash command -> ack over Socket Mode ({commands} commands): "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms, "
        f"max {max(latencies):.1f} ms (Slack's limit: 3000 ms)"
    )


def store_throughput(directory: Path, writers: int, rows: int) -> None:
    store = Store(directory / "bench.db", MIGRATIONS)
    barrier = threading.Barrier(writers + 1)

    def write(n: int) -> None:
        barrier.wait()
        for i in range(rows):
            store.set_state(f"w{n}-{i}", "x")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = writers * rows
    print(
        f"SQLite: {total} write transactions from {writers} threads in {elapsed:.2f} s "
        f"= {total / elapsed:,.0f} commits/s, 0 'database is locked'"
    )
    store.close()


def outbox_throughput(world: World, bot: BotUnderTest, effects: int) -> None:
    outbox = bot.runtime.outbox
    world.slack.echo_bot_events = False  # the bot would only ignore its own 300 messages coming back
    outbox.register(
        "bench.post", lambda p: {"ts": bot.runtime.slack.chat_postMessage(channel="C0GENERAL", text=p["text"])["ts"]}
    )
    started = time.perf_counter()
    for i in range(effects):
        outbox.enqueue(f"bench:{i}", "bench.post", {"text": f"message {i}"})
    world.slack.wait_for(lambda: len(world.slack.messages("C0GENERAL")) >= effects, timeout=120)
    elapsed = time.perf_counter() - started
    print(
        f"outbox: {effects} durable Slack posts enqueued and delivered in {elapsed:.2f} s "
        f"= {effects / elapsed:,.0f}/s (one per key)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--effects", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, World(Path(directory)) as world:
        bot = BotUnderTest(world)
        try:
            ack_latency(world, bot, args.commands)
            outbox_throughput(world, bot, args.effects)
        finally:
            bot.stop()
        store_throughput(Path(directory), args.writers, args.rows)


if __name__ == "__main__":
    main()
