"""Soak: the bot as its own process (`python app.py`) for minutes against the emulators with their rate limits on,
killed with SIGKILL and restarted, while people use it. Then the on-call cold start, measured to completion.

    .venv/bin/python -m bench.soak [--minutes 10] [--links 1000] [--tickets 500] [--incidents 200]
        [--commands-per-minute 50] [--kills 2] [--cold-links N] ...      (--help lists every option)

Phase 1, the soak. The world: N on-call links (each a PagerDuty schedule -> a channel topic + a usergroup; a few
of them hand over every few minutes with ONCALL_HANDOFF_DM on), M open support tickets with their Slack threads
(seeded straight into the database and the Zendesk emulator, as bench/support_flow.py does), K open, acknowledged
PagerDuty incidents over components of the status page (one in twenty at P1, so they get Jira issues). The bot
starts on that, and during the soak:
  - slash commands at a steady rate, spread over several people (the bot lets one person run 10 a minute), each
    timed from sending to its ack over Socket Mode;
  - people ask questions in the support channel (each must become exactly one Zendesk ticket and one link post);
  - agents comment in Zendesk (each comment must reach its Slack thread exactly once);
  - every minute a new component gets incidents, or every incident of a component is resolved (each component
    must get exactly one status incident, resolved when its incidents are; each P1 exactly one Jira issue);
  - the bot is killed (SIGKILL) `--kills` times at even intervals and restarted a second later. Events it never
    acknowledged are sent again once it is back, as Slack retries them. Slash commands pause while it is down
    (Slack would show those people an error: nobody could answer them).
Then the traffic stops and the bench waits (up to --settle-minutes) for every effect the scenario asked for, and
counts what is missing (lost) and what came more than once (duplicated). It prints ack p50/p99, job lag (from
`job_runs`: how much later than its interval each run started), the bot's RSS (VmRSS, sampled every second),
the database size, and every vendor's calls per minute against its limit, with the 429s it answered.

Phase 2, the on-call cold start: a fresh world with --cold-links links and nothing else going on; the time from
starting the bot until every channel topic is written, against Slack's floor for that many
`conversations.setTopic` calls (Tier 2: 20 in any minute, so the 1,000th call can go no sooner than 49 minutes
after the first: 50 minutes at 20 a minute). It runs to completion, so with 1,000 links it takes about an hour;
--cold-links 0 skips it.

Everything listens on and talks to 127.0.0.1 only. The bench stops by itself and ends every process it started.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.oncall.links import Link, add_link, settle_targets
from bot.settings import ROOT
from bot.store import Store
from bot.wiring import open_store
from sandbox.fakes.base import FakeRequest, FakeService
from sandbox.fakes.slack import rate_limits
from sandbox.fakes.statuspage import VENDOR_REQUESTS_PER_SECOND
from sandbox.fakes.zendesk import ACCOUNT_LIMIT_PER_MINUTE, EXPORT_REQUESTS_PER_MINUTE
from sandbox.world import World

DAY = 86400.0
PEOPLE = 50  # PagerDuty users who are Slack users too, on call for the links that do not hand over
SUPPORT_CHANNEL = "C0SUPPORT"  # the world's support channel (SUPPORT_CHANNELS)
TICKET_CHANNEL = "C0SOAKTK"  # parents of the seeded ticket threads: not a support channel, so they open nothing
AGENT_ID = 960001
MONITORS = "PSOAKMON"  # the PagerDuty service the incidents come from
COMMANDS_PER_PERSON = 5  # a minute: under the bot's 10 (SWITCHBOARD_COMMANDS_PER_MINUTE)
FIRST_HANDOFF_SECONDS = 60.0  # after seeding; only hand-offs after the bot's first on-call cycle count
RETRY_AFTER_SECONDS = 3.0  # Slack sends an event again when its ack has not come within 3 seconds
ID_SEGMENT = re.compile(r"/(?!v\d+(?:/|$))(?=[^/]*\d)[^/]+")  # a segment with a digit (not /v2): an id
SLACK_ACK_LIMIT_MS = 3000.0  # Slack shows the person an error past it
TIER2_PER_MINUTE = rate_limits.TIER_PER_MINUTE[2]
# What each vendor documents, in calls a minute; the emulators enforce Slack's, Zendesk's exports and Statuspage's.
VENDOR_LIMITS: dict[str, tuple[int | None, str]] = {
    "pagerduty": (960, "REST API, per key (https://support.pagerduty.com/docs/rest-api-rate-limits)"),
    "zendesk": (ACCOUNT_LIMIT_PER_MINUTE, f"account (Enterprise); incremental exports {EXPORT_REQUESTS_PER_MINUTE}"),
    "statuspage": (int(VENDOR_REQUESTS_PER_SECOND * 60), "about one request a second per key"),
    "github": (83, "5,000 an hour"),
    "jira": (None, "cost-based, no fixed per-minute figure"),
}
# The slash commands people run, in turn; "{linked}" is a channel with an on-call link. One `/oncall list` in 25
# (its answer names every link: several messages, the ones past five by DM).
COMMAND_MIX: tuple[tuple[str, str, str], ...] = (
    *(
        ("/oncall", "", "{linked}"),
        ("/switchboard", "help", "C0OPS"),
        ("/support", "status", "C0OPS"),
        ("/oncall", "", "{linked}"),
        ("/statuspage", "status", "C0OPS"),
        ("/switchboard", "status", "C0OPS"),
        ("/oncall", "help", "{linked}"),
        ("/oncall", "", "{linked}"),
    )
    * 3,
    ("/oncall", "list", "C0OPS"),
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def busiest_minute(times: Iterable[float]) -> int:
    """The most of these moments that fall in any 60 seconds."""
    return busiest_window(times)[0]


def busiest_window(times: Iterable[float]) -> tuple[int, float]:
    """(the most of these moments in any 60 seconds, when that minute began)."""
    ordered, best, began, first = sorted(times), 0, 0.0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= 60.0:
            first += 1
        if last - first + 1 > best:
            best, began = last - first + 1, ordered[first]
    return best, began


def endpoint(request: FakeRequest) -> str:
    """A request's method and path with its ids left out, e.g. `GET /schedules/{id}`."""
    return f"{request.method} {ID_SEGMENT.sub('/{id}', request.path)}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the world -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Handoff:
    """Someone who comes on call for a hand-off schedule at `start`: the bot owes them one DM."""

    slack_id: str
    schedule_name: str
    start: float
    end: float


