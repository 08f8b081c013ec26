"""Incident sync figures: vendor API calls and wall time per poll cycle, with 10 and 500 open PagerDuty incidents.

    .venv/bin/python -m bench.incident_sync [--sizes 10 500] [--accounts 1]

For each size: a fresh emulated world with that many open (acknowledged) incidents spread over 10 Statuspage
components, 5% of them P1 (so they get Jira issues). Then three cycles, each a PagerDuty poll (+ status page
reconcile) and a Jira poll, counting the requests every fake answered until the outbox is empty:
  1. cold: the bot's first cycle at start, everything new (status incidents opened, Jira issues filed and moved);
  2. steady: nothing changed (the cost of simply watching);
  3. change: every incident of two components resolved (two status incidents resolve, their Jira issues move to
     Done) and one P3 raised to P1 (one new Jira issue).
The bot runs with the test retry profile (no Statuspage pacing); in production Statuspage calls are spaced 1.2 s,
so the line also shows how long those calls take at that pace. The numbers describe this machine, not the vendors.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from sandbox.fakes.base import FakeService
from sandbox.world import World
from tests.e2e.harness import BotUnderTest

COMPONENTS = 10
SERVICE = "PBENCH1"
STATUSPAGE_PACE = 1.2


def counts(fakes: dict[str, FakeService]) -> dict[str, int]:
    return {name: len(fake.requests) for name, fake in fakes.items()}


def cycle(world: World, bot: BotUnderTest, fakes: dict[str, FakeService]) -> tuple[dict[str, int], float]:
    before = counts(fakes)
    started = time.perf_counter()
    bot.runtime.scheduler.run_and_wait("incidents.poll", timeout=600)
    store = bot.runtime.store
    world.jira.wait_for(lambda: not store.scalar("SELECT COUNT(*) FROM outbox WHERE state='pending'"), 600, "drain")
    bot.runtime.scheduler.run_and_wait("jira_sync.poll", timeout=600)
    world.jira.wait_for(lambda: not store.scalar("SELECT COUNT(*) FROM outbox WHERE state='pending'"), 600, "drain")
    elapsed = time.perf_counter() - started
    after = counts(fakes)
    return {name: after[name] - before[name] for name in fakes}, elapsed


def finished(bot: BotUnderTest, job: str) -> bool:
    return bool(
        bot.runtime.store.scalar("SELECT COUNT(*) FROM job_runs WHERE job = ? AND finished_at IS NOT NULL", [job])
    )


def run(size: int) -> None:
    with World(Path(tempfile.mkdtemp(prefix="bench-incidents-"))) as world:
        pd = world.pagerduty
        pd.add_service(SERVICE, "Bench monitors")
        for n in range(COMPONENTS):
            world.statuspage.add_component(f"bench{n}", f"Bench component {n}")
        incidents = []
        for n in range(size):
            priority = "P1" if n % 20 == 0 else "P3"
            tags = f"component:bench{n % COMPONENTS}"
            incident = pd.trigger_incident(SERVICE, f"bench {n}", tags=tags, priority=priority)
            pd.acknowledge(incident["id"])
            incidents.append(incident)
        fakes = {"pagerduty": pd, "statuspage": world.statuspage, "jira": world.jira}
        for fake in fakes.values():
            fake.reset_requests()
        print(f"\n{size} open incidents over {COMPONENTS} components ({(size + 19) // 20} at P1):")
        started = time.perf_counter()
        bot = BotUnderTest(world, INCIDENT_POLL_SECONDS="3600", JIRA_POLL_SECONDS="3600")
        try:
            # Cycle 1 is the poll every job makes at start: everything is new.
            store = bot.runtime.store
            world.jira.wait_for(
                lambda: finished(bot, "incidents.poll") and finished(bot, "jira_sync.poll"), 600, "start"
            )
            world.jira.wait_for(lambda: not store.scalar("SELECT COUNT(*) FROM outbox WHERE state='pending'"), 600, "")
            report("cold  ", counts(fakes), time.perf_counter() - started)
            report("steady", *cycle(world, bot, fakes))
            for n, incident in enumerate(incidents):
                if n % COMPONENTS in (0, 1):  # every incident of two components: their status incidents resolve
                    pd.resolve(incident["id"])
            raised = next(i for n, i in enumerate(incidents) if n % 20 == 3)
            pd.set_priority(raised["id"], "P1")  # and one raised to P1: a new Jira issue
            report("change", *cycle(world, bot, fakes))
        finally:
            bot.stop()


def report(label: str, delta: dict[str, int], elapsed: float) -> None:
    calls = ", ".join(f"{name} {count}" for name, count in delta.items())
    paced = delta["statuspage"] * STATUSPAGE_PACE
    print(f"  {label}: {elapsed * 1000:7.0f} ms wall; API calls: {calls} (Statuspage at 1.2 s/call: {paced:.1f} s)")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)  # the socket closing at the end is not news
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 500])
    args = parser.parse_args()
    for size in args.sizes:
        run(size)


if __name__ == "__main__":
    main()
