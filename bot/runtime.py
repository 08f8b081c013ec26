"""`create_app(settings)`: everything the running bot is made of, built in one place, in order.

The Bolt App is built here and not at import, because building it calls Slack's `auth.test`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult

from bot.capabilities import FACTORIES, describe
from bot.clients.slack import SlackApiError, WebClient, build_web_client, slack_error
from bot.events import prune_seen_events
from bot.home import HomeService
from bot.identity import SlackDirectory
from bot.migrations import MIGRATIONS
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.store import Store
from listeners import register_listeners

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 3600
OUTBOX_SECONDS = 1.0  # due effects (retries after backoff) are picked up within a second


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


class CapabilityService(Protocol):
    """What every capability offers the runtime: its jobs and the counts the Home tab shows.

    A service may also define `on_message(event: dict) -> None`; the message listener hands it every
    `message` event (after the ack, on the runtime's pool).
    """

    def register_jobs(self, scheduler: Scheduler) -> None: ...

    def counts(self) -> dict[str, int]: ...


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
    services: dict[str, CapabilityService] = field(default_factory=dict)
    work: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="work"))

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

    def start(self) -> None:
        self.scheduler.start()

    def close(self) -> None:
        """Stop jobs (letting the running ones finish), drain background work, close the database."""
        for service in self.services.values():  # a service's own listener (dispatch's HTTP intake) stops first
            getattr(service, "close", lambda: None)()
        self.scheduler.stop()
        self.work.shutdown(wait=True)
        self.store.close()


class _TokenNoticeFilter(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever it is in the environment; here that is by design."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage() and "will be ignored" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("slack_bolt.App")
    if not any(isinstance(f, _TokenNoticeFilter) for f in logger.filters):
        logger.addFilter(_TokenNoticeFilter())
    return logger


def create_app(settings: Settings) -> Runtime:
    missing = settings.missing_slack_tokens()
    if missing:
        raise StartupError(f"missing {' and '.join(missing)}")
    slack = build_web_client(settings)
    try:
        auth = slack.auth_test()
    except SlackApiError as error:
        raise StartupError(f"Slack rejected SLACK_BOT_TOKEN: {slack_error(error)}") from error
    except OSError as error:
        raise StartupError(f"cannot reach Slack at {settings.slack_api_url}: {error}") from error
    authorization = AuthorizeResult.from_auth_test_response(bot_token=settings.slack_bot_token, auth_test_response=auth)
    # `authorize` hands Bolt the auth.test answer we already have, instead of a second call.
    app = App(client=slack, authorize=lambda **_: authorization, name="switchboard", logger=_bolt_logger())
    store = Store(settings.database_file, MIGRATIONS)
    scheduler = Scheduler(store)
    runtime = Runtime(
        settings=settings,
        app=app,
        store=store,
        scheduler=scheduler,
        slack=slack,
        bot_user_id=str(auth["user_id"]),
        home=HomeService(settings, store, scheduler, slack),
        outbox=Outbox(store, backoff_base=0.05 if settings.switchboard_retry_profile == "test" else 2.0),
        directory=SlackDirectory(store, slack),
    )
    runtime.home.services = runtime.services
    runtime.home.outbox = runtime.outbox
    scheduler.every("housekeeping", HOUSEKEEPING_SECONDS, lambda: prune_seen_events(store))
    scheduler.every("outbox", OUTBOX_SECONDS, runtime.outbox.run_due)
    runtime.outbox.on_enqueue = lambda: scheduler.run_now("outbox")
    for capability in settings.capabilities():
        running, why = describe(capability)
        log.info("capability %s: %s", capability.name, why)
        if running:
            service = FACTORIES[capability.name](runtime)
            service.register_jobs(scheduler)
            runtime.services[capability.name] = service
    register_listeners(app, runtime)
    return runtime
