"""The Jira sync's tables (versions 42, 45 and 46; the poller it reads is in bot/incidents)."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


def _jira(db: sqlite_utils.Database) -> None:
    # One Jira issue per PagerDuty incident. pd_* / jira_* hold the last values seen or written on each side,
    # so a change is propagated once and the bot's own writes are not bounced back.
    db.execute(
        "CREATE TABLE jira_links (id INTEGER PRIMARY KEY, account TEXT NOT NULL, pd_incident_id TEXT NOT NULL, "
        "incident_number INTEGER, title TEXT, html_url TEXT, service_name TEXT, issue_key TEXT UNIQUE, "
        "issue_id TEXT, state TEXT NOT NULL, pd_status TEXT, pd_priority TEXT, jira_priority TEXT, "
        "jira_status TEXT, jira_category TEXT, jira_updated TEXT, created_at REAL NOT NULL, "
        "create_attempted_at REAL, linked_at REAL, changes INTEGER NOT NULL DEFAULT 0, "
        "UNIQUE (account, pd_incident_id))"
    )
    db.execute(
        "CREATE TABLE jira_forwarded_notes (account TEXT NOT NULL, note_id TEXT NOT NULL, link_id INTEGER NOT NULL, "
        "at REAL NOT NULL, PRIMARY KEY (account, note_id))"
    )
    # Problems reported once (a transition missing from the workflow), never retried.
    db.execute(
        "CREATE TABLE jira_problems (kind TEXT NOT NULL, name TEXT NOT NULL, issue_key TEXT NOT NULL, "
        "first_seen_at REAL NOT NULL, PRIMARY KEY (kind, name, issue_key))"
    )


def _timeline_issue(db: sqlite_utils.Database) -> None:
    # The incident process's linked timeline issue (JIRA_TIMELINE=issue), created once per linked incident.
    db.execute("ALTER TABLE jira_links ADD COLUMN timeline_key TEXT")
    db.execute("ALTER TABLE jira_links ADD COLUMN timeline_attempted_at REAL")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(42, "jira_sync: links, forwarded notes, problems", _jira),
    Migration(
        45,
        "jira_sync: identifiers jira_sync.<name>",
        rename_identifiers(
            jobs={"jira_poll": "jira_sync.poll"},
            kinds={
                old: f"jira_sync.{old.removeprefix('jira_')}"
                for old in (
                    "jira_create", "jira_priority", "jira_transition", "jira_comment",
                    "pd_resolve", "pd_priority", "pd_note",
                )
            },
            state={"jira_sync:cursor": "jira_sync.cursor"},
        ),
    ),
    Migration(46, "jira_sync: timeline issue of a link", _timeline_issue),
)
