"""One doctor for the whole bot: every capability's configuration problems, each with its fix.

`/switchboard doctor` (admins) and `python app.py doctor` ask every running capability
(`CapabilityService.doctor()`) and add the foundation's own checks: that the bot is in the channels it is told to
post to.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.capability import CapabilityService, CapabilityState, Finding
from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.text import escape

log = logging.getLogger(__name__)


def channel_problems(slack: WebClient, capability: str, channels: Sequence[str], why: str) -> list[Finding]:
    """A finding for each channel the bot cannot post to (not a member, archived, or not found)."""
    findings = []
    for channel in channels:
        try:
            info = slack.conversations_info(channel=channel)["channel"]
        except SlackApiError as error:
            findings.append(
                Finding(capability, f"<#{channel}> ({why}) cannot be read: `{slack_error(error)}`", "check the ID")
            )
            continue
        if info.get("is_archived"):
            findings.append(Finding(capability, f"<#{channel}> ({why}) is archived", "unarchive it or pick another"))
        elif not info.get("is_member") and not info.get("is_im"):
            fix = f"`/invite @Switchboard` in <#{channel}>"
            findings.append(Finding(capability, f"the bot is not in <#{channel}> ({why})", fix))
    return findings


def examine(
    capabilities: list[CapabilityState],
    services: Mapping[str, CapabilityService],
    slack: WebClient,
    core_channels: Mapping[str, Sequence[str]],
) -> list[Finding]:
    findings: list[Finding] = []
    for why, channels in core_channels.items():
        findings += channel_problems(slack, "Switchboard", channels, why)
    for capability in capabilities:
        service = services.get(capability.name)
        if service is None:
            continue
        try:
            findings += service.doctor()
        except Exception as error:  # a vendor down is a finding too
            log.exception("%s's doctor failed", capability.name)
            findings.append(
                Finding(capability.title, f"could not be examined: `{escape(str(error)[:200])}`", "try again later")
            )
    return findings


def report(findings: list[Finding]) -> str:
    if not findings:
        return ":white_check_mark: Doctor: no problem found."
    lines = [f":stethoscope: Doctor: {len(findings)} problem(s) found"]
    lines += [f"• *{escape(f.capability)}*: {f.problem} — fix: {f.fix}" for f in findings]
    return "\n".join(lines)
