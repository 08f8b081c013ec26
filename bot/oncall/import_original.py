"""Reading the configuration table of pd-oncall-chat-topic as on-call links, for teams switching from it
(https://github.com/PagerDuty/pd-oncall-chat-topic: a scheduled job that writes who is on call into channel topics
and usergroups).

The table is a DynamoDB table with one row per topic to keep; give it as the output of
`aws dynamodb scan --table-name <table> --output json` (`{"Items": [{"schedule": {"S": "P123456"}, …}]}`) or as a
plain JSON list of rows (`[{"schedule": "P123456", …}]`). The fields of a row, all strings:

- `schedule` (required): PagerDuty schedule IDs, comma-separated, in topic order; an entry that is not an ID is a
  schedule name, looked up in PagerDuty by the caller.
- `slack`: Slack channel IDs whose topic shows who is on call, separated by spaces (commas are accepted too).
- `slack_groups`: Slack usergroup IDs whose members are the people on call (commas or spaces).
- `sched_name`: display names, comma-separated and in the same order as `schedule`; a blank one keeps PagerDuty's.
- `expiretime`: the table's time-to-live (epoch seconds): a row past it is skipped, as DynamoDB deletes it.
- `hipchat`: a HipChat room, which the original never supported: a row with nothing else is skipped.

Every row is checked before anything is applied; each problem is reported with its row number (1 = the first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.oncall.link_file import CHANNEL_ID, USERGROUP_ID
from bot.oncall.links import Link
from bot.oncall.sources import SCHEDULE_ID

SOURCE = "pd-oncall-chat-topic"
FIELDS = ("schedule", "slack", "slack_groups", "sched_name")
IGNORED_FIELDS = ("expiretime", "hipchat")
_SEPARATORS = re.compile(r"[\s,]+")


class OriginalFileError(ValueError):
    """The file cannot be imported; `problems` are one line each, naming the row where there is one."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OriginalRow:
    """One row of the table, checked: `schedules` are IDs or names still to look up (`names` positional)."""

    number: int
    schedules: tuple[str, ...]
    names: tuple[str, ...]  # "" where the row gives no display name
    channels: tuple[str, ...]
    usergroups: tuple[str, ...]


@dataclass
class OriginalTable:
    rows: list[OriginalRow]
    notes: list[str]  # rows skipped and fields ignored, one line each


def _rows_of(text: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise OriginalFileError([f"not valid JSON at line {error.lineno}: {error.msg}"]) from error
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("Items"), list):
        if data.get("NextToken") or data.get("LastEvaluatedKey"):  # a partial scan would unlink the rest
            raise OriginalFileError(
                ["the scan is incomplete (it has a NextToken): run `aws dynamodb scan` without --max-items"]
            )
        return data["Items"]
    raise OriginalFileError(['expected `aws dynamodb scan` output ({"Items": [...]}) or a JSON list of rows'])


def _string(value: Any, field: str, where: str) -> str | None:
    """A field's text: plain, or as DynamoDB types it (`{"S": "…"}`); None when absent or null."""
    if isinstance(value, dict) and len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind == "NULL":
            return None
        if kind in ("S", "N") and isinstance(inner, str):
            return inner
        raise ValueError(f"{where}: {field} must be a string, got a DynamoDB {kind!r} value")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{where}: {field} must be a string")


def _ids(text: str | None, pattern: re.Pattern[str], field: str, what: str, where: str) -> tuple[str, ...]:
    found: list[str] = []
    for item in _SEPARATORS.split(text or ""):
        if not item:
            continue
        if not pattern.fullmatch(item):
            raise ValueError(f"{where}: {field} has {item!r}, which is not {what}")
        if item not in found:
            found.append(item)
    return tuple(found)