@dataclass
class Seeded:
    linked_channels: list[str]
    handoffs: list[Handoff]
    tickets: list[int]
    components: list[str]  # with open incidents at start
    spare_components: list[str]  # on the page, incidents come during the soak
    incidents_by_component: dict[str, list[str]]
    p1_numbers: list[int]


def seed_oncall(world: World, links: int, handoff_links: int, shift_seconds: float, last_handoff: float) -> Seeded:
    """`links` schedules, each reached through an escalation policy (as PagerDuty's /oncalls needs), with a channel
    and a usergroup. The first `handoff_links` alternate between two people of their own every `shift_seconds`
    from FIRST_HANDOFF_SECONDS on, until `last_handoff`; the others keep one of PEOPLE on call all day."""
    now = time.time()
    pd, slack = world.pagerduty, world.slack
    people = []
    for n in range(PEOPLE):
        email = f"oncall{n}@soak.example"
        slack.add_user(f"UP{n:05d}", f"oncall{n}", f"On-call Person {n}", email)
        pd.add_user(f"PP{n:05d}", f"On-call Person {n}", email)
        people.append(f"PP{n:05d}")
    boundaries = []
    moment = now + FIRST_HANDOFF_SECONDS
    while moment <= last_handoff:
        boundaries.append(moment)
        moment += shift_seconds
    handoffs: list[Handoff] = []
    channels = []
    for n in range(links):
        schedule_id, name = f"PS{n:05d}", f"Rotation {n}"
        if n < handoff_links and boundaries:
            name = f"Handoff {n}"
            pair = []
            for side in "AB":
                email = f"handoff{n}{side.lower()}@soak.example"
                slack.add_user(f"UH{n:04d}{side}", f"handoff{n}{side.lower()}", f"Handoff Person {n}{side}", email)
                pd.add_user(f"PH{n:04d}{side}", f"Handoff Person {n}{side}", email)
                pair.append(f"PH{n:04d}{side}")
            edges = [now - DAY, *boundaries, now + DAY]
            shifts = [(pair[k % 2], edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
            handoffs += [
                Handoff(f"UH{n:04d}{'AB'[k % 2]}", name, edges[k], edges[k + 1]) for k in range(1, len(edges) - 1)
            ]
        else:
            shifts = [(people[n % PEOPLE], now - DAY, now + DAY)]
        pd.add_schedule(schedule_id, name, shifts=shifts)
        pd.add_escalation_policy(f"PE{n:05d}", f"Policy {n}", [[schedule_id]])
        slack.add_channel(f"CS{n:05d}", f"soak-{n}", members=["UBOT"])
        slack.add_usergroup(f"SS{n:05d}", f"soak-{n}")
        channels.append(f"CS{n:05d}")
    return Seeded(channels, handoffs, [], [], [], {}, [])


def seed_links(store: Store, links: int) -> None:
    """The links straight into the database, as `app.py oncall import` would leave them."""
    with store.write() as db:
        for n in range(links):
            add_link(db, Link((f"PS{n:05d}",), {}, (f"CS{n:05d}",), (f"SS{n:05d}",)), created_by="soak")
        settle_targets(db)


def seed_tickets(world: World, store: Store, seeded: Seeded, tickets: int) -> None:
    """Open tickets in Zendesk, each with its Slack thread row (created before the bot's first export window)."""
    world.slack.add_channel(TICKET_CHANNEL, "soak-tickets", members=["UBOT", "U0CAROL"])
    world.zendesk.add_agent(AGENT_ID, "Soak Agent", "agent@soak.example")
    rows = []
    for n in range(tickets):
        ticket = world.zendesk.create_email_ticket(f"Soak ticket {n}", "It broke.", f"cust{n}@soak.example", f"C {n}")
        ts, _ = world.slack.post_message("U0CAROL", TICKET_CHANNEL, f"soak request {n}")
        rows.append([TICKET_CHANNEL, ts, ticket["id"], ticket["subject"], time.time()])
        seeded.tickets.append(ticket["id"])
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO support_threads (channel_id, thread_ts, origin, state, ticket_id, ticket_status, subject, "
            "opened_at) VALUES (?, ?, 'slack', 'open', ?, 'open', ?, ?)",
            rows,
        )


def seed_incidents(world: World, seeded: Seeded, incidents: int, spare: int) -> None:
    """Open, acknowledged incidents over components (ten each), one in twenty at P1; `spare` more components."""
    pd = world.pagerduty
    pd.add_service(MONITORS, "Soak monitors")
    count = max(1, incidents // 10) if incidents else 0
    seeded.components = [f"soak{n}" for n in range(count)]
    seeded.spare_components = [f"soaknew{n}" for n in range(spare)]
    for component in seeded.components + seeded.spare_components:
        world.statuspage.add_component(component, f"Soak component {component}")
    for n in range(incidents):
        open_incident(world, seeded, seeded.components[n % count], f"soak incident {n}", "P1" if n % 20 == 0 else "P3")


def open_incident(world: World, seeded: Seeded, component: str, title: str, priority: str) -> None:
    incident = world.pagerduty.trigger_incident(MONITORS, title, tags=f"component:{component}", priority=priority)
    world.pagerduty.acknowledge(incident["id"])
    seeded.incidents_by_component.setdefault(component, []).append(incident["id"])
    if priority == "P1":
        seeded.p1_numbers.append(int(incident["incident_number"]))


# --- the bot as a process ------------------------------------------------------------------------
@dataclass
class Life:
    pid: int
    started_at: float
    connected_at: float = 0.0
    ended_at: float = 0.0
    how: str = "running"  # "killed" or "stopped"
    peak_rss_kb: int = 0  # VmHWM when it ended


class BotProcess:
    """`python app.py` with the world's settings; started, killed with SIGKILL, restarted, stopped."""

    def __init__(self, world: World, env: dict[str, str], log_path: Path):
        self.world = world
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.lives: list[Life] = []
        self.up = threading.Event()  # connected to Slack

    def start(self, timeout: float = 180.0) -> Life:
        hellos = self.world.slack.hello_count
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "app.py"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        life = Life(self.process.pid, time.time())
        self.lives.append(life)

        def connected() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode} at start; see {self.log_path}")
            return self.world.slack.hello_count > hellos and self.world.slack.connection_count > 0

        self.world.slack.wait_for(connected, timeout, "the bot to connect")
        life.connected_at = time.time()
        self.up.set()
        return life

    def rss_kb(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the running bot in kB; (0, 0) if it is not running."""
        process = self.process
        if process is None or process.poll() is not None:
            return 0, 0
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
        except OSError:
            return 0, 0
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
        return int(values.get("VmRSS", 0)), int(values.get("VmHWM", 0))

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; whatever was in flight is where it was."""
        process = self.process
        assert process is not None
        self.lives[-1].peak_rss_kb = self.rss_kb()[1]
        self.up.clear()
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        self.lives[-1].ended_at, self.lives[-1].how = time.time(), "killed"

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), SIGKILL if it has not ended within a minute."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        self.lives[-1].peak_rss_kb = self.rss_kb()[1]
        self.up.clear()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        self.lives[-1].ended_at, self.lives[-1].how = time.time(), "stopped"

    def life_at(self, moment: float) -> int | None:
        for index, life in enumerate(self.lives):
            if life.started_at <= moment < (life.ended_at or float("inf")):
                return index
        return None


def bot_env(world: World, **overrides: str) -> dict[str, str]:
    """Only what the bot needs: no proxy or Switchboard settings leak in from the bench's own environment."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TZ") if name in os.environ}
    return {**keep, "PYTHONUNBUFFERED": "1", **world.env(**overrides)}


def read_only(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)


# --- what the bench watches while it runs ---------------------------------------------------------
class Watch:
    """Samples, every second, the bot's RSS; every five seconds, the new `job_runs` rows (the table keeps only the
    last 200 runs of each job, fewer than the outbox job makes in ten minutes); every 30 s the database size."""

    def __init__(self, bot: BotProcess, database: Path):
        self.bot = bot
        self.database = database
        self.rss: list[tuple[float, int]] = []  # (when, VmRSS kB)
        self.runs: dict[int, tuple[str, float, float | None]] = {}  # id -> (job, started_at, finished_at)
        self.sizes: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="soak-watch", daemon=True)

    def _loop(self) -> None:
        tick = 0
        while not self.stop.wait(1.0):
            rss, _ = self.bot.rss_kb()
            if rss:
                self.rss.append((time.time(), rss))
            if tick % 5 == 0:
                self.read_runs()
            if tick % 30 == 0:
                self.sizes.append((time.time(), database_bytes(self.database)))
            tick += 1

    def read_runs(self) -> None:
        newest = max(self.runs, default=0)
        try:
            with contextlib.closing(read_only(self.database)) as conn:
                rows = conn.execute(
                    "SELECT id, job, started_at, finished_at FROM job_runs WHERE id > ?", [newest - 400]
                ).fetchall()
        except sqlite3.Error:
            return  # busy or not created yet: the next sample reads it
        for run_id, job, started_at, finished_at in rows:
            self.runs[run_id] = (job, started_at, finished_at)


def database_bytes(database: Path) -> int:
    return sum(p.stat().st_size for p in (database, Path(f"{database}-wal")) if p.exists())


# --- traffic -------------------------------------------------------------------------------------
@dataclass
class Sent:
    envelope_id: str
    at: float
    command: str
    life: int


@dataclass
class Traffic:
    """People and vendors acting during the soak, each on its own thread at its own steady rate."""

    world: World
    bot: BotProcess
    seeded: Seeded
    commands_per_minute: float
    users: list[str]
    questions_per_minute: float
    comments_per_minute: float
    stop: threading.Event = field(default_factory=threading.Event)
    commands: list[Sent] = field(default_factory=list)
    skipped_while_down: int = 0
    questions: list[tuple[str, str]] = field(default_factory=list)  # (ts, envelope id)
    comments: list[tuple[int, str]] = field(default_factory=list)  # (ticket id, needle)
    resolved_components: list[str] = field(default_factory=list)
    opened_components: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def threads(self) -> list[threading.Thread]:
        work: list[tuple[str, float, Callable[[int], None]]] = [
            ("commands", self.commands_per_minute, self._command),
            ("questions", self.questions_per_minute, self._question),
            ("comments", self.comments_per_minute, self._comment),
            ("incidents", 1.0, self._incident_change),
        ]
        return [
            threading.Thread(target=self._steady, args=(rate, act, name), name=f"soak-{name}", daemon=True)
            for name, rate, act in work
            if rate > 0
        ]

    def _steady(self, per_minute: float, act: Callable[[int], None], name: str) -> None:
        """`act(n)` at an even pace; a slot that is late is taken at once, never made up in a burst."""
        gap, started, n = 60.0 / per_minute, time.time(), 0
        while not self.stop.wait(max(0.0, started + n * gap - time.time())):
            try:
                act(n)
            except Exception as error:  # one failed action is counted, the soak goes on
                self.errors[f"{name}: {type(error).__name__}: {error}"[:160]] += 1
            n += 1

    def _command(self, n: int) -> None:
        if not self.bot.up.is_set():
            self.skipped_while_down += 1
            return
        command, text, channel = COMMAND_MIX[n % len(COMMAND_MIX)]
        if channel == "{linked}":
            channel = self.seeded.linked_channels[(n * 7919) % len(self.seeded.linked_channels)]
        user = self.users[n % len(self.users)]
        life = len(self.bot.lives) - 1
        at = time.time()
        envelope_id = self.world.slack.slash_command(user, channel, command, text)
        self.commands.append(Sent(envelope_id, at, f"{command} {text}".strip(), life))

    def _question(self, n: int) -> None:
        user = self.users[n % len(self.users)]
        ts, envelope_id = self.world.slack.post_message(user, SUPPORT_CHANNEL, f"Soak question {n}: the VPN drops")
        self.questions.append((ts, envelope_id))

    def _comment(self, n: int) -> None:
        ticket_id = self.seeded.tickets[(n * 104729) % len(self.seeded.tickets)]
        needle = f"SOAKCOMMENT{n:05d}X"
        self.world.zendesk.agent_comment(ticket_id, f"Agent reply {needle}", author_id=AGENT_ID)
        self.comments.append((ticket_id, needle))

    def _incident_change(self, n: int) -> None:
        """Even minutes: a new component gets two incidents (one P1). Odd: a component's incidents all resolve."""
        if n == 0:
            return  # the first minute is the bot's own start
        if n % 2 and self.seeded.spare_components[len(self.opened_components) :]:
            component = self.seeded.spare_components[len(self.opened_components)]
            open_incident(self.world, self.seeded, component, f"soak new {component} a", "P1")
            open_incident(self.world, self.seeded, component, f"soak new {component} b", "P3")
            self.opened_components.append(component)
        elif not n % 2 and self.seeded.components[len(self.resolved_components) :]:
            component = self.seeded.components[len(self.resolved_components)]
            for incident_id in self.seeded.incidents_by_component[component]:
                self.world.pagerduty.resolve(incident_id)
            self.resolved_components.append(component)


def retry_unacked_events(world: World, before_start: set[str], retried: set[str]) -> int:
    """What Slack does for events nobody acknowledged: send them again (retry_attempt 1, reason timeout)."""
    count, now = 0, time.time()
    for record in world.slack.envelopes("events_api"):
        envelope_id = record["envelope"]["envelope_id"]
        if envelope_id in before_start or envelope_id in retried or record.get("acked_at"):
            continue
        if record.get("delivered") and now - (record.get("sent_at") or now) < RETRY_AFTER_SECONDS:
            continue  # its ack may still come
        retried.add(envelope_id)
        world.slack.redeliver(envelope_id, retry_attempt=1, retry_reason="timeout")
        count += 1
    return count


# --- effects: what was asked for, what happened ---------------------------------------------------
@dataclass
class Tally:
    name: str
    expected: int
    lost: list[str]
    duplicated: list[str]


def tally(name: str, counts: dict[str, int | tuple[int, int]]) -> Tally:
    """`counts`: for each effect the scenario asked for, how many times it happened (exactly once is right), or
    (happened, asked) when it was asked for several times."""
    pairs = {key: value if isinstance(value, tuple) else (value, 1) for key, value in counts.items()}
    lost = [f"{key} ({asked - n} of {asked})" for key, (n, asked) in pairs.items() if n < asked]
    duplicated = [f"{key} ({n} for {asked})" for key, (n, asked) in pairs.items() if n > asked]
    return Tally(name, sum(asked for _, asked in pairs.values()), lost, duplicated)


def effects(world: World, traffic: Traffic, seeded: Seeded, watch: Watch) -> list[Tally]:
    slack = world.slack
    tickets = Counter(t.get("external_id") for t in world.zendesk.tickets())
    support_messages = slack.messages(SUPPORT_CHANNEL)
    links: Counter[str] = Counter()
    notices: Counter[str] = Counter()
    for message in support_messages:
        if message.get("user") == "UBOT" and message.get("thread_ts"):
            text = message.get("text") or ""
            links[message["thread_ts"]] += "your new support request is" in text
            notices[message["thread_ts"]] += "Primary on call" in text
    asked = [ts for ts, _ in traffic.questions]
    thread_texts = [m.get("text") or "" for m in slack.messages(TICKET_CHANNEL) if m.get("user") == "UBOT"]
    forwarded = Counter(needle for text in thread_texts for needle in re.findall(r"SOAKCOMMENT\d{5}X", text))
    by_component: Counter[str] = Counter()
    resolved: set[str] = set()
    for incident in world.statuspage.incidents():
        for component in incident["components"]:
            by_component[component["id"]] += 1
            if incident["status"] == "resolved":
                resolved.add(component["id"])
    labels = Counter(label for issue in world.jira.issues() for label in issue["fields"].get("labels") or [])
    components = seeded.components + traffic.opened_components
    return [
        tally("Zendesk ticket per Slack question", {ts: tickets[f"slack:{SUPPORT_CHANNEL}:{ts}"] for ts in asked}),
        tally("ticket link posted in its thread", {ts: links[ts] for ts in asked}),
        tally("on-call notice posted in its thread", {ts: notices[ts] for ts in asked}),
        tally("Zendesk comment in its Slack thread", {needle: forwarded[needle] for _, needle in traffic.comments}),
        tally("hand-off DM", handoff_dms(world, seeded, watch)),
        tally("status incident per component", {c: by_component[c] for c in components}),
        tally("status incident resolved", {c: int(c in resolved) for c in traffic.resolved_components}),
        tally("Jira issue per P1 incident", {f"#{n}": labels[f"pagerduty-{n}"] for n in seeded.p1_numbers}),
    ]


def handoff_dms(world: World, seeded: Seeded, watch: Watch) -> dict[str, int | tuple[int, int]]:
    """(DMs, hand-offs) per person and schedule. A hand-off counts once it has happened and the bot had finished a
    cycle before it (the first cycle only learns who is on call: the first sight of a schedule is no hand-off)."""
    runs = list(watch.runs.values())
    first_cycles = [started for job, started, finished in runs if job == "oncall.sync" and finished]
    if not first_cycles:
        return {}
    now, seen_from = time.time(), min(first_cycles)
    asked = Counter((h.slack_id, h.schedule_name) for h in seeded.handoffs if seen_from < h.start <= now)
    sent: Counter[tuple[str, str]] = Counter()
    for user in {h.slack_id for h in seeded.handoffs}:
        for message in world.slack.dm_messages(user):
            found = re.search(r"You are now on call for (.+?)(?: until |\.$)", message.get("text") or "")
            if found:
                sent[(user, found.group(1))] += 1
    return {f"{user} {name}": (sent[(user, name)], asked[(user, name)]) for user, name in asked}


def outbox_states(database: Path) -> dict[str, int]:
    with contextlib.closing(read_only(database)) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())


