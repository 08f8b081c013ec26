"""Alarm dispatch: MESSAGE-SPEC alarms become DMs, Yes/No confirmations, GitHub audit issues and PagerDuty pages."""

from bot.dispatch.service import create

__all__ = ["create"]
