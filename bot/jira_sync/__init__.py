"""Jira sync: P1 PagerDuty incidents become Jira issues; status and priority flow both ways."""

from bot.capability import CapabilitySpec
from bot.incidents import config as incidents_config
from bot.incidents import schema as incidents_schema
from bot.jira_sync import config, schema
from bot.jira_sync.service import create

SPEC = CapabilitySpec(
    name="jira_sync",
    title="Jira sync",
    needs=("PAGERDUTY_API_TOKEN", "PAGERDUTY_FROM_EMAIL", "JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT"),
    create=create,
    settings=incidents_config.SETTINGS + config.SETTINGS,  # the poller's are listed by the status page too
    migrations=incidents_schema.MIGRATIONS + schema.MIGRATIONS,
)
