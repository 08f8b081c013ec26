"""Support desk: the support channels and Zendesk stay in step, both ways."""

from bot.capability import CapabilitySpec, SlashCommand
from bot.incidents import schema as incidents_schema
from bot.support import commands, config, schema
from bot.support.identifiers import TITLE
from bot.support.service import create

SPEC = CapabilitySpec(
    name="support",
    title=TITLE,
    needs=("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SUPPORT_CHANNELS"),
    create=create,
    settings=config.SETTINGS,
    migrations=incidents_schema.MIGRATIONS + schema.MIGRATIONS,  # reads the incident poller's snapshot
    commands=(SlashCommand("/support", commands.answer, changes=("report", "forget", "map", "unmap")),),
    reads_messages=True,  # support questions and thread replies
)
