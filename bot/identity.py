"""Who is who across vendors: a PagerDuty (or Zendesk) email → the Slack user, cached in SQLite.

`users.lookupByEmail` is Tier 3; a team of fifty on-call people would otherwise cost fifty calls per cycle.
Answers (including "no such user") are cached with an expiry; deactivated Slack users count as not found.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.store import Store
from bot.text import escape, mention

log = logging.getLogger(__name__)

FOUND_TTL_SECONDS = 3600.0
NOT_FOUND_TTL_SECONDS = 900.0


@dataclass(frozen=True)
class SlackIdentity:
    email: str
    user_id: str | None  # None: no active Slack user has this email

    @property
    def found(self) -> bool:
        return self.user_id is not None


class SlackDirectory:
    def __init__(self, store: Store, slack: WebClient):
        self.store = store
        self.slack = slack

    def lookup(self, email: str, now: float | None = None) -> SlackIdentity:
        """The Slack user with this email, from the cache when fresh. Errors other than 'not found' raise."""
        now = time.time() if now is None else now
        key = email.strip().lower()
        row = self.store.query_one("SELECT user_id, expires_at FROM slack_user_cache WHERE email = ?", [key])
        if row is not None and row["expires_at"] > now:
            return SlackIdentity(key, row["user_id"])
        user_id: str | None
        try:
            user = self.slack.users_lookupByEmail(email=key)["user"]
            user_id = None if user.get("deleted") else user["id"]
        except SlackApiError as error:
            if slack_error(error) != "users_not_found":
                raise
            user_id = None
        ttl = FOUND_TTL_SECONDS if user_id else NOT_FOUND_TTL_SECONDS
        self.store.execute(
            "INSERT INTO slack_user_cache (email, user_id, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(email) DO UPDATE SET user_id = excluded.user_id, expires_at = excluded.expires_at",
            [key, user_id, now + ttl],
        )
        return SlackIdentity(key, user_id)

    def mention_or_name(self, email: str | None, name: str) -> str:
        """`<@U…>` for a known person, else their vendor-side name as escaped plain text."""
        if email:
            try:
                identity = self.lookup(email)
            except SlackApiError as error:
                log.warning("Slack lookup for %s failed: %s", email, slack_error(error))
            else:
                if identity.found:
                    return mention(identity.user_id or "")
        return escape(name)