def outbox_delays(database: Path) -> list[tuple[str, int, float, float]]:
    """(kind, done, p50, max seconds from queued to done): the outbox performs effects one at a time."""
    with contextlib.closing(read_only(database)) as conn:
        rows = conn.execute("SELECT kind, done_at - created_at FROM outbox WHERE state = 'done'").fetchall()
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, delay in rows:
        by_kind[kind].append(delay)
    return [(kind, len(d), percentile(d, 0.5), max(d)) for kind, d in sorted(by_kind.items())]


def heartbeat_intervals(database: Path) -> dict[str, float]:
    with contextlib.closing(read_only(database)) as conn:
        row = conn.execute("SELECT value FROM state WHERE key = 'core.heartbeat'").fetchone()
    jobs = json.loads(row[0]).get("jobs", []) if row else []
    return {job["name"]: float(job["interval"]) for job in jobs if job.get("interval")}


# --- reports -------------------------------------------------------------------------------------
def ack_report(traffic: Traffic, bot: BotProcess) -> tuple[float, float]:
    slack = traffic.world.slack
    latencies: list[float] = []
    by_command: dict[str, list[float]] = defaultdict(list)
    unacked_at_kill, unacked, unanswered = 0, 0, 0
    answered = {r["id"] for r in slack.responses}
    for sent in traffic.commands:
        record = slack.envelope(sent.envelope_id) or {}
        life = bot.lives[sent.life]
        if not record.get("acked_at"):
            if life.how == "killed" and life.ended_at - sent.at < 10:
                unacked_at_kill += 1
            else:
                unacked += 1
            continue
        latency = (record["acked_at"] - sent.at) * 1000
        latencies.append(latency)
        by_command[sent.command].append(latency)
        inline = (slack.acked(sent.envelope_id) or {}).get("payload")
        if not inline and record.get("response_id") not in answered:
            unanswered += 1
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    over = sum(1 for latency in latencies if latency > SLACK_ACK_LIMIT_MS)
    print(
        f"\nSlash commands: {len(traffic.commands)} sent ({len(traffic.users)} people), {len(latencies)} acked; "
        f"{traffic.skipped_while_down} not sent while the bot was down"
    )
    print(
        f"  ack p50 {p50:.1f} ms, p90 {percentile(latencies, 0.9):.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(latencies, default=0):.1f} ms; past Slack's 3 s: {over}"
    )
    print(f"  never acked: {unacked_at_kill} sent in the last 10 s before a kill, {unacked} otherwise")
    print(f"  acked but never answered: {unanswered}")
    for command, values in sorted(by_command.items()):
        print(
            f"    {command:<22} {len(values):>4} acks, p50 {percentile(values, 0.5):6.1f} ms, "
            f"p99 {percentile(values, 0.99):6.1f} ms"
        )
    return p50, p99


