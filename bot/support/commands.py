"""`/support`: the report now (admins any time, others once per channel in ten minutes), the poller's health, and
unlinking a thread from its ticket (admins)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.capability import CommandRequest
from bot.support import records
from bot.support.identifiers import POLL_JOB
from bot.support.rules import REPORT_COMMAND_INTERVAL_SECONDS
from bot.support.text import parse_permalink
from bot.text import ago, escape

if TYPE_CHECKING:
    from bot.support.service import SupportService

USAGE = (
    "*Support desk* — `/support report` posts the support report now · `/support status` shows the Zendesk "
    "poller · `/support forget <message link>` (admins) unlinks a thread from its ticket without touching Zendesk. "
    "In a support thread, `help` lists the thread commands."
)
ADMINS_ONLY = "Only Switchboard admins (SWITCHBOARD_ADMINS, workspace admins and owners) can use `/support forget`."


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
