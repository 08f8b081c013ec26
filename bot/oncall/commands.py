"""`/oncall` subcommands. Each returns the (ephemeral) answer text; changes are validated in full first, so an
error anywhere stores nothing."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from bot.capability import CommandRequest
from bot.clients.pagerduty import PagerDutyError, PagerDutyHttpError
from bot.clients.slack import SlackApiError, slack_error
from bot.identity import SlackDirectory
from bot.oncall import rules
from bot.oncall.answers import links_answer, schedule_answer, sync_answer, usergroup_label
from bot.oncall.budget import CallBudget, CallBudgetExceeded, CountedPagerDuty, CountedSlack
from bot.oncall.links import Link, add_link, load_links, remove_targets, set_paused, settle_targets
from bot.oncall.parse import USAGE, CommandError, OncallCommand, ScheduleRef, parse_command
from bot.oncall.reader import OnCallReader, save_schedule, schedule_rows
from bot.oncall.roster import SEARCH_PAGE, Rendered, Roster, ScheduleInfo, is_not_found
from bot.oncall.sources import SCHEDULE_ID, policy_of, policy_query, policy_source
from bot.oncall.sync import LAST_SYNC_STATE
from bot.oncall.topic import plan_topic
from bot.text import escape, mention, quoted

if TYPE_CHECKING:
    from bot.oncall.service import OncallService

log = logging.getLogger(__name__)

NOT_ADMIN = "Only Switchboard admins can change on-call links."
LOOKAHEAD_DAYS = 14
NO_SCHEDULE_HERE = (
    "No on-call schedule is linked to this channel. Ask about any: `/oncall <schedule>` (`/oncall help`)."
)
OVER_CALL_LIMIT = "That would take more than {limit} calls to PagerDuty and Slack, the most one `/oncall` command makes"
READ_OVER_CALL_LIMIT = OVER_CALL_LIMIT + ". Ask about fewer schedules at once."
CHANGE_OVER_CALL_LIMIT = OVER_CALL_LIMIT + "; nothing changed. Name fewer schedules, channels or usergroups at once."
READ_STOPPED = (
    "…and {count} more schedule(s) not read: one `/oncall` command makes at most {limit} calls to PagerDuty and "
    "Slack. Ask about them with `/oncall <schedule>`: {schedules}."
)
SEARCH_PAGE_FULL = " (the first {count} PagerDuty found: type more of the name to narrow it down)"
NO_POLICY_GIVEN = "`policy:` needs an escalation policy's ID or name, like `policy:PABC123`."
PAUSED_NOTE = ":double_vertical_bar: This link is paused: its topics and usergroups stay as they are until {resume}."


class CommandHandler:
    """One `/oncall` command. Every PagerDuty and Slack read it makes goes through clients counted against its
    own `CallBudget` (the sync a change asks for is the regular cycle run early, with the cycle's own limits)."""

    def __init__(self, service: OncallService, budget: CallBudget | None = None):
        self.service = service
        self.foundation = service.foundation
        self.store = service.store
        self.budget = budget or CallBudget()
        self.roster = Roster(CountedPagerDuty(service.roster.client, self.budget))
        self.reader = OnCallReader(self.store, self.roster)
        self.slack = CountedSlack(self.foundation.slack, self.budget)
        # The shared directory cache, asking Slack through the counted client (it only calls users_lookupByEmail).
        self.directory = SlackDirectory(self.store, self.slack)  # type: ignore[arg-type]

    def handle(self, user_id: str, channel_id: str, text: str, question: OncallCommand | None = None) -> str:
        """The answer to `/oncall <text>`, or to a `question` already read from a message (@mention, DM)."""
        command: OncallCommand | None = question
        try:
            command = command or parse_command(text)
            if command.action == "help":
                return USAGE
            if command.action == "who":  # a question about another channel names it
                return self.who(command.channels[0] if command.channels else channel_id, command)
            if command.action == "list":
                return self.list()
            if not self.foundation.is_admin(user_id):
                return NOT_ADMIN
            if command.action == "link":
                return self.link(user_id, channel_id, command)
            if command.action == "unlink":
                return self.unlink(channel_id, command)
            if command.action in ("pause", "resume"):
                return self.pause(user_id, command, pausing=command.action == "pause")
            return self.sync()
        except CommandError as error:
            return str(error)
        except CallBudgetExceeded:
            log.warning("/oncall %s: stopped at its limit of %d vendor calls", quoted(text), self.budget.limit)
            reading = command is None or command.action == "who"
            return (READ_OVER_CALL_LIMIT if reading else CHANGE_OVER_CALL_LIMIT).format(limit=self.budget.limit)
        except PagerDutyError as error:
            log.warning("/oncall %s: PagerDuty failed: %s", quoted(text), quoted(error))
            return (
                f"PagerDuty could not answer just now (`{escape(str(error))}`); nothing changed. Try again in a minute."
            )
        except SlackApiError as error:
            log.warning("/oncall %s: Slack failed: %s", quoted(text), quoted(slack_error(error)))
            return f"Slack could not answer just now (`{escape(slack_error(error))}`); nothing changed."

    # --- reading -------------------------------------------------------------------------------------
    def resolve(self, ref: ScheduleRef) -> ScheduleInfo:
        """A schedule by ID, else by name: an exact (case-insensitive) match wins, a single partial match too."""
        policy = policy_query(ref.query)
        if policy is not None:
            return self.resolve_policy(policy)
        if SCHEDULE_ID.fullmatch(ref.query):
            info = self.roster.schedule(ref.query)
            if info is not None:
                return info
        found = self.roster.find(ref.query)
        exact = [s for s in found if s.name.lower() == ref.query.lower()]
        if len(exact) == 1 or len(found) == 1:
            return (exact or found)[0]
        if not found:
            raise CommandError(f"Schedule `{escape(ref.query)}` not found in PagerDuty.")
        # Every match is named; PagerDuty's search answers one page, so a full page may not be all of them.
        choices = ", ".join(f"{escape(s.name)} (`{s.id}`)" for s in (exact or found))
        if not exact and len(found) >= SEARCH_PAGE:
            choices += SEARCH_PAGE_FULL.format(count=len(found))
        raise CommandError(f"Schedule `{escape(ref.query)}` matches several schedules: {choices}. Use its ID.")

    def resolve_policy(self, query: str) -> ScheduleInfo:
        """An escalation policy (`policy:<ID or name>`) as a link source, found like a schedule."""
        if not query:
            raise CommandError(NO_POLICY_GIVEN)
        if SCHEDULE_ID.fullmatch(query):
            info = self.roster.policy(query)
            if info is not None:
                return info
        found = self.roster.find_policies(query)
        exact = [p for p in found if p.name.lower() == query.lower()]
        if len(exact) == 1 or len(found) == 1:
            return (exact or found)[0]
        if not found:
            raise CommandError(f"Escalation policy `{escape(query)}` not found in PagerDuty.")
        choices = ", ".join(f"{escape(p.name)} (`{p.id}`)" for p in (exact or found))
        if not exact and len(found) >= SEARCH_PAGE:
            choices += SEARCH_PAGE_FULL.format(count=len(found))
        raise CommandError(f"Escalation policy `{escape(query)}` matches several policies: {choices}. Use its ID.")

    def read_schedule(self, ref: ScheduleRef, now: float) -> tuple[ScheduleInfo, Rendered | None]:
        """A schedule asked about by ID is read at once (one call gives its name and shifts); by name, resolved."""
        if SCHEDULE_ID.fullmatch(ref.query):
            try:
                rendered = self.roster.rendered(ref.query, now, now + LOOKAHEAD_DAYS * 86400)
                return rendered.schedule, rendered
            except PagerDutyHttpError as error:
                if not is_not_found(error):
                    raise
        return self.resolve(ref), None

    def who(self, channel_id: str, command: OncallCommand) -> str:
        now = time.time()
        schedules: dict[str, tuple[str, Rendered | None]] = {}  # one answer per schedule, however it was named
        if command.schedules:
            errors = []
            for ref in command.schedules:
                try:
                    info, rendered = self.read_schedule(ref, now)
                    schedules.setdefault(info.id, (escape(info.name), rendered))
                except CommandError as error:
                    errors.append(str(error))
            if errors:
                return "\n".join(errors)
        else:
            links = [link for link in load_links(self.store) if channel_id in link.channels]
            if not links:
                return NO_SCHEDULE_HERE
            names = rules.display_names(links, self.schedule_rows())
            for sid in dict.fromkeys(s for link in links for s in link.schedules):
                schedules[sid] = (names.get(sid, sid), None)
        lines: list[str] = []
        asked = list(schedules.items())
        for index, (sid, (name, rendered)) in enumerate(asked):
            try:
                lines.append(self.schedule_now(sid, name, now, rendered))
            except CallBudgetExceeded:
                if not lines:
                    raise
                left = asked[index:]  # named, so the person can ask about each of them
                limit = self.budget.limit
                log.warning("/oncall: %d schedule(s) left unread at the limit of %d calls", len(left), limit)
                unread = ", ".join(f"*{unread_name}* (`{unread_id}`)" for unread_id, (unread_name, _) in left)
                lines.append(READ_STOPPED.format(count=len(left), limit=limit, schedules=unread))
                break
        return "\n".join(lines)

    def schedule_now(self, schedule_id: str, name: str, now: float, rendered: Rendered | None = None) -> str:
        if rendered is None:
            try:
                rendered = self.roster.rendered(schedule_id, now, now + LOOKAHEAD_DAYS * 86400)
            except PagerDutyError as error:
                if is_not_found(error):
                    return f"*{name}*: schedule `{schedule_id}` not found in PagerDuty."
                raise
        current, upcoming = rules.current_and_next(rendered.people, now)
        # Only the people the answer shows are looked up (emails in PagerDuty, then Slack): each may cost a call.
        people = self.reader.fill_emails(current + ([upcoming] if upcoming else []))
        shown = {
            p.user_id: rules.deactivated_display(p)
            if p.deactivated
            else self.directory.mention_or_name(p.email, p.name)
            for p in people
        }
        return schedule_answer(name, people, rendered.overrides, shown, now, LOOKAHEAD_DAYS)

    def schedule_rows(self) -> dict[str, dict[str, Any]]:
        return schedule_rows(self.store)

    def list(self) -> str:
        rows = self.schedule_rows()
        channels = {r["channel_id"]: r for r in self.store.query("SELECT * FROM oncall_channels")}
        usergroups = {r["usergroup_id"]: r for r in self.store.query("SELECT * FROM oncall_usergroups")}
        names = {sid: escape(r["name"]) for sid, r in rows.items()}
        last = self.store.get_state(LAST_SYNC_STATE)
        return links_answer(load_links(self.store), names, channels, usergroups, json.loads(last) if last else None)

    # --- changing ------------------------------------------------------------------------------------
    def check_channel(self, channel_id: str, errors: list[str]) -> str | None:
        """The channel's topic when the bot can write it, else None with the reason added to `errors`."""
        try:
            channel = self.slack.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as error:
            if slack_error(error) == "channel_not_found":
                errors.append(
                    f"I can't see channel <#{channel_id}>: if it is private, `/invite @Switchboard` there first."
                )
                return None
            raise
        if channel.get("is_im") or channel.get("is_mpim"):
            errors.append("A direct message has no topic to show who is on call: name a channel, like `#ops`.")
        elif channel.get("is_archived"):
            errors.append(f"<#{channel_id}> is archived.")
        elif not channel.get("is_member"):
            errors.append(f"I'm not in <#{channel_id}> yet: `/invite @Switchboard` there, then link again.")
        else:
            return str((channel.get("topic") or {}).get("value") or "")
        return None

    def check_usergroups(self, command: OncallCommand, errors: list[str]) -> dict[str, str]:
        """Usergroup id → handle for every group named, resolving typed `@handles`; unknown ones are errors."""
        if not (command.usergroups or command.usergroup_handles):
            return {}
        groups = self.slack.usergroups_list()["usergroups"]
        by_id = {g["id"]: g for g in groups}
        by_handle = {str(g.get("handle", "")).lower(): g for g in groups}
        found: dict[str, str] = {}
        for group_id in command.usergroups:
            if group_id in by_id:
                found[group_id] = by_id[group_id].get("handle") or group_id
            else:
                errors.append(f"Usergroup `{group_id}` not found in Slack.")
        for handle in command.usergroup_handles:
            group = by_handle.get(handle.lower())
            if group is None:
                errors.append(f"Usergroup `@{handle}` not found in Slack.")
            else:
                found[group["id"]] = group.get("handle") or group["id"]
        return found

    def link(self, user_id: str, channel_id: str, command: OncallCommand) -> str:
        channels = list(dict.fromkeys(command.channels or ([] if command.has_targets else [channel_id])))
        # At least one call per schedule and channel, one for all usergroups: refuse before any when that is too many.
        self.budget.require(
            len(command.schedules) + len(channels) + int(bool(command.usergroups or command.usergroup_handles))
        )
        errors: list[str] = []
        infos: list[ScheduleInfo] = []
        for ref in command.schedules:
            try:
                infos.append(self.resolve(ref))
            except CommandError as error:
                errors.append(str(error))
        errors += [
            f"Channel `#{name}` not found in Slack: pick it from the list as you type."
            for name in command.channel_names
        ]
        topics = {c: self.check_channel(c, errors) for c in channels}
        groups = self.check_usergroups(command, errors)
        if errors:
            return "Nothing changed:\n" + "\n".join(f"• {e}" for e in dict.fromkeys(errors))
        names = {
            info.id: ref.display_name for info, ref in zip(infos, command.schedules, strict=True) if ref.display_name
        }
        link = Link(tuple(dict.fromkeys(i.id for i in infos)), names, tuple(channels), tuple(groups))
        now = time.time()
        for info in infos:
            save_schedule(self.store, info, info.id, now)
        with self.store.write() as db:
            add_link(db, link, created_by=user_id, now=now)
            settle_targets(db, now)
            for channel, topic in topics.items():  # conversations.info just told us the topic
                db.conn.execute(
                    "UPDATE oncall_channels SET topic = ?, topic_known = 1 WHERE channel_id = ?", [topic, channel]
                )
            for group, handle in groups.items():
                db.conn.execute("UPDATE oncall_usergroups SET handle = ? WHERE usergroup_id = ?", [handle, group])
        _, _, error = self.service.sync_and_write_here()
        targets = [f"<#{c}>" for c in channels] + [f"@{h}" for h in groups.values()]
        shown = [escape(names.get(info.id) or info.name) for info in infos]
        lines = [f"Linked {', '.join(f'*{name}*' for name in shown)} to {', '.join(targets)}."]
        lines += [self.channel_preview(c) for c in channels] + [self.usergroup_preview(g) for g in groups]
        if error:
            lines.append(
                f":warning: PagerDuty could not be read just now (`{escape(error)}`); the next sync fills this in."
            )
        stored = next((known for known in load_links(self.store) if known.key == link.key), None)
        if stored is not None and stored.paused_at is not None:
            lines.append(PAUSED_NOTE.format(resume=f"`/oncall resume {stored.schedules[0]}`"))
        return "\n".join(lines)

    def channel_preview(self, channel: str) -> str:
        row = self.store.query_one("SELECT * FROM oncall_channels WHERE channel_id = ?", [channel]) or {}
        if row.get("blocked"):
            return f"• <#{channel}>: Slack refused the topic (`{row.get('last_error')}`)."
        written = rules.written_of(row) if row else None
        topic = row.get("topic") or ""
        plan = plan_topic(row["desired_prefix"], topic, written) if row.get("desired_prefix") else None
        shown = plan.topic if plan else topic
        when = "will be" if plan else "is"
        return f"• The topic of <#{channel}> {when}:\n> {shown}"

    def usergroup_preview(self, group: str) -> str:
        row = self.store.query_one("SELECT * FROM oncall_usergroups WHERE usergroup_id = ?", [group]) or {}
        label = usergroup_label(row.get("handle"), group)
        if row.get("blocked"):
            return f"• {label}: Slack refused the update (`{row.get('last_error')}`); `/oncall list` shows it."
        if row.get("kept"):
            return f"• {label}: nobody on call maps to a Slack user, so I keep its current members."
        members = json.loads(row.get("desired") or "[]")
        return f"• {label} members: {', '.join(mention(m) for m in members) or 'not known yet'}."

    def local_schedule(self, ref: ScheduleRef) -> str:
        """A linked schedule by ID, stored name or display name; PagerDuty only when nothing local matches.
        `policy:<ID or name>` names an escalation policy the same way (and matches only policies)."""
        policy = policy_query(ref.query)
        query = ref.query if policy is None else policy
        if SCHEDULE_ID.fullmatch(query):
            return query if policy is None else policy_source(query)

        def kind_matches(sid: str) -> bool:
            return policy is None or policy_of(sid) is not None

        wanted = query.lower()
        for sid, row in self.schedule_rows().items():
            if row["name"].lower() == wanted and kind_matches(sid):
                return sid
        for link in load_links(self.store):
            for sid, name in link.names.items():
                if name.lower() == wanted and kind_matches(sid):
                    return sid
        return self.resolve(ref).id

    def unlink(self, channel_id: str, command: OncallCommand) -> str:
        errors = [f"Channel `#{name}` not found in Slack." for name in command.channel_names]
        handles = {
            str(r["handle"]).lower(): r["usergroup_id"]
            for r in self.store.query("SELECT usergroup_id, handle FROM oncall_usergroups WHERE handle IS NOT NULL")
        }
        groups = list(command.usergroups)
        for handle in command.usergroup_handles:
            if handle.lower() in handles:
                groups.append(handles[handle.lower()])
            else:
                errors.append(f"Usergroup `@{handle}` is not linked to any schedule.")
        schedule_ids = []
        for ref in command.schedules:
            try:
                schedule_ids.append(self.local_schedule(ref))
            except CommandError as error:
                errors.append(str(error))
        if errors:
            return "Nothing changed:\n" + "\n".join(f"• {e}" for e in errors)
        channels = command.channels or ([] if command.has_targets else [channel_id])
        with self.store.write() as db:
            removed = [r for sid in schedule_ids for r in remove_targets(db, sid, tuple(channels), tuple(groups))]
            settle_targets(db)
        targets = [f"<#{c}>" for c in channels] + [f"`{g}`" for g in groups]
        if not removed:
            fed = self.fed_by(schedule_ids)
            return f"`{', '.join(schedule_ids)}` is not linked to {', '.join(targets)}; nothing changed.{fed}"
        self.service.kick()
        still = {c for link in load_links(self.store) for c in link.channels}
        notes = [
            f"<#{target}>: its topic keeps the other schedules."
            if target in still
            else f"<#{target}>: I'll take the on-call part out of its topic."
            for kind, target in removed
            if kind == "channel"
        ]
        done = ", ".join(f"<#{t}>" if k == "channel" else f"`{t}`" for k, t in dict.fromkeys(removed))
        return "\n".join([f"Unlinked `{', '.join(schedule_ids)}` from {done}.", *notes])

    def fed_by(self, schedule_ids: list[str]) -> str:
        links = [link for link in load_links(self.store) if set(link.schedules) & set(schedule_ids)]
        targets = [f"<#{c}>" for link in links for c in link.channels]
        targets += [f"`{g}`" for link in links for g in link.usergroups]
        return f" It feeds: {', '.join(dict.fromkeys(targets))}." if targets else " It is not linked anywhere."

    def pause(self, user_id: str, command: OncallCommand, pausing: bool) -> str:
        """Pause (or resume) every link that follows all the schedules named: its targets get no writes meanwhile."""
        errors: list[str] = []
        sources: list[str] = []
        for ref in command.schedules:
            try:
                sources.append(self.local_schedule(ref))
            except CommandError as error:
                errors.append(str(error))
        if errors:
            return "Nothing changed:\n" + "\n".join(f"• {e}" for e in errors)
        links = [link for link in load_links(self.store) if set(sources) <= set(link.schedules)]
        named = ", ".join(f"`{source}`" for source in sources)
        if not links:
            return f"{named} is not linked anywhere; nothing changed. `/oncall list` shows every link."
        changing = [link for link in links if (link.paused_at is None) == pausing]
        if not changing:
            return f"{named} {'is already paused' if pausing else 'is not paused'}; nothing changed."
        with self.store.write() as db:
            now = time.time()
            set_paused(db, [int(link.id or 0) for link in changing], user_id, now if pausing else None)
        names = rules.display_names(changing, self.schedule_rows())
        shown = ", ".join(dict.fromkeys(f"*{names.get(s, s)}*" for link in changing for s in link.schedules))
        handles = {r["usergroup_id"]: r["handle"] for r in self.store.query("SELECT * FROM oncall_usergroups")}
        channels = list(dict.fromkeys(c for link in changing for c in link.channels))
        groups = list(dict.fromkeys(g for link in changing for g in link.usergroups))
        targets = ", ".join([f"<#{c}>" for c in channels] + [usergroup_label(handles.get(g), g) for g in groups])
        if pausing:
            resume = f"`/oncall resume {sources[0]}`"
            return (
                f"Paused {shown}: I won't change {targets} until {resume}. The link stays; `/oncall list` shows it "
                "as paused."
            )
        _, _, error = self.service.sync_and_write_here()
        lines = [f"Resumed {shown}: {targets} follow PagerDuty again."]
        lines += [self.channel_preview(c) for c in channels] + [self.usergroup_preview(g) for g in groups]
        if error:
            lines.append(
                f":warning: PagerDuty could not be read just now (`{escape(error)}`); the next sync fills this in."
            )
        return "\n".join(lines)

    def sync(self) -> str:
        with self.store.write() as db:  # an admin asking to sync is worth one more try of earlier refusals
            for table in ("oncall_channels", "oncall_usergroups"):
                db.conn.execute(f"UPDATE {table} SET next_attempt_at = 0 WHERE dirty = 1")
        sync, write, error = self.service.sync_and_write_here()
        usergroups = {r["usergroup_id"]: r for r in self.store.query("SELECT * FROM oncall_usergroups")}
        return sync_answer(sync, write, error, self.service.writer.waiting(), usergroups)


def answer(service: OncallService, request: CommandRequest) -> str:
    """`/oncall …` (after the ack, on the foundation's pool)."""
    return CommandHandler(service).handle(request.user_id, request.channel_id, request.text)
