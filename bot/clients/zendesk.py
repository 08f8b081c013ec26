"""Zendesk through zenpy. zenpy has no base-URL argument: a non-standard ZENDESK_URL (an emulator, a proxy)
is applied through zenpy's own ZENPY_FORCE_* variables, which it reads on every request.

`ZendeskApi` makes the Support API calls the bot needs as single requests on the authenticated session of a
zenpy client. Why not zenpy's object API: an `Idempotency-Key` can only go through zenpy's shared session
headers (a race between threads), zenpy sleeps through a 429 on the caller's thread while a budget that never
refills lasts, and its export generators page on their own. Here every call is one request: a 429 comes back at
once as a `ZendeskError` with its Retry-After for the caller (an outbox effect, the poller) to honour, and the
export is read one page per call.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, ZenpyException

from bot.clients.common import count_responses, profile, requests_verify, retry_after_seconds
from bot.settings import Settings

__all__ = [
    "APIException",
    "RatelimitBudgetExceeded",
    "ZendeskApi",
    "ZendeskError",
    "Zenpy",
    "ZenpyException",
    "build_zendesk",
]

EXPORT_PAGE_SIZE = 1000
USERS_PER_REQUEST = 100  # the most users/show_many.json accepts at once


def build_zendesk(settings: Settings) -> Zenpy:
    base = urlsplit(settings.zendesk_base_url)
    if base.netloc != f"{settings.zendesk_subdomain}.zendesk.com" or base.scheme != "https":
        os.environ["ZENPY_FORCE_SCHEME"] = base.scheme
        os.environ["ZENPY_FORCE_NETLOC"] = base.netloc
    session = requests.Session()
    session.verify = requests_verify(settings)
    count_responses(session, "zendesk")
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


class ZendeskError(Exception):
    """A failed Zendesk call: `status` None means the network failed before an answer."""

    def __init__(self, status: int | None, message: str, retry_after: float | None = None):
        super().__init__(f"Zendesk {status or 'unreachable'}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth retrying: no answer, rate limited, a conflict or a server error."""
        return self.status is None or self.status in (409, 429) or self.status >= 500

    @property
    def ticket_closed(self) -> bool:
        return self.status == 422 and "closed prevents ticket update" in self.message

    @property
    def idempotency_clash(self) -> bool:
        return self.status == 400 and "IdempotentRequestError" in self.message


class ZendeskApi:
    """The Zendesk Support API calls of the bot, one request each; any failure raises `ZendeskError`."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.base = f"{settings.zendesk_base_url}/api/v2"
        self.agent_base = f"{settings.zendesk_base_url}/agent/tickets"
        self.timeout = profile(settings).timeout
        self._local = threading.local()  # one requests.Session per thread
        self._me: int | None = None

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            # The factory's zenpy client owns auth and TLS trust; its session is what we send through.
            session = build_zendesk(self.settings).users.session
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._session.request(
                method, self.base + path, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise ZendeskError(None, f"{type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            retry_after = None
            if response.status_code in (429, 503) or "Retry-After" in response.headers:
                retry_after = retry_after_seconds(
                    response.headers, default=60.0 if response.status_code == 429 else 5.0
                )
            raise ZendeskError(response.status_code, response.text[:300], retry_after)
        return response.json() if response.content else {}

    # --- calls -----------------------------------------------------------------------------------
    def me_id(self) -> int:
        """The agent the bot acts as (asked once)."""
        if self._me is None:
            self._me = int(self.request("GET", "/users/me.json")["user"]["id"])
        return self._me

    def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST once per key: a retry with the same key and body returns the first ticket (Zendesk keeps keys 2 h)."""
        answer = self.request(
            "POST", "/tickets.json", json={"ticket": ticket}, headers={"Idempotency-Key": idempotency_key}
        )
        return answer["ticket"]

    def tickets_with_external_id(self, external_id: str) -> list[dict[str, Any]]:
        return list(self.request("GET", "/tickets.json", params={"external_id": external_id}).get("tickets", []))

    def update_ticket(self, ticket_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/tickets/{ticket_id}.json", json={"ticket": fields})["ticket"]

    def ticket_events(self, start_time: int) -> dict[str, Any]:
        """One page of the incremental ticket-event export, comment bodies included."""
        params = {"start_time": start_time, "include": "comment_events", "per_page": EXPORT_PAGE_SIZE}
        return self.request("GET", "/incremental/ticket_events.json", params=params)

    def user_names(self, user_ids: list[int]) -> dict[int, str]:
        names: dict[int, str] = {}
        for start in range(0, len(user_ids), USERS_PER_REQUEST):
            chunk = user_ids[start : start + USERS_PER_REQUEST]
            answer = self.request("GET", "/users/show_many.json", params={"ids": ",".join(map(str, chunk))})
            names.update({int(u["id"]): str(u.get("name") or u.get("email") or u["id"]) for u in answer["users"]})
        return names

    def ticket_url(self, ticket_id: int) -> str:
        """The ticket in the agent interface (what the Slack thread links to)."""
        return f"{self.agent_base}/{ticket_id}"
