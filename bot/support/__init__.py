"""Support desk: the support channels and Zendesk stay in step, both ways."""

from bot.capability import CapabilitySpec, SlashCommand
from bot.support import commands, config, schema
from bot.support.service import create

SPEC = CapabilitySpec(
    name="support",
    title="Support desk (Zendesk)",
    needs=("ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SUPPORT_CHANNELS"),
    create=create,
    settings=config.SETTINGS,
    migrations=schema.MIGRATIONS,
    commands=(SlashCommand("/support", commands.answer, changes=("report", "forget")),),
    reads_messages=True,  # support questions and thread replies
)
