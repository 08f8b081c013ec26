"""Jira sync: P1 PagerDuty incidents become Jira issues; status and priority flow both ways."""

from bot.jira_sync.service import create

__all__ = ["create"]