def lag_report(watch: Watch, bot: BotProcess, intervals: dict[str, float]) -> None:
    """Lateness of a run: how long after `previous start + interval` it started, within one life of the bot."""
    starts: dict[str, list[float]] = defaultdict(list)
    durations: dict[str, list[float]] = defaultdict(list)
    for job, started_at, finished_at in watch.runs.values():
        starts[job].append(started_at)
        if finished_at is not None:
            durations[job].append(finished_at - started_at)
    print("\nJob lag (lateness of each run against its interval; gaps across a restart left out):")
    print(f"  {'job':<22} {'interval':>9} {'runs':>5} {'p50 late':>9} {'p99 late':>9} {'max late':>9} {'max run':>8}")
    for job in sorted(starts):
        interval = intervals.get(job)
        ordered = sorted(starts[job])
        late = [
            max(0.0, later - earlier - interval)
            for earlier, later in itertools.pairwise(ordered)
            if interval and bot.life_at(earlier) == bot.life_at(later)
        ]
        shown = f"{interval:.0f} s" if interval else "on demand"
        print(
            f"  {job:<22} {shown:>9} {len(ordered):>5} {percentile(late, 0.5) if late else 0:>8.2f}s "
            f"{percentile(late, 0.99) if late else 0:>8.2f}s {max(late, default=0):>8.2f}s "
            f"{max(durations[job], default=0):>7.1f}s"
        )


