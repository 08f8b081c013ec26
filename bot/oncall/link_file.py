"""On-call links as a YAML file, for teams that keep configuration in git: export, parse (strictly, with one-line
errors) and describe the difference between two sets of links.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.oncall.links import Link
from bot.oncall.sources import SOURCE_ID

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


class LinkFileError(ValueError):
    """A link file is malformed; the message says where and what is expected, in one line."""


FILE_HEADER = (
    "# Switchboard on-call links. `python app.py oncall import FILE` makes the bot's links exactly these.\n"
    "# schedules: PagerDuty schedule IDs, in topic order; names: optional display names by schedule ID;\n"
    "# channels: Slack channel IDs whose topic shows who is on call; usergroups: Slack usergroup IDs (S…).\n"
)


def export_yaml(links: list[Link]) -> str:
    entries: list[dict[str, Any]] = []
    for link in links:
        entry: dict[str, Any] = {"schedules": list(link.schedules)}
        if link.names:
            entry["names"] = dict(link.names)
        if link.channels:
            entry["channels"] = list(link.channels)
        if link.usergroups:
            entry["usergroups"] = list(link.usergroups)
        entries.append(entry)
    return FILE_HEADER + yaml.safe_dump({"links": entries}, sort_keys=False, allow_unicode=True)


def _id_list(value: Any, pattern: re.Pattern[str], where: str, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise LinkFileError(f"{where}: expected a list of {what}")
    result: list[str] = []
    for item in items:
        text = str(item).strip()
        if not pattern.fullmatch(text):
            raise LinkFileError(f"{where}: {text!r} is not {what}")
        if text not in result:
            result.append(text)
    return tuple(result)


def parse_yaml(text: str) -> list[Link]:
    """The links a file describes. Raises LinkFileError with a one-line reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LinkFileError(f"not valid YAML{where}: {getattr(error, 'problem', None) or error}") from error
    if data is None:
        data = {"links": []}
    if not isinstance(data, dict) or set(data) - {"links"}:
        raise LinkFileError("expected a mapping with one key, `links:` (a list)")
    entries = data.get("links")
    entries = [] if entries is None else entries
    if not isinstance(entries, list):
        raise LinkFileError("`links` must be a list")
    links: dict[str, Link] = {}
    for number, entry in enumerate(entries, 1):
        where = f"link {number}"
        if not isinstance(entry, dict):
            raise LinkFileError(f"{where}: expected a mapping with schedules, channels, usergroups, names")
        unknown = set(entry) - {"schedules", "names", "channels", "usergroups"}
        if unknown:
            raise LinkFileError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        schedules = _id_list(entry.get("schedules") or [], SOURCE_ID, where, "a PagerDuty schedule ID such as PABC123")
        if not schedules:
            raise LinkFileError(f"{where}: `schedules` is required")
        channels = _id_list(entry.get("channels") or [], CHANNEL_ID, where, "a Slack channel ID such as C0123ABCD")
        usergroups = _id_list(
            entry.get("usergroups") or [], USERGROUP_ID, where, "a Slack usergroup ID such as S0123ABCD"
        )
        if not channels and not usergroups:
            raise LinkFileError(f"{where}: give at least one of `channels` or `usergroups`")
        names = entry.get("names") or {}
        if not isinstance(names, dict) or not all(isinstance(v, str) and v.strip() for v in names.values()):
            raise LinkFileError(f"{where}: `names` must map schedule IDs to non-empty display names")
        stray = [str(k) for k in names if str(k) not in schedules]
        if stray:
            raise LinkFileError(f"{where}: `names` has {stray[0]!r}, which is not one of its schedules")
        link = Link(schedules, {str(k): v.strip() for k, v in names.items()}, channels, usergroups)
        if link.key in links:
            raise LinkFileError(f"{where}: the schedules {link.key} are listed twice; merge the two entries")
        links[link.key] = link
    return list(links.values())


def diff_links(current: list[Link], wanted: list[Link]) -> list[str]:
    """Readable changes from `current` to `wanted` (empty when they are the same)."""
    before = {link.key: link for link in current}
    after = {link.key: link for link in wanted}
    lines: list[str] = []

    def describe(link: Link) -> str:
        parts = [f"channels {', '.join(link.channels)}" if link.channels else "", ""]
        parts[1] = f"usergroups {', '.join(link.usergroups)}" if link.usergroups else ""
        named = f" (names: {', '.join(f'{k}={v}' for k, v in link.names.items())})" if link.names else ""
        return f"{link.key} → {'; '.join(p for p in parts if p)}{named}"

    for key, link in after.items():
        old = before.get(key)
        if old is None:
            lines.append(f"+ link {describe(link)}")
            continue
        changes = [f"+ channel {c}" for c in link.channels if c not in old.channels]
        changes += [f"- channel {c}" for c in old.channels if c not in link.channels]
        changes += [f"+ usergroup {u}" for u in link.usergroups if u not in old.usergroups]
        changes += [f"- usergroup {u}" for u in old.usergroups if u not in link.usergroups]
        if link.names != old.names:
            changes.append(f"names {old.names or '{}'} → {link.names or '{}'}")
        if changes:
            lines.append(f"~ link {key}: {', '.join(changes)}")
    lines += [f"- link {describe(link)}" for key, link in before.items() if key not in after]
    return lines
