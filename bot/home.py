"""The Home tab: a live health view of capabilities, scheduled jobs and the counts each capability keeps."""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.blocks import context, section, view_blocks
from bot.capability import CapabilityService, CapabilityState
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.health import reconnects_last_day
from bot.outbox import Outbox
from bot.scheduler import JobStatus, Scheduler
from bot.settings import Settings
from bot.shadow import Shadow
from bot.store import Store
from bot.text import ago, escape

log = logging.getLogger(__name__)


def job_state(job: JobStatus) -> str:
    if job.running:
        return "running"
    failing = job.last_error_at is not None and (job.last_success_at or 0) < job.last_error_at
    return "failing" if failing else "ok"


def job_line(job: JobStatus, now: float) -> str:
    state = job_state(job)
    every = f"every {int(job.interval)}s" if job.interval else "on demand"
    parts = [f"*{job.name}* ({every}) — {state}", f"last success {ago(job.last_success_at, now)}"]
    if job.last_error:
        parts.append(f"last error {ago(job.last_error_at, now)}: `{escape(job.last_error[:150])}`")
    parts.append(f"next run {ago(job.next_run_at, now) if job.next_run_at else 'not scheduled'}")
    return " · ".join(parts)


class HomeService:
    def __init__(self, settings: Settings, store: Store, scheduler: Scheduler, slack: WebClient):
        self.settings = settings
        self.store = store
        self.scheduler = scheduler
        self.slack = slack
        self.capabilities: list[CapabilityState] = []  # filled in by bot/wiring.py
        self.services: dict[str, CapabilityService] = {}
        self.outbox: Outbox | None = None
        self.shadow: Shadow = Shadow.off()

    def counts(self) -> dict[str, dict[str, int]]:
        counts = {
            "core": {
                "Slack events received": int(self.store.scalar("SELECT COUNT(*) FROM slack_events") or 0),
                "job runs": int(self.store.scalar("SELECT COUNT(*) FROM job_runs") or 0),
                "failed job runs": int(self.store.scalar("SELECT COUNT(*) FROM job_runs WHERE ok = 0") or 0),
                "Socket Mode reconnects (24 h)": reconnects_last_day(self.store),
            }
        }
        if self.shadow.on:
            counts["core"]["shadow: would-be effects (24 h)"] = self.shadow.count(time.time() - 86400)
        if self.outbox is not None:
            counts["outbox"] = self.outbox.counts()
        for name, service in self.services.items():
            counts[name] = service.counts()
        return counts

    def build_view(self, now: float | None = None) -> dict[str, Any]:
        now = now or time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Switchboard health"}},
            context(f"Updated {stamp}"),
            section("*Capabilities*"),
        ]
        for capability in self.capabilities:
            mark = ":large_green_circle:" if capability.running else ":white_circle:"
            blocks.append(context(f"{mark} *{capability.title}*: {capability.why}"))
        blocks += [{"type": "divider"}, section("*Scheduled jobs*")]
        jobs = self.scheduler.status()
        blocks += [context(job_line(job, now)) for job in jobs] or [context("No jobs: no capability is on.")]
        blocks += [{"type": "divider"}, section("*Counts*")]
        for group, values in self.counts().items():
            blocks.append(context(f"*{group}*: " + ", ".join(f"{label} {value}" for label, value in values.items())))
        return {"type": "home", "blocks": view_blocks(blocks, more="`/switchboard status` lists every job")}

    def publish(self, user_id: str) -> None:
        try:
            self.slack.views_publish(user_id=user_id, view=self.build_view())
        except SlackApiError as error:
            log.warning("could not publish the Home tab for %s: %s", user_id, slack_error(error))