def slack_method(request: FakeRequest) -> str:
    return request.path[len("/api/") :] if request.path.startswith("/api/") else "response_url"


def vendor_report(world: World, since: float, until: float, restarts: list[float]) -> int:
    """Calls a minute against each vendor's limit; returns how many calls were refused for a rate limit."""
    minutes = max((until - since) / 60, 1e-9)
    refused_total = 0

    def after_restart(request: FakeRequest) -> bool:
        """In the minute after a restart: the new process cannot know what the killed one spent."""
        return any(0 <= request.at - t < 60 for t in restarts)

    def causes(requests: list[FakeRequest], limit: int | None) -> str:
        """Why calls were refused: just after a restart, or how early they came for the vendor's window (the bot
        counts a call when it makes it, the vendor when it arrives)."""
        refused = [r for r in requests if r.status in (420, 429)]
        restart = [r for r in refused if after_restart(r)]
        parts = [f"{len(restart)} in the minute after a restart"] if restart else []
        others = [r for r in refused if not after_restart(r)]
        if limit and others:
            accepted = sorted(r.at for r in requests if r.status not in (420, 429))
            early = []
            for request in others:
                window = accepted[
                    bisect.bisect_right(accepted, request.at - 60) : bisect.bisect_right(accepted, request.at)
                ]
                if len(window) >= limit:
                    early.append(window[0] + 60 - request.at)
            if early:
                parts.append(
                    f"{len(others)} others, {sum(1 for e in early if e < 1)} of them less than 1 s before a slot "
                    f"freed (at most {max(early):.1f} s before)"
                )
        elif others:
            parts.append(f"{len(others)} others")
        return f"; refused: {', '.join(parts)}" if parts else ""

    print(f"\nVendor calls over {minutes:.1f} minutes (busiest = most calls in any 60 s; refused = 429/420):")
    print(f"  {'vendor / method':<32} {'calls':>6} {'per min':>8} {'busiest':>8} {'limit':>6} {'refused':>8}")
    slack_calls: dict[str, list[FakeRequest]] = defaultdict(list)
    for request in world.slack.calls():
        if since <= request.at <= until:
            slack_calls[slack_method(request)].append(request)
    for method, requests in sorted(slack_calls.items()):
        refused = sum(1 for r in requests if r.status == 429)
        refused_total += refused
        accepted = [r for r in requests if r.status != 429]
        limit: int | None = None
        busiest = busiest_minute(r.at for r in accepted)
        note = ""
        if method == "chat.postMessage":
            per_channel: dict[str, list[float]] = defaultdict(list)
            for r in accepted:
                per_channel[str(r.args().get("channel"))].append(r.at)
            channel_peak = max((busiest_minute(times) for times in per_channel.values()), default=0)
            limit = rate_limits.POST_MESSAGE_PER_WORKSPACE_PER_MINUTE
            note = f"  (one channel: {channel_peak} of {rate_limits.POST_MESSAGE_PER_CHANNEL_PER_MINUTE})"
        elif method in rate_limits.TIERS or method in rate_limits.SPECIAL_METHODS:
            limit = rate_limits.per_minute(method)
            note = f"  (Tier {rate_limits.TIERS[method]})" if method in rate_limits.TIERS else ""
        print(
            f"  slack {method:<26} {len(requests):>6} {len(requests) / minutes:>8.1f} {busiest:>8} "
            f"{'-' if limit is None else limit:>6} {refused:>8}{note}{causes(requests, limit)}"
        )
    fakes: list[FakeService] = [world.pagerduty, world.zendesk, world.statuspage, world.github, world.jira]
    for fake in fakes:
        requests = [r for r in fake.calls() if since <= r.at <= until]
        refused = sum(1 for r in requests if r.status in (420, 429))
        refused_total += refused
        limit_value, meaning = VENDOR_LIMITS[fake.name]
        shown = "-" if limit_value is None else str(limit_value)
        accepted = [r for r in requests if r.status not in (420, 429)]
        busiest, began = busiest_window(r.at for r in accepted)
        print(
            f"  {fake.name:<32} {len(requests):>6} {len(requests) / minutes:>8.1f} {busiest:>8} {shown:>6} "
            f"{refused:>8}  ({meaning}{causes(requests, None)})"
        )
        if limit_value is not None and busiest > limit_value:  # what that minute was made of
            calls = Counter(endpoint(r) for r in accepted if began <= r.at < began + 60)
            parts = ", ".join(f"{n} {name}" for name, n in calls.most_common(4))
            print(f"    {'':<30} busiest minute began {began - since:.0f} s in: {parts}")
        if fake.name == "zendesk":
            exports = [r for r in requests if "/incremental/" in r.path]
            print(
                f"  {'  zendesk incremental exports':<32} {len(exports):>6} {len(exports) / minutes:>8.1f} "
                f"{busiest_minute(r.at for r in exports if r.status != 429):>8} {EXPORT_REQUESTS_PER_MINUTE:>6} "
                f"{sum(1 for r in exports if r.status == 429):>8}"
            )
    return refused_total


