"""Dispatch broadcast figures: time and vendor API calls to deliver one broadcast to 10, 100 and 500 users.

    .venv/bin/python -m bench.dispatch_broadcast [--sizes 10 100 500]

Each size runs in a fresh emulated world with the real bot (Socket Mode, outbox, GitHub and Slack emulators).
The clock starts when the message is accepted (as `app.py dispatch` or the HTTP intake would hand it over) and
stops when every user has their DM. The numbers describe this machine and the loopback emulators, not Slack:
real Slack allows about one post per second per DM channel plus a workspace-wide cap, which the outbox absorbs
through Retry-After.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.world import World
from tests.e2e.harness import BotUnderTest


def broadcast(world: World, size: int) -> dict:
    users = []
    for n in range(size):
        user_id = f"UB{n:06d}"
        world.slack.add_user(user_id, f"bench{n}", f"Bench User {n}", f"bench{n}@sandbox.example")
        users.append({"slack": f"bench{n}", "slackId": user_id})
    return {
        "type": "broadcast",
        "requestId": f"bench-{size}",
        "users": users,
        "body": {
            "github": {"title": f"Bench broadcast to {size}", "body": "Please rotate your keys."},
            "slack": {"message": "Please rotate your keys today."},
        },
    }


def acknowledge(world: World, service: Any, message: dict, clicks: int) -> tuple[int, float, int]:
    """`clicks` users press Acknowledge at once; returns (clicks, seconds until all are on the issue, comments)."""
    alert = service.alerts.by_request_id(message["requestId"])
    started = time.perf_counter()
    envelopes = []
    for user in message["users"][:clicks]:
        sent = world.slack.dm_messages(user["slackId"])[0]
        channel = world.slack.dm_channel(user["slackId"])
        envelopes.append(world.slack.click_button(user["slackId"], channel, sent["ts"], "dispatch_ack"))
    for envelope in envelopes:
        world.slack.wait_for_ack(envelope, timeout=60)
    world.slack.wait_for(
        lambda: (
            service.store.scalar(
                "SELECT COUNT(*) FROM dispatch_recipients WHERE alert_id = ? AND ack_commented = 1", [alert["id"]]
            )
            == clicks
        ),
        timeout=600,
        message="every acknowledgement on the issue",
    )
    elapsed = time.perf_counter() - started
    world.slack.wait_for(lambda: service.foundation.outbox.counts()["pending"] == 0, timeout=600, message="all updates")
    world.slack.wait_for(  # the message_changed events of those updates, so the bot stops with nothing in flight
        lambda: all(world.slack.acked(e["envelope"]["envelope_id"]) for e in world.slack.envelopes() if e["delivered"]),
        timeout=60,
        message="every envelope acked",
    )
    comments = len(world.github.calls("POST", r"/comments$"))
    return clicks, elapsed, comments


def run(size: int) -> None:
    with tempfile.TemporaryDirectory() as directory, World(Path(directory)) as world:
        world.slack.echo_bot_events = False  # the bot would only ignore its own messages coming back
        message = broadcast(world, size)
        bot = BotUnderTest(world, SLACK_DEFAULT_CHANNEL="#ops")
        try:
            world.slack.reset_requests()
            world.github.reset_requests()
            service = bot.runtime.services["dispatch"]
            started = time.perf_counter()
            service.submit(message, "bench")
            world.slack.wait_for(
                lambda: (alert := service.alerts.by_request_id(f"bench-{size}")) and alert["state"] == "notified",
                timeout=600,
                message="every DM delivered",
            )
            elapsed = time.perf_counter() - started
            acks, ack_seconds, comments = acknowledge(world, service, message, min(size, 50))
        finally:
            bot.stop()
        slack = Counter(r.path.rsplit("/", 1)[-1] for r in world.slack.requests if r.path.startswith("/api/"))
        github = Counter(f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in world.github.requests)
        delivered = sum(1 for u in message["users"] if world.slack.dm_messages(u["slackId"]))
        print(
            f"broadcast to {size:>3} users: {elapsed:6.2f} s ({size / elapsed:5.0f} DMs/s), {delivered} delivered; "
            f"Slack calls: {dict(slack)}; GitHub calls: {dict(github)}; "
            f"{acks} Acknowledge clicks recorded on the issue in {ack_seconds:.2f} s with {comments} GitHub comment(s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    for size in parser.parse_args().sizes:
        run(size)


if __name__ == "__main__":
    main()
