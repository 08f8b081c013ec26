"""`python app.py oncall export|import FILE`: on-call links as a YAML file, for teams that keep configuration in git.

`import` makes the stored links exactly the file's: it prints the difference, checks every schedule it adds
with PagerDuty (when PAGERDUTY_API_TOKEN is set), then applies everything in one transaction. A running bot
picks the change up at its next sync (or at once with `/oncall sync`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.clients.pagerduty import PagerDutyError, build_rest_client
from bot.oncall.link_file import LinkFileError, diff_links, export_yaml, parse_yaml
from bot.oncall.links import load_links, replace_links
from bot.oncall.reader import save_schedule
from bot.oncall.roster import Roster
from bot.settings import Settings
from bot.store import Store

USAGE_ERROR = 2


class CliError(Exception):
    """One line for stderr; exit status 2."""


def _check_schedules(settings: Settings, store: Store, schedule_ids: list[str]) -> None:
    """Every schedule the file adds must exist in PagerDuty; the names learned are kept for topics."""
    roster = Roster(build_rest_client(settings))
    now = time.time()
    for schedule_id in schedule_ids:
        try:
            info = roster.schedule(schedule_id)
        except (PagerDutyError, OSError) as error:
            raise CliError(f"cannot check schedule {schedule_id} with PagerDuty: {error}") from error
        if info is None:
            raise CliError(f"schedule {schedule_id} not found in PagerDuty; nothing was imported")
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


def import_links(
    settings: Settings, open_store: Callable[[], Store], file: str, out: TextIO, dry_run: bool = False
) -> int:
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {file}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise CliError(f"{file} is not UTF-8 text") from error
    try:
        wanted = parse_yaml(text)
    except LinkFileError as error:
        raise CliError(f"{file}: {error}") from error
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
            _check_schedules(settings, store, new_schedules)
        with store.write() as db:
            replace_links(db, wanted)
        out.write(f"applied {len(changes)} change(s); the bot follows them at its next sync (or `/oncall sync`)\n")
        return 0
    finally:
        store.close()


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
