"""Status page: PagerDuty incidents tagged with a component drive Statuspage incidents."""

from bot.capability import CapabilitySpec, SlashCommand
from bot.incidents import config as incidents_config
from bot.incidents import schema as incidents_schema
from bot.statuspage import commands, config, schema
from bot.statuspage.service import create

SPEC = CapabilitySpec(
    name="statuspage",
    title="Status page",
    needs=("PAGERDUTY_API_TOKEN", "STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID"),
    create=create,
    settings=incidents_config.SETTINGS + config.SETTINGS,  # the poller's are listed by the Jira sync too
    migrations=incidents_schema.MIGRATIONS + schema.MIGRATIONS,
    commands=(SlashCommand("/statuspage", commands.answer, changes=("map", "unmap")),),
)