def rss_report(watch: Watch, bot: BotProcess) -> int:
    peak = max([kb for _, kb in watch.rss] + [life.peak_rss_kb for life in bot.lives], default=0)
    print("\nBot process (RSS = VmRSS sampled every second; peak = the kernel's VmHWM when it ended):")
    for n, life in enumerate(bot.lives):
        samples = [kb for at, kb in watch.rss if life.started_at <= at <= (life.ended_at or float("inf"))]
        end = life.ended_at or time.time()
        last = samples[-1] / 1024 if samples else 0
        print(
            f"  life {n + 1} (pid {life.pid}): connected {life.connected_at - life.started_at:.1f} s after start, "
            f"ran {(end - life.started_at) / 60:.1f} min, {life.how}; RSS last {last:.0f} MB, "
            f"max {max(samples, default=0) / 1024:.0f} MB, peak {life.peak_rss_kb / 1024:.0f} MB"
        )
    return peak


def log_report(log_path: Path) -> None:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    levels = Counter(re.findall(r"\b(WARNING|ERROR|CRITICAL)\b", text))
    print(f"\nBot log: {levels['WARNING']} warnings, {levels['ERROR']} errors, {text.count('Traceback')} tracebacks")
    messages = Counter(
        re.sub(r"\d+", "N", line.split(" ERROR ", 1)[-1])[:140]
        for line in text.splitlines()
        if " ERROR " in line or " WARNING " in line
    )
    for message, count in messages.most_common(8):
        print(f"  {count:>5} × {message}")


