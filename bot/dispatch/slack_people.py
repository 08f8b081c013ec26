"""Who a `/dispatch` command names: usergroup members, and plain `@name` handles resolved to a member or usergroup.

Slack escapes the mentions it recognises in the command's text (`<@U…|name>`, `<!subteam^S…|@handle>`, since the
manifest sets `should_escape: true`); a plain `@name` is looked up among the members' handles and display names
(users.list) and the usergroups' handles (usergroups.list). Each list is read from Slack at most every few minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from bot.clients.slack import SlackApiError, WebClient, slack_error
from bot.text import quoted

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
USERS_PAGE = 200

USER, GROUP = "user", "group"


class SlackPeople:
    def __init__(self, slack: WebClient, clock: Callable[[], float] = time.monotonic):
        self.slack = slack
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._handles: tuple[float, dict[str, tuple[str, str]]] | None = None
        self._workspace_url: str | None = None

    def workspace_url(self) -> str | None:
        """`https://<workspace>.slack.com/` from auth.test, asked once (message permalinks are built from it); None
        when Slack cannot tell now."""
        if self._workspace_url is None:
            try:
                self._workspace_url = str(self.slack.auth_test().get("url") or "") or None
            except SlackApiError as error:
                log.warning("dispatch: could not read the workspace URL: %s", slack_error(error))
        return self._workspace_url

    def group_members(self, group_id: str) -> frozenset[str]:
        """A usergroup's members (empty when Slack cannot tell)."""
        cached = self._members.get(group_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        try:
            users = frozenset(self.slack.usergroups_users_list(usergroup=group_id).get("users") or [])
        except SlackApiError as error:
            log.warning("dispatch: could not read usergroup %s: %s", quoted(group_id), slack_error(error))
            return frozenset()
        self._members[group_id] = (self.clock() + CACHE_SECONDS, users)
        return users

    def resolve(self, handle: str) -> tuple[str, str] | None:
        """(USER or GROUP, ID) for a typed `@handle` (without the @), or None when nobody has it."""
        if self._handles is None or self._handles[0] <= self.clock():
            try:
                self._handles = (self.clock() + CACHE_SECONDS, self._read_handles())
            except SlackApiError as error:
                log.warning("dispatch: could not list Slack members and usergroups: %s", slack_error(error))
                return None
        return self._handles[1].get(handle.lower())

    def _read_handles(self) -> dict[str, tuple[str, str]]:
        """Lower-cased handle -> (kind, ID). Where a name is taken twice, a member's handle beats a usergroup's,
        which beats a display name (Slack keeps only handles unique)."""
        display_names: dict[str, tuple[str, str]] = {}
        groups: dict[str, tuple[str, str]] = {}
        handles: dict[str, tuple[str, str]] = {}
        for group in self.slack.usergroups_list().get("usergroups") or []:
            if group.get("handle") and not group.get("date_delete"):
                groups[str(group["handle"]).lower()] = (GROUP, str(group["id"]))
        for member in self._members_list():
            if member.get("deleted") or member.get("is_bot"):
                continue
            display_name = (member.get("profile") or {}).get("display_name")
            if display_name:
                display_names[str(display_name).lower()] = (USER, str(member["id"]))
            if member.get("name"):
                handles[str(member["name"]).lower()] = (USER, str(member["id"]))
        return {**display_names, **groups, **handles}

    def _members_list(self) -> list[dict[str, Any]]:
        members: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.slack.users_list(limit=USERS_PAGE, cursor=cursor)  # slack_sdk leaves out a None cursor
            members += page.get("members") or []
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members
