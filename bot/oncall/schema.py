"""This capability's tables (its slice of the migration versions, 10-19: see bot/migrations.py)."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


def _links_and_targets(db: sqlite_utils.Database) -> None:
    # A link: ordered PagerDuty schedules (its identity) feeding channels' topics and usergroups' members.
    db.execute(
        "CREATE TABLE oncall_links (id INTEGER PRIMARY KEY, schedules TEXT NOT NULL UNIQUE, "
        "names TEXT NOT NULL DEFAULT '{}', created_by TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE oncall_targets (link_id INTEGER NOT NULL REFERENCES oncall_links(id) ON DELETE CASCADE, "
        "kind TEXT NOT NULL CHECK (kind IN ('channel', 'usergroup')), target_id TEXT NOT NULL, "
        "PRIMARY KEY (link_id, kind, target_id))"
    )
    db.execute("CREATE INDEX oncall_targets_by_target ON oncall_targets (kind, target_id)")
    # What PagerDuty told us about each linked schedule; `in_policy` = reachable through GET /oncalls.
    db.execute(
        "CREATE TABLE oncall_schedules (id TEXT PRIMARY KEY, name TEXT NOT NULL, in_policy INTEGER NOT NULL, "
        "missing INTEGER NOT NULL DEFAULT 0, checked_at REAL NOT NULL)"
    )
    # Who is on call now per schedule (JSON list of people), to notice hand-offs and reuse override checks.
    db.execute(
        "CREATE TABLE oncall_current (schedule_id TEXT PRIMARY KEY, people TEXT NOT NULL, signature TEXT NOT NULL, "
        "updated_at REAL NOT NULL)"
    )
    db.execute("CREATE TABLE oncall_pd_users (id TEXT PRIMARY KEY, name TEXT, email TEXT, updated_at REAL NOT NULL)")


def _slack_targets(db: sqlite_utils.Database) -> None:
    # Per channel: the topic as last seen (events, our writes, conversations.info), what we wrote, what we want.
    db.execute(
        "CREATE TABLE oncall_channels (channel_id TEXT PRIMARY KEY, topic TEXT, "
        "topic_known INTEGER NOT NULL DEFAULT 0, written_topic TEXT, written_prefix TEXT, written_rest TEXT, "
        "written_at REAL, desired_prefix TEXT, "
        "removing INTEGER NOT NULL DEFAULT 0, dirty INTEGER NOT NULL DEFAULT 0, dirty_since REAL, "
        "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL DEFAULT 0, "
        "blocked INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_result TEXT, last_result_at REAL)"
    )
    # Per usergroup: members as last seen, the members we want (JSON lists of Slack ids).
    db.execute(
        "CREATE TABLE oncall_usergroups (usergroup_id TEXT PRIMARY KEY, handle TEXT, members TEXT, "
        "members_known INTEGER NOT NULL DEFAULT 0, desired TEXT, kept INTEGER NOT NULL DEFAULT 0, "
        "dirty INTEGER NOT NULL DEFAULT 0, dirty_since REAL, attempts INTEGER NOT NULL DEFAULT 0, "
        "next_attempt_at REAL NOT NULL DEFAULT 0, blocked INTEGER NOT NULL DEFAULT 0, last_error TEXT, "
        "last_result TEXT, last_result_at REAL)"
    )
    db.execute("CREATE INDEX oncall_channels_due ON oncall_channels (dirty, next_attempt_at)")
    db.execute("CREATE INDEX oncall_usergroups_due ON oncall_usergroups (dirty, next_attempt_at)")


def _pause(db: sqlite_utils.Database) -> None:
    # `/oncall pause`: a paused link keeps its targets, and the writer leaves every target it feeds alone.
    db.execute("ALTER TABLE oncall_links ADD COLUMN paused_at REAL")
    db.execute("ALTER TABLE oncall_links ADD COLUMN paused_by TEXT")


def _handoffs(db: sqlite_utils.Database) -> None:
    # Every hand-off a sync noticed, one row per schedule taken over (person, schedule, shift start), for the digest.
    db.execute(
        "CREATE TABLE oncall_handoffs (user_id TEXT NOT NULL, schedule_id TEXT NOT NULL, at REAL NOT NULL, "
        "person TEXT NOT NULL, schedule_name TEXT NOT NULL, seen_at REAL NOT NULL, "
        "PRIMARY KEY (user_id, schedule_id, at))"
    )
    db.execute("CREATE INDEX oncall_handoffs_by_time ON oncall_handoffs (at)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(10, "oncall: links, targets, schedules, current on-call, PagerDuty users", _links_and_targets),
    Migration(11, "oncall: channel topics and usergroup members", _slack_targets),
    Migration(
        12,
        "oncall: identifiers oncall.<name>",
        rename_identifiers(
            jobs={"oncall-sync": "oncall.sync", "oncall-write": "oncall.write"},
            state={"oncall:last_sync": "oncall.last_sync"},
        ),
    ),
    Migration(13, "oncall: pause a link", _pause),
    Migration(14, "oncall: hand-off history", _handoffs),
)
