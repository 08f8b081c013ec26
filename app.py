"""Switchboard: one Slack bot for on-call topics, alarm dispatch, a Zendesk support desk, Statuspage and Jira sync.

python app.py              run against Slack (tokens from the environment or .env)
python app.py sandbox      run against the built-in emulated workspace and vendors (no accounts needed)
python app.py check        verify each configured integration with one cheap call
python app.py backup FILE  a consistent copy of the database, made while the bot runs
python app.py import pd-oncall-chat-topic FILE [--dry-run]   on-call links from the original's DynamoDB table
python app.py shadow report [--since 24h]   what shadow mode would have written, by capability
python app.py doctor       configuration problems of every integration, each with its fix
python app.py health       exit 0 when the running bot is connected and its jobs are on time (no vendor call)
python app.py oncall export|import FILE   on-call links as YAML (import shows the diff, applies it atomically)
python app.py dispatch F   send a Dispatch alarm (MESSAGE-SPEC JSON file, - for stdin) to the running bot
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import threading
import time
from importlib.util import find_spec
from pathlib import Path

from bot.logs import configure_logging
from bot.settings import SettingsError, load_settings


def run(args: argparse.Namespace) -> int:
    from bot.runner import Bot, stop_on_signals, wait_until_stopped
    from bot.runtime import StartupError
    from bot.wiring import build

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_format == "json")
    missing = settings.missing_slack_tokens()
    if missing:
        # The production image has no sandbox: only point at it where it exists.
        hint = "; to try Switchboard without a Slack app run: python app.py sandbox" if find_spec("sandbox") else ""
        print(f"switchboard: {' and '.join(missing)} not set (environment or .env){hint}", file=sys.stderr)
        return 1
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        bot = Bot(build(settings))
        bot.start()
    except StartupError as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return 1
    try:
        wait_until_stopped(stop)
    finally:
        bot.stop()
    return 0


def sandbox(args: argparse.Namespace) -> int:
    from sandbox.run import run_sandbox

    return run_sandbox(interactive=args.interactive, tour_enabled=not args.no_tour)


def check(args: argparse.Namespace) -> int:
    from bot.check import format_table, run_checks

    settings = load_settings()
    configure_logging("ERROR")
    results = run_checks(settings)
    print(format_table(results))
    return 0 if results and all(r.ok for r in results) else 1


def dispatch(args: argparse.Namespace) -> int:
    """Hand one Dispatch message to the running bot through SQLite (see bot/dispatch/cli.py)."""
    from bot.dispatch.cli import run_cli
    from bot.wiring import open_store, spec

    settings = load_settings()
    configure_logging("WARNING")
    return run_cli(args.file, settings, lambda: open_store(settings), spec("dispatch").missing(settings))


def oncall(args: argparse.Namespace) -> int:
    from bot.oncall.cli import run_cli
    from bot.wiring import open_store

    settings = load_settings()
    return run_cli(settings, lambda: open_store(settings), args.action, args.file, dry_run=args.dry_run)


def health(args: argparse.Namespace) -> int:
    """Exit 0 when the bot using this DATABASE_PATH is connected and on time; else 1 with one line why."""
    from bot.health import check_file

    ok, why = check_file(load_settings().database_file)
    print(f"switchboard health: {why}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def backup(args: argparse.Namespace) -> int:
    """Copy the database, consistently, even while the bot runs."""
    from bot.wiring import open_store

    store = open_store(load_settings())
    try:
        size = store.backup(Path(args.file))
    except (OSError, sqlite3.Error) as error:
        print(f"switchboard backup: cannot write {args.file}: {error}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"backed up to {args.file} ({size:,} bytes)")
    return 0


def shadow(args: argparse.Namespace) -> int:
    """What shadow mode would have written, grouped by capability."""
    from bot.shadow import Shadow, report
    from bot.wiring import open_store

    match = re.fullmatch(r"(\d+)([mhd])", args.since)
    if not match:
        print(
            f"switchboard shadow report: --since takes a duration such as 30m, 24h or 7d, got {args.since!r}",
            file=sys.stderr,
        )
        return 2
    seconds = int(match.group(1)) * {"m": 60, "h": 3600, "d": 86400}[match.group(2)]
    store = open_store(load_settings())
    try:
        records = Shadow(store, False, (), ()).records(since=time.time() - seconds)
    finally:
        store.close()
    print(report(records, f"in the last {args.since}"))
    return 0


def import_config(args: argparse.Namespace) -> int:
    """Another tool's configuration, shown as a diff and applied in one transaction."""
    from bot.oncall.cli import run_import_original
    from bot.wiring import open_store

    settings = load_settings()
    return run_import_original(settings, lambda: open_store(settings), args.file, args.dry_run, sys.stdout)


def doctor(args: argparse.Namespace) -> int:
    """Every integration's configuration problems, each with its fix (exit 1 when there is any)."""
    from bot.doctor import report
    from bot.runtime import StartupError
    from bot.wiring import build

    settings = load_settings()
    configure_logging("ERROR")
    try:
        runtime = build(settings)
    except StartupError as error:
        print(f"switchboard doctor: {error}", file=sys.stderr)
        return 1
    try:
        findings = runtime.doctor()
    finally:
        runtime.close()
    print(report(findings))
    return 1 if findings else 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="app.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    main.set_defaults(func=run)
    commands = main.add_subparsers(title="commands", metavar="")
    commands.add_parser("run", help="run against Slack (the default)").set_defaults(func=run)
    box = commands.add_parser("sandbox", help="run against the built-in emulated workspace and vendors")
    box.add_argument("--interactive", action="store_true", help="type messages and slash commands as a user")
    box.add_argument("--no-tour", action="store_true", help="skip the scripted tour")
    box.set_defaults(func=sandbox)
    commands.add_parser("check", help="verify each configured integration").set_defaults(func=check)
    importer = commands.add_parser("import", help="import another tool's configuration")
    importer.add_argument("source", choices=("pd-oncall-chat-topic",))
    importer.add_argument(
        "file", metavar="FILE", help="`aws dynamodb scan` JSON of its table, or a JSON list of rows (- for stdin)"
    )
    importer.add_argument("--dry-run", action="store_true", help="show the changes without applying them")
    importer.set_defaults(func=import_config)
    shadowing = commands.add_parser("shadow", help="what shadow mode would have written")
    shadowing.add_argument("action", choices=("report",))
    shadowing.add_argument("--since", default="24h", help="how far back, such as 30m, 24h or 7d (default 24h)")
    shadowing.set_defaults(func=shadow)
    commands.add_parser("doctor", help="configuration problems of every integration, each with its fix").set_defaults(
        func=doctor
    )
    copy = commands.add_parser("backup", help="copy the database consistently, even while the bot runs")
    copy.add_argument("file", metavar="FILE", help="where to write the copy (restore: stop the bot, copy it back)")
    copy.set_defaults(func=backup)
    commands.add_parser("health", help="is the running bot connected and on time? (exit 0 or 1)").set_defaults(
        func=health
    )
    links = commands.add_parser("oncall", help="export or import on-call links as a YAML file")
    links.add_argument("action", choices=("export", "import"))
    links.add_argument("file", help="the YAML file (- for stdout/stdin)")
    links.add_argument("--dry-run", action="store_true", help="import: show the changes without applying them")
    links.set_defaults(func=oncall)
    alarm = commands.add_parser("dispatch", help="send a Dispatch alarm message (JSON) to the running bot")
    alarm.add_argument("file", metavar="FILE", help="MESSAGE-SPEC JSON file, or - for standard input")
    alarm.set_defaults(func=dispatch)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as error:
        print(f"switchboard: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
