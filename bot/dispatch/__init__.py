"""Alarm dispatch: MESSAGE-SPEC alarms become DMs, Yes/No confirmations, GitHub audit issues and PagerDuty pages."""

from bot.capability import ButtonAction, CapabilitySpec, SlashCommand
from bot.dispatch import commands, config, schema
from bot.dispatch.service import create
from bot.dispatch.slack_messages import ACTION_IDS

SPEC = CapabilitySpec(
    name="dispatch",
    title="Alarm dispatch",
    needs=("GITHUB_TOKEN", "GITHUB_REPO", "PAGERDUTY_API_TOKEN", "PAGERDUTY_FROM_EMAIL"),
    create=create,
    settings=config.SETTINGS,
    migrations=schema.MIGRATIONS,
    commands=(SlashCommand("/dispatch", commands.answer, changes=("confirm", "broadcast", "page", "json")),),
    actions=(ButtonAction(ACTION_IDS, commands.answer_button),),
)
