"""`/oncall …` text → a command, without touching any vendor (unit-testable).

Slack sends the text escaped (the manifest sets `should_escape`), so a picked channel arrives as
`<#C0123|ops>` and a usergroup as `<!subteam^S0123|@oncall>`; bare IDs and quoted schedule names work too.
A question asked by @mention or DM ("@Switchboard who is on call for Payments?") reads as the same `who` command.
"""

from __future__ import annotations

import html
import re
import shlex
from dataclasses import dataclass, field

ACTIONS = ("link", "unlink", "pause", "resume", "list", "sync", "help")
# Each schedule costs PagerDuty calls, and one command must not spend the budgets the whole bot shares.
MAX_SCHEDULES_PER_COMMAND = 10
USAGE = (
    "`/oncall` — who is on call for this channel · `/oncall <schedule>` — who is on call for any schedule\n"
    "`/oncall link <schedule>[,<schedule>…] [#channel …] [@usergroup …]` — show a schedule in channel topics and "
    "keep usergroups on call (admins; `<schedule>=<display name>` renames it in the topic)\n"
    "`/oncall unlink <schedule> [#channel …] [@usergroup …]` — stop that (admins) · `/oncall list` — every link "
    "and how its last sync went · `/oncall sync` — sync now and say what changed (admins) · `/oncall help`\n"
    "`/oncall pause <schedule>` / `/oncall resume <schedule>` — stop and restart changing the topics and usergroups "
    "its links feed, keeping the links (admins) · a schedule can also be an escalation policy's first level: "
    "`policy:<policy ID or name>` · ask `@Switchboard who is on call [for <schedule>]` in a channel or a DM"
)
_CHANNEL_MARKUP = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_USERGROUP_MARKUP = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|([^>]*))?>")
_BARE_CHANNEL = re.compile(r"[CG](?=[A-Z0-9]*\d)[A-Z0-9]{4,}")
_BARE_USERGROUP = re.compile(r"S(?=[A-Z0-9]*\d)[A-Z0-9]{4,}")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
# "who is on call", "who's on-call right now", "whos oncall here" (any case; spaces already single): the question up
# to what it asks about. Anchored and without nested repeats, so any message is read in linear time.
_QUESTION = re.compile(r"who(?: is|'s|s)? (?:currently )?on[ -]?call(?: here)?(?: (?:right )?now)?", re.IGNORECASE)
_ABOUT = ("for ", "of ", "in ")
_NOW = (" right now", " now")


class CommandError(ValueError):
    """Input we cannot read; the message is the friendly answer."""


@dataclass(frozen=True)
class ScheduleRef:
    query: str  # an ID or (part of) a name
    display_name: str | None = None


@dataclass
class OncallCommand:
    action: str  # "who" or one of ACTIONS
    schedules: list[ScheduleRef] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # channel IDs
    channel_names: list[str] = field(default_factory=list)  # `#name` typed as plain text (not picked)
    usergroups: list[str] = field(default_factory=list)  # usergroup IDs
    usergroup_handles: list[str] = field(default_factory=list)  # `@handle` typed as plain text

    @property
    def has_targets(self) -> bool:
        return bool(self.channels or self.channel_names or self.usergroups or self.usergroup_handles)


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text.translate(_QUOTES), comments=False, posix=True)
    except ValueError as error:
        raise CommandError(f"I couldn't read that ({error}); check the quotes.\n{USAGE}") from error


def _target(token: str, command: OncallCommand) -> bool:
    """Record a channel/usergroup token; False when the token is not a target."""
    if match := _CHANNEL_MARKUP.fullmatch(token):
        command.channels.append(match.group(1))
    elif match := _USERGROUP_MARKUP.fullmatch(token):
        command.usergroups.append(match.group(1))
    elif _BARE_CHANNEL.fullmatch(token):
        command.channels.append(token)
    elif _BARE_USERGROUP.fullmatch(token):
        command.usergroups.append(token)
    elif token.startswith("#") and len(token) > 1:
        command.channel_names.append(token[1:])
    elif token.startswith("@") and len(token) > 1:
        command.usergroup_handles.append(token[1:])
    else:
        return False
    return True


