"""The daily digest: one message per channel (DIGEST_CHANNELS) at DIGEST_TIME in DIGEST_TIMEZONE, with what every
capability saw in the last day — incidents, status-page minutes, tickets, alarms, on-call changes.

Each capability writes its own lines (`CapabilityService.digest(since, until)`); this module puts them under the
capability's title and posts them through the outbox, once per channel and day (parts of a long digest are
effects of their own), so a restart never posts a day twice. `/switchboard digest` shows the same, now.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import MAX_SECTION_TEXT, chunks
from bot.capability import CapabilityService, CapabilityState
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.outbox import GiveUp, Outbox, RetryLater, vendor_retry_after
from bot.scheduler import Scheduler
from bot.text import escape

log = logging.getLogger(__name__)

DIGEST_JOB = "core.digest"
POST_KIND = "core.digest_post"
DAY = 86400.0
REFUSALS = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "missing_scope"}


def next_run(at: str, zone: str, now: float) -> float:
    """The next moment the clock in `zone` shows `at` (HH:MM), after `now`."""
    tz = ZoneInfo(zone)
    hour, minute = (int(part) for part in at.split(":"))
    local = dt.datetime.fromtimestamp(now, tz)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate.timestamp() <= now:
        candidate = (local + dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.timestamp()


def digest_text(
    capabilities: list[CapabilityState],
    services: Mapping[str, CapabilityService],
    since: float,
    until: float,
    zone: str,
) -> str:
    """Every running capability's lines, under its title, for [since, until)."""
    day = dt.datetime.fromtimestamp(until, ZoneInfo(zone)).strftime("%A %d %B %Y")
    lines = [f"*Switchboard daily digest* — the 24 hours to {day}, {escape(zone)}"]
    for capability in capabilities:
        service = services.get(capability.name)
        if service is None:
            continue
        try:
            section = service.digest(since, until)
        except Exception as error:  # one capability's failure leaves the others' figures standing
            log.exception("%s could not write its digest", capability.name)
            section = [f"_could not be computed: {escape(type(error).__name__)}_"]
        if section:
            lines.append(f"\n*{escape(capability.title)}*")
            lines += [line if line.startswith("•") else f"• {line}" for line in section]
    if len(lines) == 1:
        lines.append("Nothing happened that any capability reports.")
    return "\n".join(lines)


class DailyDigest:
    def __init__(
        self,
        outbox: Outbox,
        scheduler: Scheduler,
        slack: WebClient,
        channels: tuple[str, ...],
        at: str,
        zone: str,
        text: Callable[[float, float], str],
    ):
        self.outbox = outbox
        self.scheduler = scheduler
        self.slack = slack
        self.channels = channels
        self.at = at
        self.zone = zone
        self.text = text  # (since, until) -> the digest

    def effects(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {POST_KIND: self.post}

    def schedule_next(self, now: float | None = None) -> None:
        self.scheduler.run_at(DIGEST_JOB, next_run(self.at, self.zone, time.time() if now is None else now))

    def run(self) -> None:
        """The job: queue today's digest for every channel (once per channel and local day), then the next run."""
        now = time.time()
        day = dt.datetime.fromtimestamp(now, ZoneInfo(self.zone)).strftime("%Y-%m-%d")
        text = self.text(now - DAY, now)
        parts = chunks(text) if len(text) > MAX_SECTION_TEXT else [text]
        for channel in self.channels:
            for number, part in enumerate(parts):
                key = f"{DIGEST_JOB}:{channel}:{day}:{number}"
                self.outbox.enqueue(key, POST_KIND, {"channel": channel, "text": part})
        self.schedule_next(now + 60)

    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = self.slack.chat_postMessage(channel=payload["channel"], text=payload["text"], unfurl_links=False)
        except SlackApiError as error:
            code = slack_error(error)
            if code == "ratelimited":
                raise RetryLater(code, vendor_retry_after(error)) from error
            if code in REFUSALS:
                raise GiveUp(f"{code}: invite the bot to {payload['channel']} or fix DIGEST_CHANNELS") from error
            raise
        return {"ts": answer.get("ts")}
