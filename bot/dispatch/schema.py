"""This capability's tables (its slice of the migration versions: see bot/migrations.py)."""

from __future__ import annotations

import sqlite_utils

from bot.migrations import rename_identifiers
from bot.store import Migration


def _alerts(db: sqlite_utils.Database) -> None:
    # One row per Dispatch message, keyed by its requestId: a message sent twice is routed once.
    db.execute(
        "CREATE TABLE dispatch_alerts ("
        " id INTEGER PRIMARY KEY,"
        " request_id TEXT NOT NULL UNIQUE,"
        " type TEXT NOT NULL,"
        " requested_type TEXT NOT NULL,"
        " source TEXT NOT NULL,"
        " message TEXT NOT NULL,"  # the validated message (spec.Message as JSON): repo, service, users, texts
        " title TEXT NOT NULL,"
        " repo TEXT,"
        " pd_service TEXT,"
        " state TEXT NOT NULL,"
        " outcome TEXT,"
        " issue_number INTEGER,"
        " issue_url TEXT,"
        " incident_id TEXT,"
        " incident_url TEXT,"
        " answer TEXT,"
        " answered_by TEXT,"
        " answered_at REAL,"
        " prompt_sent_at REAL,"
        " remind_at REAL,"
        " escalate_at REAL,"
        " reminded_at REAL,"
        " created_at REAL NOT NULL,"
        " updated_at REAL NOT NULL)"
    )
    db.execute("CREATE INDEX dispatch_alerts_by_state ON dispatch_alerts (state, escalate_at)")
    # Who an alert goes to, and what happened to each delivery and acknowledgement.
    db.execute(
        "CREATE TABLE dispatch_recipients ("
        " id INTEGER PRIMARY KEY,"
        " alert_id INTEGER NOT NULL REFERENCES dispatch_alerts (id),"
        " position INTEGER NOT NULL,"
        " slack_id TEXT,"
        " slack_handle TEXT,"
        " github TEXT,"
        " destination TEXT NOT NULL,"  # the user's ID, or the default channel for a defaulted user
        " channel TEXT,"  # the conversation the message landed in (a DM's D… id)
        " message_ts TEXT,"
        " prompt_ts TEXT,"
        " state TEXT NOT NULL,"  # pending | sent | failed
        " error TEXT,"
        " acknowledged_by TEXT,"
        " acknowledged_at REAL,"
        " ack_commented INTEGER NOT NULL DEFAULT 0,"
        " UNIQUE (alert_id, position))"
    )
    db.execute("CREATE INDEX dispatch_recipients_by_prompt ON dispatch_recipients (channel, prompt_ts)")
    db.execute(
        "CREATE TABLE dispatch_history (id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, at REAL NOT NULL, "
        "event TEXT NOT NULL, actor TEXT)"
    )
    db.execute("CREATE INDEX dispatch_history_by_alert ON dispatch_history (alert_id, id)")
    # Non-idempotent vendor writes (issue, comment, Slack post) started but not known to have finished: a retry
    # first looks for the result of the earlier attempt instead of writing again.
    db.execute("CREATE TABLE dispatch_attempts (key TEXT PRIMARY KEY, started_at REAL NOT NULL, detail TEXT)")
    # GitHub content creations, to stay under its per-minute and per-hour limits across restarts.
    db.execute("CREATE TABLE dispatch_github_creations (id INTEGER PRIMARY KEY, at REAL NOT NULL)")
    # Messages that could not be routed (dead letters), with every problem found.
    db.execute(
        "CREATE TABLE dispatch_rejects (id INTEGER PRIMARY KEY, received_at REAL NOT NULL, source TEXT NOT NULL, "
        "payload TEXT NOT NULL, errors TEXT NOT NULL)"
    )


def _people_index(db: sqlite_utils.Database) -> None:
    # `/dispatch status` lists only the alerts a person sent from Slack or was sent.
    db.execute("CREATE INDEX dispatch_alerts_by_source ON dispatch_alerts (source, id)")
    db.execute("CREATE INDEX dispatch_recipients_by_person ON dispatch_recipients (slack_id, alert_id)")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(30, "dispatch: alerts, recipients, history, attempts, rejects", _alerts),
    Migration(
        31,
        "dispatch: identifiers dispatch.<name>",
        rename_identifiers(
            jobs={"dispatch-timeouts": "dispatch.timeouts"}, state_prefixes={"dispatch:channel:": "dispatch.channel."}
        ),
    ),
    Migration(32, "dispatch: alerts found by who sent or got them", _people_index),
)
