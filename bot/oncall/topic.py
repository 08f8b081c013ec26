"""Channel topics, as pure functions: our clauses, splitting a topic around our part, composing and truncating.

The bot owns the text before the first `|` that is not inside Slack markup (`<@U1>`, `<!subteam^S1|@ops>`,
`<https://x|docs>`); everything after that `|` belongs to people and is kept byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

TOPIC_LIMIT = 250  # Slack refuses longer topics
ELLIPSIS = "..."
NOBODY = "No one"
PLAIN_PIPE = "\u00a6"  # `¦`: a `|` in a schedule or person name must not read as our separator


@dataclass(frozen=True)
class Duty:
    """Who (as Slack text: a mention or an escaped name) is on call for a schedule, and whether by override."""

    who: str
    override: bool = False


@dataclass(frozen=True)
class ScheduleDuty:
    name: str  # the schedule's display name, already escaped for Slack
    duties: tuple[Duty, ...]  # empty: nobody is on call


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def compose_prefix(schedules: list[ScheduleDuty]) -> str:
    """One clause per person (in schedule order), naming every schedule they are on call for.

    `<@U1> is on-call for Primary and Database, <@U2> (override) is on-call for Secondary`;
    nobody on call → `No one is on-call for <name>`.
    """
    clauses: dict[tuple[str, bool], list[str]] = {}
    for schedule in schedules:
        duties = schedule.duties or (Duty(NOBODY),)
        for duty in duties:
            names = clauses.setdefault((duty.who, duty.override), [])
            if schedule.name not in names:
                names.append(schedule.name)
    return _inert_separators(
        ", ".join(
            f"{who}{' (override)' if override else ''} is on-call for {join_names(names)}"
            for (who, override), names in clauses.items()
        )
    )


def _inert_separators(text: str) -> str:
    """Our part must hold no separator: else the next split (after a human edit) would cut it in two."""
    ours, rest = split_topic(text)
    while ours is not None:
        text = f"{ours}{PLAIN_PIPE}{rest}"
        ours, rest = split_topic(text)
    return text


def split_topic(topic: str) -> tuple[str | None, str]:
    """(our part, what follows the separator byte for byte); our part is None when there is no separator."""
    inside_markup = False
    for index, char in enumerate(topic):
        if char == "<":
            inside_markup = True
        elif char == ">":
            inside_markup = False
        elif char == "|" and not inside_markup:
            return topic[:index], topic[index + 1 :]
    return None, topic


def topic_rest(topic: str) -> str | None:
    """The people's part of a topic, as the text that follows our ` |`: None when there is none.

    A topic without a separator is kept whole (after ` | `); an empty topic leaves nothing to keep.
    """
    ours, rest = split_topic(topic)
    if ours is not None:
        return rest
    return " " + topic if topic.strip() else None


def compose_topic(prefix: str, rest: str | None) -> str:
    text = prefix if rest is None else f"{prefix} |{rest}"
    return truncate_topic(text)


def _token_start(text: str, cut: int) -> int:
    """Move a cut point back so it does not fall inside `<…>` markup or an `&…;` entity."""
    opening = text.rfind("<", 0, cut)
    if opening != -1:
        closing = text.find(">", opening)
        if closing == -1 or closing >= cut:
            cut = opening
    ampersand = text.rfind("&", 0, cut)
    if ampersand != -1 and text.find(";", ampersand, ampersand + 8) >= cut:  # `&amp;` `&lt;` `&gt;`
        cut = ampersand
    return cut


def truncate_topic(text: str, limit: int = TOPIC_LIMIT) -> str:
    """Slack's limit, cut with `...` and never inside a mention, link or entity."""
    if len(text) <= limit:
        return text
    cut = _token_start(text, limit - len(ELLIPSIS))
    return text[:cut].rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Written:
    """What the bot last wrote to a channel: the whole topic, our prefix in it, and the people's part it kept."""

    topic: str
    prefix: str
    rest: str | None


def plan_topic(prefix: str, current: str, written: Written | None) -> Written | None:
    """What to write so the channel shows `prefix` (and the people's part it keeps), or None when it already
    does — then no Slack call is made."""
    if written is not None and current == written.topic:
        if prefix == written.prefix:
            return None
        rest = written.rest
    else:
        ours, _ = split_topic(current)
        if ours is not None and ours.strip() == prefix.strip():
            return None
        rest = topic_rest(current)
    new = compose_topic(prefix, rest)
    return None if new == current else Written(new, prefix, rest)


def plan_removal(current: str, written: Written | None) -> str | None:
    """The topic without our part (after the last link of a channel is removed), or None to leave it alone."""
    if written is None:
        return None
    if current == written.topic:
        rest = written.rest
    else:
        ours, rest_after = split_topic(current)
        if ours is None or ours.strip() != written.prefix.strip():
            return None  # people already replaced our part: nothing of ours to remove
        rest = rest_after
    new = (rest or "").lstrip()
    return None if new == current else new