def parse_schedules(text: str, allow_names: bool) -> list[ScheduleRef]:
    """Comma-separated schedules, each once (a repeat keeps the first one's place and the last display name),
    at most MAX_SCHEDULES_PER_COMMAND of them."""
    refs: dict[str, ScheduleRef] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        query, sep, display = part.partition("=")
        query, display = html.unescape(query.strip()), html.unescape(display.strip())
        if sep and not allow_names:
            raise CommandError("Display names (`<schedule>=<name>`) are only for `/oncall link`.")
        if sep and not display:
            raise CommandError(f"`{part}` has an empty display name after `=`.")
        if query:
            key = query.casefold()
            earlier = refs.get(key)
            if earlier is None:
                refs[key] = ScheduleRef(query, display or None)
            elif display:
                refs[key] = ScheduleRef(earlier.query, display)
    if len(refs) > MAX_SCHEDULES_PER_COMMAND:
        raise CommandError(
            f"One `/oncall` command takes at most {MAX_SCHEDULES_PER_COMMAND} schedules, and this one names "
            f"{len(refs)}: split them over several commands. Nothing was done."
        )
    return list(refs.values())


def parse_question(text: str, bot_user_id: str) -> OncallCommand | None:
    """A "who is on call [for …]" question, as the `who` command (`channels`: the one asked about, if any);
    None for any other message, which on-call leaves alone. Mentions of the bot anywhere in it are ignored."""
    text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text).translate(_QUOTES)
    text = " ".join(text.split()).rstrip(" ?.!")
    match = _QUESTION.match(text)
    if match is None:
        return None
    rest = text[match.end() :]
    what = ""
    if rest:  # " for Payments, Database", " in <#C0123|payments>"
        about = next((word for word in _ABOUT if rest[1:].lower().startswith(word)), None)
        if not rest.startswith(" ") or about is None:
            return None  # "who is on callers", "who is on call tonight"
        what = rest[1 + len(about) :]
        now = next((suffix for suffix in _NOW if what.lower().endswith(suffix)), "")
        what = what[: len(what) - len(now)].strip()
        if not what:
            return None
    command = OncallCommand("who")
    if channel := _CHANNEL_MARKUP.fullmatch(what):  # "who is on call in #payments": that channel's links
        command.channels.append(channel.group(1))
    elif what and what.lower() not in ("here", "this channel"):
        command.schedules = parse_schedules(what, allow_names=False)
    return command


def parse_command(text: str) -> OncallCommand:
    words = text.strip().split(None, 1)
    if not words:
        return OncallCommand("who")
    action = words[0].lower()
    if action in ("list", "sync", "help"):
        if len(words) > 1:
            raise CommandError(f"`/oncall {action}` takes nothing after it.")
        return OncallCommand(action)
    if action in ("pause", "resume"):
        schedules = parse_schedules(words[1] if len(words) > 1 else "", allow_names=False)
        if not schedules:
            example = f"`/oncall {action} <schedule>`"
            raise CommandError(f"`/oncall {action}` needs a linked schedule (its ID or name): {example}")
        return OncallCommand(action, schedules=schedules)
    if action not in ("link", "unlink"):
        return OncallCommand("who", schedules=parse_schedules(text.strip(), allow_names=False))
    command = OncallCommand(action)
    schedule_words: list[str] = []
    for token in _tokens(words[1] if len(words) > 1 else ""):
        if _target(token, command):
            continue
        if command.has_targets:
            raise CommandError(f"I expected a #channel or @usergroup, not `{token}`; schedules come first.\n{USAGE}")
        schedule_words.append(token)
    command.schedules = parse_schedules(" ".join(schedule_words), allow_names=action == "link")
    if not command.schedules:
        example = "`/oncall link <schedule>[,<schedule>…] [#channel …] [@usergroup …]`"
        if action == "unlink":
            example = "`/oncall unlink <schedule> [#channel …] [@usergroup …]`"
        raise CommandError(f"`/oncall {action}` needs a PagerDuty schedule (its ID or name): {example}")
    return command
