"""The one interface between the foundation and a capability.

Each package under `bot/` that is a capability exports one `CapabilitySpec` as `SPEC` from its `__init__.py`:
what it is called, which settings it declares and needs, its schema migrations, how it is built from the
`Foundation`, and the slash commands, buttons and jobs it offers. `bot/wiring.py` reads the specs; nothing in the
foundation names a capability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.clients.slack import WebClient
from bot.identity import SlackDirectory
from bot.outbox import Handler, Outbox
from bot.scheduler import Scheduler
from bot.settings import Setting, Settings
from bot.shadow import Shadow
from bot.store import Migration, Store

# What a slash command or button answers: text, or a full message payload (blocks, response_type, …).
Answer = str | dict[str, Any]


class Foundation(Protocol):
    """The narrow view of the running bot that a capability is built against."""

    settings: Settings
    store: Store
    scheduler: Scheduler
    outbox: Outbox
    slack: WebClient
    directory: SlackDirectory
    bot_user_id: str
    shadow: Shadow

    def is_admin(self, user_id: str) -> bool: ...

    def submit(self, func: Callable[..., Any], *args: Any) -> None: ...

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        """Every capability's open items in these channels / PagerDuty services (the hand-off brief)."""
        ...

    def related_links(self, pd_incidents: Sequence[str]) -> list[str]:
        """Every capability's links for these PagerDuty incidents (e.g. the status page incident)."""
        ...


@dataclass(frozen=True)
class Job:
    """A scheduled job: every `seconds`, or only on demand (`seconds=None`, started by `run_at`/`run_now`)."""

    name: str
    seconds: float | None
    run: Callable[[], Any]


@dataclass(frozen=True)
class CommandRequest:
    """One slash command invocation, as Slack sent it."""

    user_id: str
    user_name: str
    channel_id: str
    text: str
    trigger_id: str | None = None


@dataclass(frozen=True)
class ActionRequest:
    """One button click, as Slack sent it."""

    action_id: str
    value: str
    user_id: str
    user_name: str
    channel_id: str
    message_ts: str


@dataclass(frozen=True)
class Finding:
    """A problem `doctor` found: what is wrong and how to fix it, in words for an admin (Slack mrkdwn, escaped)."""

    capability: str
    problem: str
    fix: str


class CapabilityService:
    """What every capability's service offers the foundation. The defaults do nothing, so a capability overrides
    only what it uses and no caller has to ask whether a method exists."""

    def jobs(self) -> Sequence[Job]:
        return ()

    def effects(self) -> Mapping[str, Handler]:
        """Outbox kind (`<capability>.<name>`) -> the handler that performs it. The wiring registers them; a kind
        shared by two capabilities (the incident poller's Slack post) is listed by both with the same handler."""
        return {}

    def describe_effect(self, kind: str, payload: dict[str, Any]) -> str:
        """What an effect of this kind would have done, as Slack mrkdwn for an admin ("the hand-off DM to @ann");
        vendor text in it must be escaped here."""
        return f"a `{kind}` effect"

    def prune(self, before: float) -> int:
        """Delete this capability's rows older than `before` that nothing needs any more; the number deleted."""
        return 0

    def start(self) -> None:
        """Once its jobs are registered: e.g. wake a job at moments stored before a restart."""

    def counts(self) -> dict[str, int]:
        """Figures for the Home tab."""
        return {}

    def on_message(self, event: dict[str, Any]) -> None:
        """Every Slack `message` event, after the ack, on the foundation's pool."""

    def digest(self, since: float, until: float) -> list[str]:
        """Lines for the daily digest about [since, until): this capability's figures (Slack mrkdwn, escaped)."""
        return []

    def doctor(self) -> list[Finding]:
        """Configuration problems this capability can see (cheap vendor reads allowed), each with its fix."""
        return []

    def open_work(self, channels: Sequence[str], services: Sequence[str]) -> list[str]:
        """What is still open in these Slack channels or PagerDuty services, one line each with a link, for the
        hand-off brief of an incoming on-call person (Slack mrkdwn, escaped)."""
        return []

    def related_links(self, pd_incidents: Sequence[str]) -> list[str]:
        """Links this capability keeps for these PagerDuty incidents (`account/incident_id` refs), e.g. the status
        page incident they opened (Slack mrkdwn, escaped)."""
        return []

    def on_mention(self, event: dict[str, Any]) -> None:
        """Every Slack `app_mention` event, after the ack, on the foundation's pool."""

    def close(self) -> None:
        """Stop the capability's own listeners (e.g. an HTTP intake) before the scheduler stops."""


@dataclass(frozen=True)
class SlashCommand:
    """`/name …` answered by `answer(service, request)` on the foundation's pool, after the ack."""

    name: str  # as in manifest.yml, which lists every command (a test checks both ways)
    answer: Callable[[Any, CommandRequest], Answer]
    changes: tuple[str, ...] = ()  # subcommands that change something: answered "(shadow) …" in shadow mode


@dataclass(frozen=True)
class ButtonAction:
    """Buttons with these action IDs are handled by `handle(service, request, reply)` after the ack;
    `reply(text)` answers the clicker ephemerally."""

    action_ids: tuple[str, ...]
    handle: Callable[[Any, ActionRequest, Callable[[str], None]], None]


@dataclass(frozen=True)
class CapabilitySpec:
    name: str
    title: str
    needs: tuple[str, ...]  # settings that must all be set for the capability to run
    create: Callable[[Foundation], CapabilityService]
    settings: tuple[Setting, ...] = ()  # the settings this capability declares (parsed by bot/settings.py)
    migrations: tuple[Migration, ...] = ()
    commands: tuple[SlashCommand, ...] = ()
    actions: tuple[ButtonAction, ...] = ()
    reads_messages: bool = False  # its service's on_message gets every Slack `message` event
    reads_mentions: bool = False  # its service's on_mention gets every `app_mention` (someone @-mentions the bot)

    def missing(self, settings: Settings) -> tuple[str, ...]:
        return tuple(name for name in self.needs if not settings.has(name))

    def state(self, settings: Settings) -> CapabilityState:
        missing = self.missing(settings)
        shadowed = settings.switchboard_shadow or self.name in settings.shadow_capabilities
        why = f"off, missing {', '.join(missing)}" if missing else "on (shadow: writes nothing)" if shadowed else "on"
        return CapabilityState(self.name, self.title, not missing, why, missing)

    def off_message(self, settings: Settings) -> str:
        missing = self.missing(settings)
        return f"{self.title} is off in this Switchboard: set {' and '.join(missing)} and restart it."


@dataclass(frozen=True)
class CapabilityState:
    """Whether a capability runs, and why, for logs, the Home tab and `/switchboard status`."""

    name: str
    title: str
    running: bool
    why: str
    missing: tuple[str, ...] = ()
