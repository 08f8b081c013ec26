"""On-call sync cost at scale: N links (each a schedule → a channel topic + a usergroup) against the emulators.

    .venv/bin/python -m bench.oncall_sync [--links 100 1000] [--people 50] [--latency-ms 20]

Prints, per N, the vendor calls and wall time of one cycle: the first one (schedule names unknown), the steady
state (nobody changed), and the all-changed case (every schedule hands off at once); and how the Slack writes
that follow are spread: the paced writer runs against a simulated clock, so 1,000 Tier-2 writes show their real
schedule (minutes) without the bench waiting for it. The original tool made about 5 calls per link per run.
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
import time
from pathlib import Path

from bot.oncall.links import Link, add_link, settle_targets
from bot.oncall.writer import SlackWriter
from sandbox.fakes.base import FakeService
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

DAY = 86400.0


class SimulatedClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def seed(world: World, links: int, people: int) -> list[str]:
    """`people` PagerDuty users who are Slack users too; `links` schedules, policies, channels and usergroups."""
    users = []
    for n in range(people):
        email = f"bench{n}@sandbox.example"
        world.slack.add_user(f"UB{n:05d}", f"bench{n}", f"Bench Person {n}", email)
        world.pagerduty.add_user(f"PB{n:05d}", f"Bench Person {n}", email)
        users.append(f"PB{n:05d}")
    now = time.time()
    for n in range(links):
        schedule_id = f"PS{n:05d}"
        world.pagerduty.add_schedule(schedule_id, f"Rotation {n}", shifts=[(users[n % people], now - DAY, now + DAY)])
        world.pagerduty.add_escalation_policy(f"PE{n:05d}", f"Policy {n}", [[schedule_id]])
        world.slack.add_channel(f"CB{n:05d}", f"bench-{n}", members=["UBOT"])
        world.slack.add_usergroup(f"SB{n:05d}", f"bench-{n}")
    return users


def counts(*fakes: FakeService) -> collections.Counter[str]:
    counter: collections.Counter[str] = collections.Counter()
    for fake in fakes:
        for request in fake.requests:
            name = request.path.rsplit("/", 1)[-1] if fake.name == "slack" else request.path
            if fake.name == "pagerduty" and request.path.startswith("/schedules/"):
                name = "/schedules/{id}/overrides" if request.path.endswith("/overrides") else "/schedules/{id}"
            counter[f"{fake.name} {name}"] += 1
    return counter


def describe(counter: collections.Counter[str]) -> str:
    total = sum(counter.values())
    parts = ", ".join(f"{name} {n}" for name, n in sorted(counter.items()))
    return f"{total} calls" + (f" ({parts})" if parts else "")


def cycle(bot: BotUnderTest, world: World) -> tuple[collections.Counter[str], float]:
    """One sync, timed; the calls it made."""
    world.slack.reset_requests()
    world.pagerduty.reset_requests()
    started = time.perf_counter()
    bot.runtime.scheduler.run_and_wait("oncall.sync")
    return counts(world.pagerduty, world.slack), time.perf_counter() - started


def catch_up(bot: BotUnderTest, world: World) -> str:
    """Cycles until one makes no override check (they are capped per cycle): how many it took, what they cost."""
    cycles, total = 0, collections.Counter[str]()
    while cycles < 50:
        calls, _ = cycle(bot, world)
        if not calls["pagerduty /schedules/{id}/overrides"]:
            break
        cycles += 1
        total += calls
    return f"{cycles} more cycle(s) to finish the capped override checks: {describe(total)}" if cycles else ""


def drain_writes(bot: BotUnderTest, world: World, clock: SimulatedClock) -> str:
    """Run the paced writer until nothing waits, jumping the simulated clock to each next free slot."""
    writer = bot.runtime.services["oncall"].writer
    world.slack.reset_requests()
    started_sim, started = clock.now, time.perf_counter()
    made: list[tuple[float, str]] = []  # (simulated time, Slack method) of every call
    while writer.waiting():
        before = len(world.slack.requests)
        bot.runtime.scheduler.run_and_wait("oncall.write")
        made += [(clock.now, r.path.rsplit("/", 1)[-1]) for r in world.slack.requests[before:]]
        free = [w.free_at() for w in writer.windows.values() if w.free_at() > clock.now]
        clock.now = min(free) if free else clock.now + 1.0
    busiest = max(
        (sum(1 for t, m in made if m == method and start <= t < start + 60) for start, method in made), default=0
    )
    minutes = (clock.now - started_sim) / 60
    return (
        f"{describe(counts(world.slack))}; spread over {minutes:.0f} simulated minutes, at most {busiest} calls "
        f"of one method in any minute; {time.perf_counter() - started:.1f} s spent in calls"
    )


def bench(links: int, people: int, latency: float) -> None:
    print(f"\n== {links} links ({people} people on call, {latency * 1000:.0f} ms per vendor call)")
    with World(Path(tempfile.mkdtemp(prefix="oncall-bench-"))) as world:
        users = seed(world, links, people)
        off = {name: "" for name in ("GITHUB_TOKEN", "SUPPORT_CHANNELS", "STATUSPAGE_API_KEY", "JIRA_URL")}
        bot = BotUnderTest(world, ONCALL_SYNC_MINUTES="1440", **off)  # only on-call runs: its calls alone count
        store = bot.runtime.store
        finished = "SELECT COUNT(*) FROM job_runs WHERE job = ? AND finished_at IS NOT NULL"
        world.slack.wait_for(lambda: all(store.scalar(finished, [job]) for job in ("oncall.sync", "oncall.write")))
        service = bot.runtime.services["oncall"]
        clock = SimulatedClock()
        service.writer = SlackWriter(bot.runtime.store, bot.runtime.slack, clock=clock)
        service._local.hold_writes = True  # this thread's syncs leave the writes to drain_writes, to count them apart
        with bot.runtime.store.write() as db:
            for n in range(links):
                add_link(db, Link((f"PS{n:05d}",), {}, (f"CB{n:05d}",), (f"SB{n:05d}",)), created_by="bench")
            settle_targets(db)
        world.pagerduty.latency = world.slack.latency = latency
        calls, seconds = cycle(bot, world)
        print(f"first cycle (schedule names unknown): {describe(calls)}, {seconds:.2f} s")
        print(f"  its writes: {drain_writes(bot, world, clock)}")
        print(f"  {catch_up(bot, world) or 'no override check left for later cycles'}")
        calls, seconds = cycle(bot, world)
        print(f"steady state: {describe(calls)}, {seconds:.2f} s; writes: {describe(counts(world.slack))}")
        now = world.pagerduty.now()
        for n in range(links):  # everyone hands over at once
            world.pagerduty.set_shifts(f"PS{n:05d}", [(users[(n + 1) % people], now - 60, now + DAY)])
        calls, seconds = cycle(bot, world)
        print(f"all changed: {describe(calls)}, {seconds:.2f} s")
        print(f"  its writes: {drain_writes(bot, world, clock)}")
        print(f"  {catch_up(bot, world) or 'no override check left for later cycles'}")
        service.forget_slack_state()  # what a restart does
        calls, seconds = cycle(bot, world)
        print(f"after a restart: {describe(calls)}, {seconds:.2f} s")
        print(f"  topic reads: {drain_writes(bot, world, clock)}")
        print(f"original tool: about {5 * links} calls every 5 minutes (≈5 per link per run), changed or not")
        state = json.loads(bot.runtime.store.get_state("oncall.last_sync") or "{}")
        assert state.get("error") is None, state
        bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    for links in args.links:
        bench(links, args.people, args.latency_ms / 1000.0)


if __name__ == "__main__":
    main()
