"""Status page: PagerDuty incidents tagged with a component drive Statuspage incidents."""

from bot.statuspage.service import create

__all__ = ["create"]
