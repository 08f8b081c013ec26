"""The running foundation: settings, store, scheduler, outbox, Slack, directory and the worker pool.

It implements the `Foundation` protocol capabilities are built against. It knows no capability by name: the
services it holds were built by `bot/wiring.py` from the capability specs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.capability import CapabilityService, CapabilityState, Finding
from bot.clients.slack import App, SlackApiError, WebClient, slack_error
from bot.digest import DailyDigest, digest_text
from bot.doctor import examine
from bot.failures import FailureAlerts
from bot.home import HomeService
from bot.identity import SlackDirectory
from bot.logs import ContextPreservingExecutor
from bot.outbox import Outbox
from bot.pacing import UserPacer
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.shadow import Shadow
from bot.store import Store

log = logging.getLogger(__name__)

WORKERS = 8  # Switchboard's own pool for work after the Slack ack (Bolt's listener threads stay free)


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


@dataclass
class Runtime:
    settings: Settings
    app: App
    store: Store
    scheduler: Scheduler
    slack: WebClient
    bot_user_id: str
    home: HomeService
    outbox: Outbox
    directory: SlackDirectory
    capabilities: list[CapabilityState] = field(default_factory=list)
    services: dict[str, CapabilityService] = field(default_factory=dict)
    message_readers: list[CapabilityService] = field(default_factory=list)
    mention_readers: list[CapabilityService] = field(default_factory=list)
    command_pacer: UserPacer = field(default_factory=lambda: UserPacer(0))
    failures: FailureAlerts | None = None
    shadow: Shadow = field(default_factory=Shadow.off)
    digest: DailyDigest | None = None
    work: ThreadPoolExecutor = field(
        default_factory=lambda: ContextPreservingExecutor(WORKERS, thread_name_prefix="work")
    )

    def submit(self, func: Callable[..., Any], *args: Any) -> None:
        """Run slow work after the Slack ack, on Switchboard's own pool (not Bolt's five listener threads)."""

        def run() -> None:
            try:
                func(*args)
            except Exception:
                log.exception("background work %s failed", getattr(func, "__qualname__", func))

        self.work.submit(run)

    def is_admin(self, user_id: str) -> bool:
        """SWITCHBOARD_ADMINS, or a workspace admin/owner (asked of Slack, once per call)."""
        if user_id in self.settings.switchboard_admins:
            return True
        try:
            user = self.slack.users_info(user=user_id)["user"]
        except SlackApiError as error:
            log.warning("could not look up %s to check admin rights: %s", user_id, slack_error(error))
            return False
        return bool(user.get("is_admin") or user.get("is_owner"))

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        items: list[str] = []
        for name, service in self.services.items():
            try:
                items += service.open_work(channels, services)
            except Exception:  # one capability's failure must not empty the whole brief
                log.exception("%s could not list its open work", name)
        return items

    def related_links(self, pd_incidents: Sequence[str]) -> list[str]:
        links: list[str] = []
        for name, service in self.services.items():
            try:
                links += service.related_links(pd_incidents)
            except Exception:
                log.exception("%s could not list its links for %s", name, pd_incidents)
        return links

    def digest_now(self, now: float | None = None) -> str:
        """The last 24 hours' digest, for `/switchboard digest`."""
        now = time.time() if now is None else now
        return digest_text(self.capabilities, self.services, now - 86400, now, self.settings.digest_timezone)

    def doctor(self) -> list[Finding]:
        """Every running capability's configuration problems, and the foundation's own."""
        core: dict[str, list[str]] = {"DIGEST_CHANNELS": list(self.settings.digest_channels)}
        alert = self.settings.switchboard_alert_channel
        if alert and alert[:1] in ("C", "G"):
            core["SWITCHBOARD_ALERT_CHANNEL"] = [alert]
        return examine(self.capabilities, self.services, self.slack, core)

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        """Stop jobs (letting the running ones finish), drain background work, close the database."""
        for service in self.services.values():  # a service's own listener (dispatch's HTTP intake) stops first
            service.close()
        self.scheduler.stop()
        self.work.shutdown(wait=True)
        self.store.close()
