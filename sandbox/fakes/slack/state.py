"""The workspace's state: users, conversations (DMs included), messages, usergroups, App Home views, ephemerals.

The records are plain dicts in the fake's own shape; `render.py` turns them into Slack's objects. Callers hold the
fake's lock. Nothing here tells anybody about a change: announcing it is `changes.py`'s job.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.identity import APP_ID, BOT_ID, BOT_REAL_NAME, BOT_USER_ID, random_id


def reply_thread_ts(message: Json) -> str | None:
    """The parent's ts if `message` is a thread reply (a parent carries its own ts as thread_ts)."""
    thread_ts = message.get("thread_ts")
    return thread_ts if thread_ts and thread_ts != message["ts"] else None


class Workspace:
    """Everything the fake workspace holds, keyed by Slack ids."""

    def __init__(self, team_id: str, team_name: str) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.domain = re.sub(r"[^a-z0-9-]", "", team_name.lower()) or "sandbox"
        self.users: dict[str, Json] = {}
        self.channels: dict[str, Json] = {}
        self.messages: dict[str, list[Json]] = {}
        self.dm_by_user: dict[str, str] = {}
        self.usergroups: dict[str, Json] = {}
        self.locked_usergroups: set[str] = set()  # usergroups.users.update answers permission_denied
        self.home_views: dict[str, Json] = {}
        self.ephemerals: list[Json] = []
        self._last_ts_us = 0

    def next_ts(self) -> str:
        """Message timestamps: wall clock in microseconds, strictly increasing."""
        micros = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def bot_fields(self) -> Json:
        """The fields Slack stamps on a message the app posts."""
        profile = {"id": BOT_ID, "app_id": APP_ID, "name": BOT_REAL_NAME, "icons": {}, "deleted": False}
        profile.update(updated=1700000000, team_id=self.team_id)
        return {"user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": self.team_id, "bot_profile": profile}

    # --- lookups (KeyError: the test forgot to seed something) -----------------------------------
    def require_channel(self, channel_id: str) -> Json:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"slack fake: unknown channel {channel_id!r} (seed it with add_channel)")
        return channel

    def require_user(self, user_id: str) -> Json:
        user = self.users.get(user_id)
        if user is None:
            raise KeyError(f"slack fake: unknown user {user_id!r} (seed it with add_user)")
        return user

    def find_message(self, channel_id: str, ts: str | None) -> Json | None:
        return next((m for m in self.messages.get(channel_id, []) if m["ts"] == ts), None)

    def require_message(self, channel_id: str, ts: str) -> Json:
        message = self.find_message(channel_id, ts)
        if message is None:
            raise KeyError(f"slack fake: no message {ts} in {channel_id}")
        return message

    # --- records ---------------------------------------------------------------------------------
    def new_user(self, user_id: str, name: str, real_name: str | None, email: str | None, **flags: object) -> Json:
        """Store a user; `flags` are is_admin, is_owner, deleted, is_bot, bot_id and tz."""
        user = {"id": user_id, "name": name, "real_name": real_name or name, "email": email}
        user.update(flags, updated=int(time.time()))
        self.users[user_id] = user
        return user

    def new_channel(self, channel_id: str, name: str, members: Iterable[str], *, is_private: bool) -> Json:
        now = int(time.time())
        channel = {
            "id": channel_id,
            "name": name,
            "is_private": is_private,
            "is_im": False,
            "user": None,
            "members": list(dict.fromkeys(members)),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "created": now,
            "creator": "",
            "is_archived": False,
        }
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def open_dm(self, user_id: str) -> Json:
        """The app's DM with `user_id`, opened on first use."""
        existing = self.dm_by_user.get(user_id)
        if existing:
            return self.channels[existing]
        dm = self.new_channel(random_id("D"), "", [user_id, BOT_USER_ID], is_private=True)
        dm.update(is_im=True, user=user_id, creator=user_id)
        self.dm_by_user[user_id] = dm["id"]
        return dm

    def new_usergroup(self, usergroup_id: str, handle: str, name: str | None, users: Iterable[str]) -> Json:
        now = int(time.time())
        group = {
            "id": usergroup_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name or handle,
            "description": "",
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": 0,
            "auto_type": None,
            "created_by": BOT_USER_ID,
            "updated_by": BOT_USER_ID,
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "users": list(dict.fromkeys(users)),
        }
        self.usergroups[usergroup_id] = group
        return group

    def add_message(self, channel: Json, fields: Json) -> Json:
        """Store a message (as Slack would, threading replies onto their parent); returns the stored dict."""
        ts = self.next_ts()
        message = {"type": "message", **{k: v for k, v in fields.items() if v is not None}, "ts": ts}
        parent = self.find_message(channel["id"], message.get("thread_ts"))
        if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
            parent = self.find_message(channel["id"], parent["thread_ts"])  # a reply to a reply joins the thread
        if parent is None:
            message.pop("thread_ts", None)  # an unknown thread_ts posts at top level
        else:
            message.update(thread_ts=parent["ts"], parent_user_id=parent.get("user"))
            reply_users = list(dict.fromkeys([*parent.get("reply_users", []), message.get("user") or ""]))
            parent.update(thread_ts=parent["ts"], reply_count=parent.get("reply_count", 0) + 1, latest_reply=ts)
            parent.update(
                reply_users=[u for u in reply_users if u], reply_users_count=len([u for u in reply_users if u])
            )
        self.messages[channel["id"]].append(message)
        return message
