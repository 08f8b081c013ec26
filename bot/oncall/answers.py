"""How `/oncall` answers read: who is on call for a schedule, the list of links, what a sync changed."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.oncall.links import Link
from bot.oncall.roster import OnCall, Override
from bot.oncall.rules import current_and_next, slack_date
from bot.oncall.sync import SyncReport
from bot.oncall.writer import Change, WriteReport
from bot.text import ago, escape, mention

REFUSAL_HINTS = {
    "not_in_channel": " — `/invite @Switchboard` there",
    "channel_not_found": " — is the channel private? `/invite @Switchboard` there",
    "is_archived": " — the channel is archived",
    "permission_denied": " — the workspace lets only admins change usergroups",
    "no_such_subteam": " — the usergroup no longer exists",
    "missing_scope": " — reinstall the app with the scopes in manifest.yml",
}


def usergroup_label(handle: str | None, group_id: str) -> str:
    return f"@{handle}" if handle else f"`{group_id}`"


def shift_text(who: str, person: OnCall, override: bool, now: float) -> str:
    marker = " (override)" if override else ""
    since = f" since {slack_date(person.start)}" if person.start and person.start <= now else ""
    until = f" until {slack_date(person.end)}" if person.end else ""
    return f"{who}{marker}{since}{until}"


def schedule_answer(
    name: str,
    people: list[OnCall],
    overrides: list[Override],
    shown: dict[str, str],
    now: float,
    lookahead_days: int,
) -> str:
    """`*Primary*: <@U1> since … until …. Next: <@U2> from … until ….`"""
    current, nxt = current_and_next(people, now)
    if current:
        text = "; ".join(
            shift_text(shown[p.user_id], p, any(o.user_id == p.user_id and o.covers(now) for o in overrides), now)
            for p in current
        )
    else:
        text = "no one is on call now"
    if nxt:
        until = f" until {slack_date(nxt.end)}" if nxt.end else ""
        text += f". Next: {shown[nxt.user_id]} from {slack_date(nxt.start or now)}{until}"
    else:
        text += f". Nobody else is scheduled in the next {lookahead_days} days"
    return f"*{name}*: {text}."


def channel_status(row: dict[str, Any], now: float) -> str:
    if row["blocked"]:
        code = row["last_error"] or "refused"
        when = ago(row["last_result_at"], now)
        return f":warning: Slack refused the topic: `{code}`{REFUSAL_HINTS.get(code, '')} ({when})"
    if row["dirty"] and row["last_error"]:
        return f"will retry: `{row['last_error']}`"
    if row["dirty"]:
        return "waiting for its turn to write (Slack rate limit)" if row["desired_prefix"] else "not synced yet"
    set_when = f", set {ago(row['written_at'], now)}" if row["written_at"] else ""
    return f"topic up to date{set_when}"


def usergroup_status(row: dict[str, Any], now: float) -> str:
    if row["blocked"]:
        code = row["last_error"] or "refused"
        hint = REFUSAL_HINTS.get(code, "")
        return f":warning: Slack refused the update: `{code}`{hint} ({ago(row['last_result_at'], now)})"
    if row["kept"]:
        return "kept its members: nobody on call maps to a Slack user"
    if row["dirty"] and row["last_error"]:
        return f"will retry: `{row['last_error']}`"
    if row["dirty"]:
        return "waiting for its turn to write (Slack rate limit)" if row["desired"] else "not synced yet"
    members = json.loads(row["members"] or "[]")
    return f"members up to date ({', '.join(mention(m) for m in members) or 'none'})"


def paused_mark(link: Link, now: float) -> str:
    """` — paused by <@U1> 5 min ago: …` for a paused link, else nothing."""
    if link.paused_at is None:
        return ""
    by = f" by {mention(link.paused_by)}" if link.paused_by else ""
    resume = f"`/oncall resume {link.schedules[0]}`"
    return f" — :double_vertical_bar: *paused*{by} {ago(link.paused_at, now)}: no writes until {resume}"


def links_answer(
    links: list[Link],
    schedule_names: dict[str, str],
    channels: dict[str, dict[str, Any]],
    usergroups: dict[str, dict[str, Any]],
    last_sync: dict[str, Any] | None,
    now: float | None = None,
) -> str:
    now = time.time() if now is None else now
    if not links:
        return "No on-call links yet. An admin can add one: `/oncall link <schedule> #channel @usergroup`."
    # Every link, however many: the reply splits a long answer over continued messages within Slack's limits.
    lines = [f"*On-call links* ({len(links)})"]
    for link in links:
        shown = {s: escape(link.names[s]) if s in link.names else schedule_names.get(s, s) for s in link.schedules}
        schedules = ", ".join(f"*{shown[s]}* (`{s}`)" for s in link.schedules)
        lines.append(f"• {schedules}{paused_mark(link, now)}")
        for channel in link.channels:
            row = channels.get(channel)
            lines.append(f"    <#{channel}>: {channel_status(row, now) if row else 'not synced yet'}")
        for group in link.usergroups:
            row = usergroups.get(group)
            label = usergroup_label(row["handle"] if row else None, group)
            lines.append(f"    {label}: {usergroup_status(row, now) if row else 'not synced yet'}")
    lines.append(sync_line(last_sync, now))
    return "\n".join(lines)


def sync_line(last_sync: dict[str, Any] | None, now: float) -> str:
    if not last_sync:
        return "PagerDuty has not been read yet."
    if last_sync.get("error"):
        return f":warning: Last PagerDuty read failed {ago(last_sync['at'], now)}: `{escape(last_sync['error'][:200])}`"
    text = f"Last PagerDuty read {ago(last_sync['at'], now)}"
    if last_sync.get("next_boundary"):
        text += f"; next shift change {slack_date(last_sync['next_boundary'])}"
    missing = last_sync.get("missing") or []
    if missing:
        text += f". :warning: Not found in PagerDuty: {', '.join(f'`{m}`' for m in missing)}"
    return text + "."


def change_line(change: Change, usergroups: dict[str, dict[str, Any]]) -> str:
    if change.kind == "channel":
        if not change.after:
            return f"• <#{change.target}>: on-call part removed from the topic"
        was = f" (was: {change.before})" if change.before else ""
        return f"• <#{change.target}> topic: {change.after}{was}"
    row = usergroups.get(change.target)
    label = usergroup_label(row["handle"] if row else None, change.target)
    after = ", ".join(mention(m) for m in change.after.split(",") if m)
    before = ", ".join(mention(m) for m in (change.before or "").split(",") if m) or "nobody"
    return f"• {label} members: {after} (was: {before})"


def sync_answer(
    sync: SyncReport | None, write: WriteReport | None, error: str | None, waiting: int, usergroups: dict[str, Any]
) -> str:
    if sync is None:
        return f"The sync failed: `{escape(str(error))}`. Nothing changed; `/oncall list` shows the last good state."
    if not sync.links:
        return "There are no on-call links to sync. `/oncall link <schedule> #channel` adds one."
    lines = [f"Synced {sync.links} link(s) over {sync.schedules} schedule(s)."]
    lines += [f"• {handoff}" for handoff in sync.handoffs]
    changes = write.changes if write else []
    lines += [change_line(change, usergroups) for change in changes]
    for kind, target, code in write.failures if write else []:
        label = (
            f"<#{target}>" if kind == "channel" else usergroup_label(usergroups.get(target, {}).get("handle"), target)
        )
        lines.append(f"• :warning: {label}: Slack said `{code}`{REFUSAL_HINTS.get(code, '')}")
    if not changes and not sync.handoffs and not (write and write.failures):
        lines.append("Nothing changed: every topic and usergroup was already up to date.")
    if waiting:
        lines.append(f"{waiting} write(s) wait for Slack's rate limit and go out within minutes.")
    if error:
        lines.append(f":warning: {escape(error)}")
    return "\n".join(lines)
