"""Slack authors: real name and email from `users.info`, cached for a while (every reply needs the name)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from bot.clients.slack import SlackApiError, WebClient, slack_error

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0


@dataclass(frozen=True)
class SlackPerson:
    user_id: str
    name: str
    email: str | None


class SlackPeople:
    def __init__(self, slack: WebClient):
        self.slack = slack
        self._cache: dict[str, tuple[float, SlackPerson]] = {}
        self._lock = threading.Lock()
        self._workspace_url: str | None = None

    def person(self, user_id: str) -> SlackPerson:
        """Raises SlackApiError when Slack cannot answer (rate limit, outage) so callers can retry."""
        with self._lock:
            cached = self._cache.get(user_id)
        if cached and cached[0] > time.time():
            return cached[1]
        try:
            user = self.slack.users_info(user=user_id)["user"]
        except SlackApiError as error:
            if slack_error(error) != "user_not_found":
                raise
            person = SlackPerson(user_id, user_id, None)
        else:
            profile = user.get("profile") or {}
            name = user.get("real_name") or profile.get("real_name") or user.get("name") or user_id
            person = SlackPerson(user_id, str(name), profile.get("email") or None)
            if person.email is None:
                log.warning("Slack gives no email for %s: is the users:read.email scope granted?", user_id)
        with self._lock:
            self._cache[user_id] = (time.time() + CACHE_SECONDS, person)
        return person

    def name(self, user_id: str) -> str:
        return self.person(user_id).name

    def workspace_url(self) -> str:
        """`https://<workspace>.slack.com/` from auth.test, asked once: message permalinks are built from it."""
        if self._workspace_url is None:
            self._workspace_url = str(self.slack.auth_test()["url"])
        return self._workspace_url
