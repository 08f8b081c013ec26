"""The composition root: the one place that knows every capability and builds the running bot from the specs.

`app.py`, the sandbox and the test harness all start the bot through `build(settings)`. Everything below this
module (foundation, capabilities, listeners) is told what it needs; nothing reaches up.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from bot import dispatch, jira_sync, oncall, statuspage, support
from bot.capability import CapabilityService, CapabilitySpec, CapabilityState, Job
from bot.clients.slack import SlackApiError, build_bolt_app, build_web_client, slack_error
from bot.digest import DIGEST_JOB, DailyDigest, digest_text
from bot.failures import FailureAlerts
from bot.home import HomeService
from bot.housekeeping import prune_core
from bot.identity import SlackDirectory
from bot.migrations import MIGRATIONS as CORE_MIGRATIONS
from bot.outbox import OUTBOX_JOB, Outbox
from bot.pacing import UserPacer
from bot.runtime import Runtime, StartupError
from bot.scheduler import Scheduler
from bot.settings import CORE, ROOT, Setting, Settings, SettingsError
from bot.shadow import Shadow
from bot.store import Migration, Store
from listeners import register_listeners

log = logging.getLogger(__name__)

# Every capability of this build, in the order the Home tab and `/switchboard status` list them.
SPECS: tuple[CapabilitySpec, ...] = (oncall.SPEC, dispatch.SPEC, support.SPEC, statuspage.SPEC, jira_sync.SPEC)

IDENTIFIER = re.compile(r"[a-z_]+\.[a-z_.]+")  # jobs, outbox kinds and state keys: <capability>.<name>
DEFAULT_DATA_DIR = ROOT / "data"
HOUSEKEEPING_JOB = "core.housekeeping"
HOUSEKEEPING_SECONDS = 3600
OUTBOX_SECONDS = 1.0  # due effects (retries after backoff) are picked up within a second


def _collect_migrations(specs: tuple[CapabilitySpec, ...]) -> list[Migration]:
    """Core and every capability's steps, by version. Capabilities that share tables (the incident poller's)
    list the same step; a version claimed by two different steps is a programming error."""
    by_version: dict[int, Migration] = {}
    for migration in [*CORE_MIGRATIONS, *(m for spec in specs for m in spec.migrations)]:
        known = by_version.setdefault(migration.version, migration)
        if known is not migration:
            raise RuntimeError(
                f"migration version {migration.version} is claimed twice: {known.name}; {migration.name}"
            )
    return sorted(by_version.values(), key=lambda migration: migration.version)


# Every schema step of every capability, whether or not it is on, so the file's schema never depends on settings.
MIGRATIONS: list[Migration] = _collect_migrations(SPECS)


def all_settings() -> tuple[Setting, ...]:
    """Every declared setting: the foundation's, then each capability's."""
    return CORE + tuple(setting for spec in SPECS for setting in spec.settings)


def open_store(settings: Settings) -> Store:
    """The database at DATABASE_PATH, migrated to this version (command-line tools use this too)."""
    if settings.database_file.parent == DEFAULT_DATA_DIR and DEFAULT_DATA_DIR.is_dir():
        DEFAULT_DATA_DIR.chmod(0o700)  # the checkout's data/ is ours alone; a directory named elsewhere is not ours
    return Store(settings.database_file, MIGRATIONS)


def capability_states(settings: Settings) -> list[CapabilityState]:
    return [spec.state(settings) for spec in SPECS]


def spec(name: str) -> CapabilitySpec:
    return next(s for s in SPECS if s.name == name)


def _register_jobs(scheduler: Scheduler, jobs: list[Job]) -> None:
    registered: dict[str, Job] = {}
    for job in jobs:
        if job.name in registered:
            if registered[job.name] is not job:
                raise RuntimeError(f"two different jobs are named {job.name}")
            continue  # a shared job (the incident poller's) listed by a second capability
        if not IDENTIFIER.fullmatch(job.name):
            raise RuntimeError(f"job name {job.name!r} is not <capability>.<name>")
        registered[job.name] = job
        if job.seconds is None:
            scheduler.add(job.name, job.run)
        else:
            scheduler.every(job.name, job.seconds, job.run)


def _register_effects(outbox: Outbox, services: dict[str, CapabilityService]) -> None:
    for name, service in services.items():
        for kind, handler in service.effects().items():
            if not IDENTIFIER.fullmatch(kind):
                raise RuntimeError(f"{name}: outbox kind {kind!r} is not <capability>.<name>")
            known = outbox.handlers.get(kind)
            if known is not None and known != handler:
                raise RuntimeError(f"two different handlers for outbox kind {kind}")
            outbox.register(kind, handler)


def housekeeping(runtime: Runtime, now: float | None = None) -> dict[str, int]:
    """Prune every table that grows with use: the foundation's and each running capability's."""
    now = time.time() if now is None else now
    before = now - runtime.settings.switchboard_retention_days * 86400
    deleted = prune_core(runtime.store, before, now)
    for name, service in runtime.services.items():
        deleted[name] = service.prune(before)
    if any(deleted.values()):
        log.info("housekeeping deleted %s", ", ".join(f"{n} {table}" for table, n in deleted.items() if n))
    return deleted


def _shadow(settings: Settings, store: Store) -> Shadow:
    names = {spec.name for spec in SPECS}
    unknown = [name for name in settings.shadow_capabilities if name not in names]
    if unknown:
        raise SettingsError(
            f"SHADOW_CAPABILITIES names {', '.join(unknown)}, which is not a capability "
            f"(one of: {', '.join(sorted(names))})"
        )
    shadow = Shadow(store, settings.switchboard_shadow, settings.shadow_capabilities, names)
    if shadow.on:
        which = "every capability" if shadow.everything else ", ".join(sorted(shadow.capabilities))
        log.warning("shadow mode for %s: reading and deciding, writing nothing to any vendor", which)
    return shadow


def _describe(runtime: Runtime, kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """(capability title, what the effect would have done) for the failure alerts."""
    name = kind.split(".", 1)[0]
    service = runtime.services.get(name)
    title = next((s.title for s in SPECS if s.name == name), "Switchboard")
    if service is None:
        return title, f"a `{kind}` effect"
    try:
        return title, service.describe_effect(kind, payload)
    except Exception:  # a description must never hide the failure it describes
        log.exception("could not describe effect %s", kind)
        return title, f"a `{kind}` effect"


def build(settings: Settings) -> Runtime:
    """Connect to Slack (`auth.test`), open the database, build the foundation, every capability that is on,
    and the listeners. Raises StartupError with a one-line reason."""
    for warning in settings.renamed:
        log.warning("%s", warning)
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
    app = build_bolt_app(slack, settings.slack_bot_token, auth)
    store = open_store(settings)
    scheduler = Scheduler(store)
    runtime = Runtime(
        settings=settings,
        app=app,
        store=store,
        scheduler=scheduler,
        slack=slack,
        bot_user_id=str(auth["user_id"]),
        home=HomeService(settings, store, scheduler, slack),
        outbox=Outbox(store, backoff_base=settings.retry_profile.outbox_backoff_base),
        directory=SlackDirectory(store, slack),
        capabilities=capability_states(settings),
        command_pacer=UserPacer(settings.switchboard_commands_per_minute),
    )
    runtime.shadow = _shadow(settings, store)
    runtime.shadow.describe = lambda kind, payload: _describe(runtime, kind, payload)
    runtime.outbox.shadow = runtime.shadow if runtime.shadow.on else None
    runtime.home.shadow = runtime.shadow
    runtime.home.capabilities = runtime.capabilities
    runtime.home.services = runtime.services
    runtime.home.outbox = runtime.outbox
    scheduler.every(HOUSEKEEPING_JOB, HOUSEKEEPING_SECONDS, lambda: housekeeping(runtime))
    scheduler.every(OUTBOX_JOB, OUTBOX_SECONDS, runtime.outbox.run_due)
    runtime.outbox.on_enqueue = lambda: scheduler.run_now(OUTBOX_JOB)
    jobs: list[Job] = []
    for capability, state in zip(SPECS, runtime.capabilities, strict=True):
        log.info("capability %s: %s", capability.name, state.why)
        if state.running:
            service = capability.create(runtime)
            runtime.services[capability.name] = service
            if capability.reads_messages:
                runtime.message_readers.append(service)
            if capability.reads_mentions:
                runtime.mention_readers.append(service)
            jobs += service.jobs()
    _register_jobs(scheduler, jobs)
    _register_effects(runtime.outbox, runtime.services)
    runtime.failures = FailureAlerts(settings, store, runtime.outbox, slack, lambda k, p: _describe(runtime, k, p))
    for kind, handler in runtime.failures.effects().items():
        runtime.outbox.register(kind, handler)
    runtime.outbox.on_failed = runtime.failures.on_failed
    if settings.digest_channels:
        zone = settings.digest_timezone
        runtime.digest = DailyDigest(
            runtime.outbox,
            scheduler,
            slack,
            settings.digest_channels,
            settings.digest_time,
            zone,
            lambda since, until: digest_text(runtime.capabilities, runtime.services, since, until, zone),
        )
        scheduler.add(DIGEST_JOB, runtime.digest.run)
        for kind, handler in runtime.digest.effects().items():
            runtime.outbox.register(kind, handler)
        runtime.digest.schedule_next()
    for service in runtime.services.values():
        service.start()
    register_listeners(app, runtime, SPECS)
    return runtime