# --- phase 1 -------------------------------------------------------------------------------------
def soak(args: argparse.Namespace, directory: Path) -> bool:
    duration = args.minutes * 60
    with World(directory / "soak", vendor_limits=True) as world:
        log(f"seeding: {args.links} links, {args.tickets} open tickets, {args.incidents} open incidents")
        last_handoff = time.time() + duration  # every hand-off happens before the traffic stops
        seeded = seed_oncall(world, args.links, args.handoff_links, args.shift_minutes * 60, last_handoff)
        seed_incidents(world, seeded, args.incidents, spare=int(args.minutes) + 1)
        env = bot_env(world, ONCALL_HANDOFF_DM="true")
        database = Path(env["DATABASE_PATH"])
        store = open_store(world.settings())
        try:
            seed_links(store, args.links)
            seed_tickets(world, store, seeded, args.tickets)
        finally:
            store.close()
        users = []
        for n in range(args.users or -(-int(args.commands_per_minute) // COMMANDS_PER_PERSON)):
            users.append(f"UC{n:04d}")
            world.slack.add_user(users[-1], f"soaker{n}", f"Soak Person {n}", f"soaker{n}@soak.example")
            world.slack.add_members(SUPPORT_CHANNEL, users[-1])
        before_start = {e["envelope"]["envelope_id"] for e in world.slack.envelopes()}
        for fake in world.fakes:
            fake.reset_requests()
        bot = BotProcess(world, env, directory / "soak-bot.log")
        watch = Watch(bot, database)
        traffic = Traffic(
            world=world,
            bot=bot,
            seeded=seeded,
            commands_per_minute=args.commands_per_minute,
            users=users,
            questions_per_minute=args.questions_per_minute,
            comments_per_minute=args.comments_per_minute,
        )
        retried: set[str] = set()
        try:
            started = time.time()
            life = bot.start()
            log(f"bot connected {life.connected_at - life.started_at:.1f} s after start (pid {life.pid})")
            watch.thread.start()
            threads = traffic.threads()
            for thread in threads:
                thread.start()
            soak_start = time.time()
            kills = [soak_start + duration * (k + 1) / (args.kills + 1) for k in range(args.kills)]
            next_progress = soak_start + 60
            while time.time() < soak_start + duration:
                time.sleep(0.2)
                if kills and time.time() >= kills[0]:
                    kills.pop(0)
                    log(f"SIGKILL pid {bot.process.pid if bot.process else '?'}")
                    bot.kill()
                    time.sleep(args.restart_delay)
                    life = bot.start()
                    resent = retry_unacked_events(world, before_start, retried)
                    log(
                        f"restarted: connected {life.connected_at - bot.lives[-2].ended_at:.1f} s after the kill "
                        f"(pid {life.pid}); {resent} unacknowledged event(s) sent again"
                    )
                if time.time() >= next_progress:
                    next_progress += 60
                    progress(world, traffic, watch)
            traffic.stop.set()
            for thread in threads:
                thread.join(30)
            soak_end = time.time()
            resent = retry_unacked_events(world, before_start, retried)
            log(f"traffic stopped; {resent} unacknowledged event(s) sent again; waiting for the effects")
            deadline = soak_end + args.settle_minutes * 60
            while time.time() < deadline:
                if not any(t.lost for t in effects(world, traffic, seeded, watch)):
                    break
                time.sleep(3)
            settled = time.time()
            log(f"settled {settled - soak_end:.0f} s after the traffic stopped")
            watch.read_runs()
            intervals = heartbeat_intervals(database)
            states = outbox_states(database)
            delays = outbox_delays(database)
            size_running = database_bytes(database)
        finally:
            traffic.stop.set()
            bot.stop()
            watch.stop.set()
        return report_soak(
            args,
            SoakRun(world, traffic, seeded, bot, watch, database, started, soak_end, settled),
            intervals,
            states,
            size_running,
            delays,
        )


def progress(world: World, traffic: Traffic, watch: Watch) -> None:
    slack = world.slack
    recent = traffic.commands[-int(traffic.commands_per_minute) :]
    acks = [(r["acked_at"] - s.at) * 1000 for s in recent if (r := slack.envelope(s.envelope_id)) and r.get("acked_at")]
    topics = len({r.args().get("channel") for r in slack.calls("POST", r"setTopic$") if r.status == 200})
    refused = sum(1 for f in world.fakes for r in f.calls() if r.status in (420, 429))
    rss = watch.rss[-1][1] / 1024 if watch.rss else 0
    log(
        f"{len(traffic.commands)} commands, last minute's ack p99 {percentile(acks, 0.99):.0f} ms; "
        f"{len(traffic.questions)} questions, {len(traffic.comments)} comments; {topics} topics written; "
        f"{refused} calls refused for a rate limit; RSS {rss:.0f} MB"
    )


@dataclass
class SoakRun:
    world: World
    traffic: Traffic
    seeded: Seeded
    bot: BotProcess
    watch: Watch
    database: Path
    started: float  # the bot's first start
    soak_end: float  # the traffic stopped
    settled: float  # every effect there, or the wait is over


def report_soak(
    args: argparse.Namespace,
    run: SoakRun,
    intervals: dict[str, float],
    states: dict[str, int],
    size_running: int,
    delays: list[tuple[str, int, float, float]],
) -> bool:
    world, traffic, seeded, bot, watch, database = run.world, run.traffic, run.seeded, run.bot, run.watch, run.database
    started, soak_end, settled = run.started, run.soak_end, run.settled
    handing_over = len({h.schedule_name for h in seeded.handoffs})
    print(
        f"\n== Soak: {args.minutes:g} min, {args.links} on-call links ({handing_over} handing over every "
        f"{args.shift_minutes:g} min), {args.tickets} open tickets, {args.incidents} open incidents, "
        f"{args.commands_per_minute:g} slash commands a minute, {args.kills} × SIGKILL and restart"
    )
    _, p99 = ack_report(traffic, bot)
    lag_report(watch, bot, intervals)
    print("\nOutbox effects, queued -> done (one at a time, in order; paced vendors' calls wait inside their handler):")
    for kind, done, p50, longest in delays:
        print(f"  {kind:<26} {done:>5} done, p50 {p50:6.1f} s, max {longest:6.1f} s")
    peak_kb = rss_report(watch, bot)
    print(
        f"\nDatabase: {size_running / 1e6:.1f} MB with its WAL while running, {database_bytes(database) / 1e6:.1f} MB "
        f"after the clean stop; outbox {dict(states)}"
    )
    refused = vendor_report(world, started, settled, [life.started_at for life in bot.lives[1:]])
    print(f"\nEffects (each exactly once), after waiting {settled - soak_end:.0f} s for them:")
    lost = duplicated = 0
    for item in effects(world, traffic, seeded, watch):
        lost += len(item.lost)
        duplicated += len(item.duplicated)
        extra = f"; lost: {', '.join(item.lost[:5])}" if item.lost else ""
        extra += f"; duplicated: {', '.join(item.duplicated[:5])}" if item.duplicated else ""
        print(
            f"  {item.name:<38} {item.expected:>5} asked, {len(item.lost)} lost, {len(item.duplicated)} duplicated"
            f"{extra}"
        )
    refusals = world.slack.refusals()
    print(f"  Slack payloads refused for Block Kit limits: {len(refusals)}; bench errors: {dict(traffic.errors)}")
    log_report(bot.log_path)
    targets = [
        ("ack p99 <= 100 ms", p99 <= 100.0, f"{p99:.1f} ms"),
        ("RSS <= 200 MB", peak_kb <= 200 * 1024, f"{peak_kb / 1024:.0f} MB"),
        ("no call past a vendor's limit (no 429)", refused == 0, f"{refused} refused"),
        ("lost / duplicated effects = 0", lost == duplicated == 0, f"{lost} lost, {duplicated} duplicated"),
    ]
    print("\nTargets:")
    for name, met, figure in targets:
        print(f"  {'met ' if met else 'MISSED'} {name}: {figure}")
    return all(met for _, met, _ in targets)


# --- phase 2 -------------------------------------------------------------------------------------
def cold_start(args: argparse.Namespace, directory: Path) -> bool:
    links = args.cold_links
    # The N-th call of a Tier 2 method can go no sooner than this after the first (20 in any 60 seconds).
    floor_minutes = float(max(0, -(-links // TIER2_PER_MINUTE) - 1))
    print(
        f"\n== On-call cold start: {links} links, nothing else going on; Slack's Tier 2 floor for {links} "
        f"conversations.setTopic calls: the last no sooner than {floor_minutes:.0f} min after the first "
        f"({links / TIER2_PER_MINUTE:g} min at {TIER2_PER_MINUTE} a minute)"
    )
    with World(directory / "cold", vendor_limits=True) as world:
        seeded = seed_oncall(world, links, 0, 60.0, 0.0)
        env = bot_env(world)
        database = Path(env["DATABASE_PATH"])
        store = open_store(world.settings())
        try:
            seed_links(store, links)
        finally:
            store.close()
        for fake in world.fakes:
            fake.reset_requests()
        bot = BotProcess(world, env, directory / "cold-bot.log")
        watch = Watch(bot, database)
        wanted = set(seeded.linked_channels)
        deadline = time.time() + links / TIER2_PER_MINUTE * 60 * 1.5 + 300
        written: dict[str, float] = {}
        try:
            started = time.time()
            life = bot.start()
            watch.thread.start()
            log(f"bot connected {life.connected_at - started:.1f} s after start; writing {links} topics")
            next_progress = started + 300
            while time.time() < deadline and not wanted <= written.keys():
                time.sleep(5)
                for request in world.slack.calls("POST", r"conversations\.setTopic$"):
                    channel = str(request.args().get("channel"))
                    if request.status == 200 and channel in wanted:
                        written.setdefault(channel, request.at)
                if time.time() >= next_progress:
                    next_progress += 300
                    rss = watch.rss[-1][1] / 1024 if watch.rss else 0
                    log(
                        f"{len(written)} of {links} topics written after {(time.time() - started) / 60:.1f} min; "
                        f"RSS {rss:.0f} MB"
                    )
            finished = max(written.values(), default=time.time())
        finally:
            bot.stop()
            watch.stop.set()
        done = wanted <= written.keys()
        elapsed = finished - started
        first = min(written.values(), default=started) - started
        groups = len(
            {
                r.args().get("usergroup")
                for r in world.slack.calls("POST", r"usergroups\.users\.update$")
                if r.status == 200
            }
        )
        print(
            f"  {len(written)} of {links} topics written; the first {first:.1f} s after start, "
            f"the last {elapsed / 60:.1f} min after start ({'all' if done else 'NOT all'}); "
            f"{groups} usergroups updated meanwhile"
        )
        ratio = elapsed / 60 / floor_minutes if floor_minutes else float("inf")
        per_minute = elapsed / 60 / (links / TIER2_PER_MINUTE)
        print(
            f"  {ratio:.3f} × the floor of {floor_minutes:.0f} min "
            f"({per_minute:.3f} × {links / TIER2_PER_MINUTE:g} min, the time at 20 a minute)"
        )
        vendor_report(world, started, finished, [])
        rss_report(watch, bot)
        log_report(bot.log_path)
        met = done and ratio <= 1.2
        print(f"\nTarget:\n  {'met ' if met else 'MISSED'} cold start within 1.2 × the Tier 2 floor: {ratio:.3f} ×")
        return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (default 10)")
    parser.add_argument("--links", type=int, default=1000, help="on-call links (default 1000)")
    parser.add_argument("--tickets", type=int, default=500, help="open support tickets (default 500)")
    parser.add_argument("--incidents", type=int, default=200, help="open PagerDuty incidents (default 200)")
    parser.add_argument("--commands-per-minute", type=float, default=50.0, help="slash commands (default 50)")
    parser.add_argument(
        "--users",
        type=int,
        default=0,
        help=f"people running them (default: {COMMANDS_PER_PERSON} commands a minute each)",
    )
    parser.add_argument("--questions-per-minute", type=float, default=4.0, help="support questions (default 4)")
    parser.add_argument("--comments-per-minute", type=float, default=6.0, help="Zendesk agent comments (default 6)")
    parser.add_argument("--handoff-links", type=int, default=20, help="links that hand over (default 20)")
    parser.add_argument("--shift-minutes", type=float, default=3.0, help="their shift length (default 3)")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILL + restart during the soak (default 2)")
    parser.add_argument("--restart-delay", type=float, default=1.0, help="seconds between kill and restart")
    parser.add_argument("--settle-minutes", type=float, default=5.0, help="longest wait for the effects (default 5)")
    parser.add_argument(
        "--cold-links", type=int, default=None, help="links of the cold start (default --links; 0 skips it)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases, bot logs)")
    args = parser.parse_args()
    args.cold_links = args.links if args.cold_links is None else args.cold_links
    directory = Path(tempfile.mkdtemp(prefix="switchboard-soak-"))
    print(f"soak: {os.cpu_count()} CPUs, temporary directory {directory}", flush=True)
    ok = True
    try:
        ok = soak(args, directory) and ok
        if args.cold_links:
            ok = cold_start(args, directory) and ok
    finally:
        if args.keep:
            print(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