def _row(number: int, item: Any, now: float, notes: list[str]) -> OriginalRow | None:
    where = f"row {number}"
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object with schedule, slack, slack_groups and sched_name")
    fields = {key: _string(value, key, where) for key, value in item.items() if key in FIELDS + IGNORED_FIELDS}
    expires = fields.get("expiretime")
    if expires and re.fullmatch(r"\d+(\.\d+)?", expires.strip()) and float(expires) < now:
        notes.append(f"{where}: skipped, its expiretime has passed (DynamoDB deletes such rows)")
        return None
    unknown = [key for key in item if key not in FIELDS + IGNORED_FIELDS]
    if unknown:
        notes.append(f"{where}: ignored field(s) {', '.join(repr(k) for k in sorted(unknown))}")
    if fields.get("hipchat") and not (fields.get("slack") or fields.get("slack_groups")):
        notes.append(f"{where}: skipped, HipChat rooms are not supported")
        return None
    schedule_text = (fields.get("schedule") or "").strip()
    if not schedule_text:
        raise ValueError(f"{where}: schedule is missing")
    schedules = tuple(dict.fromkeys(part.strip() for part in schedule_text.split(",") if part.strip()))
    if not schedules:
        raise ValueError(f"{where}: schedule has no schedule ID or name")
    names = [part.strip() for part in (fields.get("sched_name") or "").split(",")] if fields.get("sched_name") else []
    if len(names) > len(schedule_text.split(",")):
        raise ValueError(
            f"{where}: sched_name has {len(names)} comma-separated names for {len(schedules)} schedule(s); "
            "give one name per schedule, in the same order"
        )
    positional = [part.strip() for part in schedule_text.split(",")]
    named = {sid: name for sid, name in zip(positional, names, strict=False) if sid and name}
    channels = _ids(fields.get("slack"), CHANNEL_ID, "slack", "a Slack channel ID such as C0123ABCD", where)
    usergroups = _ids(
        fields.get("slack_groups"), USERGROUP_ID, "slack_groups", "a Slack usergroup ID such as S0123ABCD", where
    )
    if not channels and not usergroups:
        raise ValueError(f"{where}: give slack (channel IDs) or slack_groups (usergroup IDs), or both")
    return OriginalRow(number, schedules, tuple(named.get(s, "") for s in schedules), channels, usergroups)


def parse_original(text: str, now: float) -> OriginalTable:
    """Every row of the table, checked. Raises OriginalFileError listing every bad row."""
    table = OriginalTable([], [])
    problems: list[str] = []
    for number, item in enumerate(_rows_of(text), 1):
        try:
            row = _row(number, item, now, table.notes)
        except ValueError as error:
            problems.append(str(error))
            continue
        if row is not None:
            table.rows.append(row)
    if problems:
        raise OriginalFileError(problems)
    return table


def names_to_look_up(table: OriginalTable) -> list[str]:
    """Schedule names (not IDs) the rows use, each once: the caller asks PagerDuty for their IDs."""
    return list(dict.fromkeys(s for row in table.rows for s in row.schedules if not SCHEDULE_ID.fullmatch(s)))


def to_links(table: OriginalTable, schedule_id: Callable[[int, str], str]) -> list[Link]:
    """The links the rows describe. `schedule_id(row number, name)` gives a named schedule's ID or raises
    ValueError naming the row. Raises OriginalFileError listing every problem."""
    links: dict[str, tuple[int, Link]] = {}
    problems: list[str] = []
    for row in table.rows:
        try:
            ids = [s if SCHEDULE_ID.fullmatch(s) else schedule_id(row.number, s) for s in row.schedules]
        except ValueError as error:
            problems.append(str(error))
            continue
        schedules = tuple(dict.fromkeys(ids))
        names = {sid: name for sid, name in zip(ids, row.names, strict=True) if name}
        link = Link(schedules, names, row.channels, row.usergroups)
        earlier = links.get(link.key)
        if earlier is not None:
            problems.append(
                f"row {row.number}: the schedules {link.key} are also in row {earlier[0]}; merge the two rows"
            )
            continue
        links[link.key] = (row.number, link)
    if problems:
        raise OriginalFileError(problems)
    return [link for _, link in links.values()]
