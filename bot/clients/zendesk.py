"""Zendesk through zenpy. zenpy has no base-URL argument: a non-standard ZENDESK_URL (an emulator, a proxy)
is applied through zenpy's own ZENPY_FORCE_* variables, which it reads on every request."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from bot.clients.common import profile, requests_verify
from bot.settings import Settings

__all__ = ["APIException", "RatelimitBudgetExceeded", "Zenpy", "ZenpyException", "build_zendesk"]


def build_zendesk(settings: Settings) -> Zenpy:
    base = urlsplit(settings.zendesk_base_url)
    if base.netloc != f"{settings.zendesk_subdomain}.zendesk.com" or base.scheme != "https":
        os.environ["ZENPY_FORCE_SCHEME"] = base.scheme
        os.environ["ZENPY_FORCE_NETLOC"] = base.netloc
    session = requests.Session()
    session.verify = requests_verify(settings)
    retry_profile = profile(settings)
    return Zenpy(
        subdomain=settings.zendesk_subdomain,
        email=settings.zendesk_email,
        token=settings.zendesk_api_token,
        session=session,
        timeout=retry_profile.timeout,
        # zenpy's budget is spent cumulatively and never refills; at 1 it never sleeps on a 429 and raises at once,
        # so the wait happens in the outbox (durable, per effect) instead of blocking a thread.
        ratelimit_budget=1,
        disable_cache=True,  # its 30 s ticket cache would hide status changes from the poller
    )
