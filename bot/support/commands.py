"""`/support`: the report now (admins any time, others once per channel in ten minutes), the poller's health,
unlinking a thread from its ticket (admins), and which PagerDuty services each support channel watches (`map`,
`unmap`: admins; `map` alone lists them)."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from bot.capability import CommandRequest
from bot.support import records
from bot.support.config import SERVICE_ID
from bot.support.identifiers import POLL_JOB
from bot.support.rules import REPORT_COMMAND_INTERVAL_SECONDS
from bot.support.text import parse_permalink
from bot.text import ago, escape

if TYPE_CHECKING:
    from bot.support.service import SupportService

USAGE = (
    "*Support desk* — `/support report` posts the support report now · `/support status` shows the Zendesk "
    "poller · `/support forget <message link>` (admins) unlinks a thread from its ticket without touching Zendesk. "
    "`/support map` lists the PagerDuty services each support channel watches; `/support map #channel <service>` "
    "and `/support unmap #channel` (admins) change them. "
    "In a support thread, `help` lists the thread commands."
)
ADMINS_ONLY_FOR = "Only Switchboard admins (SWITCHBOARD_ADMINS, workspace admins and owners) can use `/support {verb}`."
ADMINS_ONLY = ADMINS_ONLY_FOR.format(verb="forget")
MAP_USAGE = (
    "Usage: `/support map #channel <PagerDuty service ID>` (such as PABC123): a request in that support channel "
    "while an incident is open on the service gets a note linking it. `/support unmap #channel` stops it."
)
CHANNEL_ARGUMENT = re.compile(r"<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>|([CG][A-Z0-9]{2,})")


def answer(service: SupportService, request: CommandRequest) -> str:
    """The answer to `/support <text>` (an ephemeral reply), after doing what it asks (after the ack, on the
    foundation's pool)."""
    user_id, channel_id, words = request.user_id, request.channel_id, request.text.split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return USAGE
    if verb == "report":
        return report(service, user_id, channel_id)
    if verb == "status":
        return status_text(service)
    if verb == "forget":
        if not service.foundation.is_admin(user_id):
            return ADMINS_ONLY
        if len(words) != 2:
            return "Usage: `/support forget <message link>` — copy the link of the thread's first message."
        return forget(service, words[1])
    if verb == "map" and len(words) == 1:
        return map_text(service)
    if verb in ("map", "unmap"):
        if not service.foundation.is_admin(user_id):
            return ADMINS_ONLY_FOR.format(verb=verb)
        return map_channel(service, user_id, words[1:]) if verb == "map" else unmap_channel(service, words[1:])
    return f"I don't know `{escape(words[0])}`. {USAGE}"


def report(service: SupportService, user_id: str, channel_id: str) -> str:
    """Post the report now, in this channel if it is a support channel, else in every one. Each post reaches a
    whole channel, so people who are not admins may ask for it once per channel in ten minutes."""
    channels = [channel_id] if channel_id in service.config.channels else list(service.config.channels)
    shown = ", ".join(f"<#{c}>" for c in channels)
    now = time.time()
    wait = service.daily_report.claim_command_run(channels, now, admin=service.foundation.is_admin(user_id))
    if wait > 0:
        minutes = int(REPORT_COMMAND_INTERVAL_SECONDS // 60)
        return (
            f"📊 The support report was posted in {shown} less than {minutes} minutes ago. You can post it again "
            f"{ago(now + wait, now)} (Switchboard admins can post it any time)."
        )
    service.daily_report.post(channels, f"now:{now:.6f}", now)
    return f"📊 Posting the support report in {shown}."


def forget(service: SupportService, link: str) -> str:
    """Unlink the thread from its ticket in SQLite only: Zendesk and the Slack thread stay as they are."""
    parsed = parse_permalink(link)
    if parsed is None:
        shown = escape(link.strip("<>"))
        return f"`{shown}` is not a Slack message link. Use *Copy link* on the thread's first message."
    thread = records.thread_by_slack(service.store, *parsed)
    if thread is None:
        return "I don't know a support thread at that link, so there is nothing to forget."
    service.store.execute("UPDATE support_threads SET state = 'forgotten' WHERE id = ?", [thread["id"]])
    ticket = f"ticket #{thread['ticket_id']}" if thread["ticket_id"] else "its ticket (not created yet)"
    return f"Done: that thread is no longer linked to {ticket}. Nothing was changed in Zendesk or in the thread."


def status_text(service: SupportService) -> str:
    now, config, store = time.time(), service.config, service.store
    job = next((j for j in service.foundation.scheduler.status() if j.name == POLL_JOB), None)
    cursor = service.zendesk_poll.cursor()
    not_before = service.zendesk_poll.not_before()
    counts = service.counts()
    failed = int(store.scalar("SELECT COUNT(*) FROM support_threads WHERE state = 'failed'") or 0)
    cursor_text = "not set yet"
    if cursor:
        cursor_text = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(cursor)) + f" ({ago(cursor, now)})"
    lines = ["*Support desk*", "• Channels: " + ", ".join(f"<#{c}>" for c in config.channels)]
    poller = f"• Zendesk poller (every {config.poll_seconds}s): cursor {cursor_text}"
    if job is not None:
        poller += f" · last run {ago(job.last_started_at, now)} · last success {ago(job.last_success_at, now)}"
        # A Zendesk error quotes Zendesk's answer: shown as literal text.
        error = f"`{escape(job.last_error[:200])}` ({ago(job.last_error_at, now)})" if job.last_error else "none"
        poller += f" · last error {error}"
    lines.append(poller)
    if not_before > now:
        lines.append(f"• Zendesk asked us to wait: next export request {ago(not_before, now)}")
    waiting = counts["waiting for Zendesk"]
    lines.append(f"• Tickets: {counts['open tickets']} open, {waiting} waiting for Zendesk, {failed} failed")
    lines.append(f"• Queued: {counts['queued for Zendesk']} for Zendesk, {counts['queued for Slack']} for Slack")
    clock = config.report_time
    report = f"{clock.describe()} (next {ago(clock.next_after(now), now)})" if clock else "off"
    lines.append(f"• Daily report: {report}")
    hours = config.office_hours
    lines.append(f"• Office hours: {hours.describe()}" if hours else "• Office hours: not set (never out of hours)")
    policy = config.escalation_policy
    lines.append(f"• On-call notice: escalation policy {policy}" if policy else "• On-call notice: off")
    return "\n".join(lines)


# --- support channels ⇄ PagerDuty services -------------------------------------------------------------------
def _channel(service: SupportService, word: str) -> str | None:
    """A support channel from `<#C…|name>` (what Slack sends for #channel) or a bare channel ID."""
    match = CHANNEL_ARGUMENT.fullmatch(word)
    channel = (match[1] or match[2]) if match else None
    return channel if channel in service.config.channels else None


def _not_a_support_channel(service: SupportService, word: str) -> str:
    channels = ", ".join(f"<#{c}>" for c in service.config.channels)
    return f"`{escape(word)}` is not a support channel. The support channels are {channels}."


def map_channel(service: SupportService, user_id: str, words: list[str]) -> str:
    if not service.config.watches_incidents:
        return "Mapping channels to PagerDuty services needs PAGERDUTY_API_TOKEN: set it and restart Switchboard."
    if len(words) != 2 or not SERVICE_ID.fullmatch(words[1]):
        return MAP_USAGE
    channel = _channel(service, words[0])
    if channel is None:
        return _not_a_support_channel(service, words[0])
    if not service.service_map.add(channel, words[1], user_id):
        return f"<#{channel}> already watches PagerDuty service {words[1]}."
    return (
        f"Done: a request in <#{channel}> while an incident is open on PagerDuty service {words[1]} now gets a note "
        "linking it, and its ticket the tag `pd-incident-<number>`."
    )


def unmap_channel(service: SupportService, words: list[str]) -> str:
    if len(words) != 1:
        return MAP_USAGE
    channel = _channel(service, words[0])
    if channel is None:
        return _not_a_support_channel(service, words[0])
    removed = service.service_map.remove(channel)
    kept = sorted(s for c, s in service.config.service_map if c == channel)
    text = (
        f"Done: <#{channel}> no longer watches the services mapped with `/support map`."
        if removed
        else (f"<#{channel}> watches no service mapped with `/support map`.")
    )
    if kept:
        text += f" SUPPORT_SERVICE_MAP still maps it to {', '.join(kept)}: change that setting to stop it."
    return text


def map_text(service: SupportService) -> str:
    if not service.config.watches_incidents:
        return "Support channels watch no PagerDuty service: that needs PAGERDUTY_API_TOKEN."
    pairs = service.service_map.pairs()
    if not pairs:
        return "No support channel watches a PagerDuty service yet. " + MAP_USAGE
    from_setting = set(service.config.service_map)
    lines = ["*Support channels and the PagerDuty services they watch*"]
    for channel, pd_service in pairs:
        where = " (SUPPORT_SERVICE_MAP)" if (channel, pd_service) in from_setting else ""
        lines.append(f"• <#{channel}> → {pd_service}{where}")
    return "\n".join(lines)
