"""The on-call notice after a new ticket: primary and secondary of one PagerDuty escalation policy, as Slack text.

Who is on call is read from PagerDuty when the notice is posted (not when it is queued), and kept for a minute so
a burst of new tickets asks PagerDuty once. Whom to name and how is decided in `rules.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bot.clients.pagerduty import build_rest_client
from bot.identity import SlackDirectory
from bot.settings import Settings
from bot.support.rules import oncall_notice, people_on_call
from bot.text import quoted

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


def fetch_oncalls(client: Any, policy_id: str) -> list[dict[str, Any]]:
    """Every current on-call entry of the policy, users included (their emails map them to Slack)."""
    params = {"escalation_policy_ids[]": [policy_id], "include[]": ["users"]}
    return list(client.iter_all("oncalls", params=params))


class OnCallNotice:
    def __init__(self, settings: Settings, directory: SlackDirectory, policy: str | None):
        self.settings = settings
        self.directory = directory
        self.policy = policy
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._cache: tuple[float, str] | None = None

    def text(self) -> str | None:
        """The notice, or None when there is none to post (no policy, or PagerDuty cannot answer: it is logged)."""
        if not self.policy:
            return None
        if self._cache and self._cache[0] > time.monotonic():
            return self._cache[1]
        try:
            with self._client_lock:
                if self._client is None:
                    self._client = build_rest_client(self.settings)
                client = self._client
            oncalls = fetch_oncalls(client, self.policy)
        except Exception as error:
            log.warning("could not read who is on call for %s from PagerDuty: %s", self.policy, quoted(error))
            return None
        directory = self.directory
        text = oncall_notice(
            people_on_call(oncalls), lambda person: directory.mention_or_name(person.email, person.name)
        )
        self._cache = (time.monotonic() + CACHE_SECONDS, text)
        return text
