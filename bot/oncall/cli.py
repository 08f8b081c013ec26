"""`python app.py oncall export|import FILE`: on-call links as a YAML file, for teams that keep configuration in git.
`python app.py import pd-oncall-chat-topic FILE`: the same import from the original tool's configuration table
(see import_original.py).

`import` makes the stored links exactly the file's: it prints the difference, checks every schedule it adds
with PagerDuty (when PAGERDUTY_API_TOKEN is set), then applies everything in one transaction. A running bot
picks the change up at its next sync (or at once with `/oncall sync`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from bot.clients.pagerduty import PagerDutyError, build_rest_client
from bot.oncall.import_original import SOURCE, OriginalFileError, names_to_look_up, parse_original, to_links
from bot.oncall.link_file import LinkFileError, diff_links, export_yaml, parse_yaml
from bot.oncall.links import Link, load_links, replace_links
from bot.oncall.reader import save_schedule
from bot.oncall.roster import Roster, ScheduleInfo
from bot.settings import Settings
from bot.store import Store

USAGE_ERROR = 2


class CliError(Exception):
    """One line for stderr; exit status 2."""


class ImportProblems(CliError):
    """Every bad row of a file, one line each; nothing was imported."""

    def __init__(self, file: str, problems: list[str]):
        super().__init__(f"{file}: {problems[0]}")
        self.file = file
        self.problems = problems


def _check_schedules(
    settings: Settings, store: Store, schedule_ids: list[str], origin: Mapping[str, str] | None = None
) -> None:
    """Every schedule the file adds must exist in PagerDuty; the names learned are kept for topics.
    `origin` names where the file gives a schedule ("row 3"), for the error."""
    roster = Roster(build_rest_client(settings))
    now = time.time()
    for schedule_id in schedule_ids:
        try:
            info = roster.describe(schedule_id)
        except (PagerDutyError, OSError) as error:
            raise CliError(f"cannot check schedule {schedule_id} with PagerDuty: {error}") from error
        if info is None:
            where = f"{origin[schedule_id]}: " if origin and schedule_id in origin else ""
            raise CliError(f"{where}schedule {schedule_id} not found in PagerDuty; nothing was imported")
        save_schedule(store, info, schedule_id, now)


def export_links(open_store: Callable[[], Store], file: str, out: TextIO) -> int:
    store = open_store()
    try:
        links = load_links(store)
        text = export_yaml(links)
    finally:
        store.close()
    if file == "-":
        out.write(text)
    else:
        try:
            Path(file).write_text(text, encoding="utf-8")
        except OSError as error:
            raise CliError(f"cannot write {file}: {error.strerror or error}") from error
        out.write(f"exported {len(links)} link(s) to {file}\n")
    return 0


def _read(file: str) -> str:
    try:
        return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise CliError(f"{file} is not UTF-8 text") from error


def import_links(
    settings: Settings, open_store: Callable[[], Store], file: str, out: TextIO, dry_run: bool = False
) -> int:
    text = _read(file)
    try:
        wanted = parse_yaml(text)
    except LinkFileError as error:
        raise CliError(f"{file}: {error}") from error
    return apply_links(settings, open_store, wanted, out, dry_run)


def apply_links(
    settings: Settings,
    open_store: Callable[[], Store],
    wanted: list[Link],
    out: TextIO,
    dry_run: bool,
    origin: Mapping[str, str] | None = None,
) -> int:
    """Print the difference from the stored links to `wanted`, then (unless `dry_run`) make them exactly `wanted`
    in one transaction, after checking with PagerDuty every schedule it adds."""
    store = open_store()
    try:
        current = load_links(store)
        changes = diff_links(current, wanted)
        if not changes:
            out.write("no changes\n")
            return 0
        out.writelines(f"{line}\n" for line in changes)
        if dry_run:
            out.write(f"dry run: {len(changes)} change(s) not applied\n")
            return 0
        known = {r["id"] for r in store.query("SELECT id FROM oncall_schedules WHERE missing = 0")}
        new_schedules = list(dict.fromkeys(s for link in wanted for s in link.schedules if s not in known))
        if new_schedules and settings.has("PAGERDUTY_API_TOKEN"):
            _check_schedules(settings, store, new_schedules, origin)
        with store.write() as db:
            replace_links(db, wanted)
        out.write(f"applied {len(changes)} change(s); the bot follows them at its next sync (or `/oncall sync`)\n")
        return 0
    finally:
        store.close()


def _schedule_finder(settings: Settings) -> Callable[[int, str], str]:
    """`(row, name) -> schedule ID` by PagerDuty's search: an exact (case-insensitive) name wins, else the only
    match; anything else is a ValueError naming the row. Each name is asked once."""
    roster = Roster(build_rest_client(settings)) if settings.has("PAGERDUTY_API_TOKEN") else None
    found: dict[str, list[ScheduleInfo]] = {}

    def schedule_id(row: int, name: str) -> str:
        if roster is None:
            raise ValueError(
                f"row {row}: schedule {name!r} is a name, not an ID: set PAGERDUTY_API_TOKEN to look it up, "
                "or give its ID (P…)"
            )
        if name not in found:
            try:
                found[name] = roster.find(name)
            except (PagerDutyError, OSError) as error:
                raise CliError(f"cannot look up schedule {name!r} in PagerDuty: {error}") from error
        matches = found[name]
        exact = [s for s in matches if s.name.lower() == name.lower()]
        if len(exact) == 1 or len(matches) == 1:
            return (exact or matches)[0].id
        if not matches:
            raise ValueError(f"row {row}: schedule {name!r} not found in PagerDuty")
        choices = ", ".join(f"{s.name} ({s.id})" for s in exact or matches)
        raise ValueError(f"row {row}: schedule {name!r} matches several schedules: {choices}; give its ID")

    return schedule_id


def import_original(
    settings: Settings, open_store: Callable[[], Store], file: str, out: TextIO, dry_run: bool = False
) -> int:
    """Import pd-oncall-chat-topic's table: notes (rows skipped, fields ignored), then the difference, then apply."""
    text = _read(file)
    try:
        table = parse_original(text, time.time())
        finder = _schedule_finder(settings) if names_to_look_up(table) else lambda row, name: name
        wanted = to_links(table, finder)
    except OriginalFileError as error:
        raise ImportProblems(file, error.problems) from error
    out.writelines(f"note: {note}\n" for note in table.notes)
    origin: dict[str, str] = {}  # where each schedule comes from, for PagerDuty's "not found"
    for row, link in zip(table.rows, wanted, strict=True):  # to_links makes one link per row, in order
        for schedule_id in link.schedules:
            origin.setdefault(schedule_id, f"row {row.number}")
    return apply_links(settings, open_store, wanted, out, dry_run, origin)


def run_import_original(
    settings: Settings, open_store: Callable[[], Store], file: str, dry_run: bool = False, out: TextIO = sys.stdout
) -> int:
    """`app.py import pd-oncall-chat-topic FILE [--dry-run]`; `open_store` opens the database with every migration
    applied. Exit 0 when imported (or nothing to change), 2 with one line per problem on stderr otherwise."""
    prefix = f"switchboard import {SOURCE}"
    try:
        return import_original(settings, open_store, file, out, dry_run=dry_run)
    except ImportProblems as error:
        for problem in error.problems:
            print(f"{prefix}: {error.file}: {problem}", file=sys.stderr)
        print(f"{prefix}: nothing was imported", file=sys.stderr)
        return USAGE_ERROR
    except CliError as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return USAGE_ERROR


def run_cli(
    settings: Settings,
    open_store: Callable[[], Store],
    action: str,
    file: str,
    dry_run: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """`app.py oncall export|import FILE`; `open_store` opens the database with every migration applied."""
    try:
        if action == "export":
            return export_links(open_store, file, out)
        return import_links(settings, open_store, file, out, dry_run=dry_run)
    except CliError as error:
        print(f"switchboard oncall {action}: {error}", file=sys.stderr)
        return USAGE_ERROR
