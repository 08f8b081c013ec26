"""On-call topics and usergroups follow PagerDuty; `/oncall` answers who is on call."""

from bot.capability import CapabilitySpec, SlashCommand
from bot.oncall import commands, config, schema
from bot.oncall.service import create

SPEC = CapabilitySpec(
    name="oncall",
    title="On-call topics and usergroups",
    needs=("PAGERDUTY_API_TOKEN",),
    create=create,
    settings=config.SETTINGS,
    migrations=schema.MIGRATIONS,
    commands=(SlashCommand("/oncall", commands.answer, changes=("link", "unlink", "sync", "pause", "resume")),),
    reads_messages=True,  # a person editing a channel topic; "who is on call" asked in a DM with the bot
    reads_mentions=True,  # "@Switchboard who is on call [for <schedule>]" in a channel
)
