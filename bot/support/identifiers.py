"""The support desk's durable names: its jobs, SQLite state keys and outbox kinds.

They are stored (job runs, state rows, queued effects), so renaming one needs a migration in schema.py. Every
module that uses one imports it from here, which keeps the modules that share them free of import cycles.
"""

from __future__ import annotations

TITLE = "Support desk (Zendesk)"

# Jobs
POLL_JOB = "support.poll"
REPORT_JOB = "support.report"

# State keys
CURSOR_KEY = "support.poll.cursor"  # where the next ticket-event export starts (epoch seconds)
NOT_BEFORE_KEY = "support.poll.not_before"  # Zendesk's Retry-After: no export request before this moment
REPORT_DUE_KEY = "support.report.due_at"  # when the next daily report is due
REPORT_COMMAND_KEY = "support.report.command_at.{channel}"  # when `/support report` last posted in the channel

# Outbox kinds
CREATE_TICKET = "support.create_ticket"
FORWARD = "support.forward"
POST = "support.post"
LINK_EMAIL_TICKET = "support.link_email_ticket"
INCIDENT_NOTE = "support.incident_note"  # a thread opened during an incident: note in Slack, tag and note in Zendesk
INCIDENT_RESOLVED = "support.incident_resolved"  # that incident is resolved: told in the thread and the ticket
