"""Seeding the workspace from a test or the sandbox: users, channels, members, DMs and usergroups."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.parts import SlackFakeParts
from sandbox.fakes.slack.render import channel_view, user_view, usergroup_view


class Seeding(SlackFakeParts):
    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        email: str | None = None,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
        is_bot: bool = False,
        bot_id: str | None = None,
        tz: str = "Europe/London",
    ) -> Json:
        with self.lock:
            user = self.workspace.new_user(
                user_id,
                name,
                real_name,
                email,
                is_admin=is_admin,
                is_owner=is_owner,
                deleted=deleted,
                is_bot=is_bot,
                bot_id=bot_id,
                tz=tz,
            )
            view = user_view(self.workspace, user)
        self.notify()
        return view

    def add_channel(
        self, channel_id: str, name: str, *, members: Iterable[str] = (), topic: str = "", is_private: bool = False
    ) -> Json:
        """The bot is a member only if "UBOT" is in `members`."""
        with self.lock:
            channel = self.workspace.new_channel(channel_id, name, members, is_private=is_private)
            creator = next((m for m in channel["members"] if m != BOT_USER_ID), "")
            channel["creator"] = creator
            if topic:
                channel["topic"] = {"value": topic, "creator": creator, "last_set": channel["created"]}
            view = channel_view(self.workspace, channel)
        self.notify()
        return view

    def add_members(self, channel_id: str, *user_ids: str) -> None:
        with self.lock:
            members = self.workspace.require_channel(channel_id)["members"]
            members.extend(u for u in user_ids if u not in members)
        self.notify()

    def archive_channel(self, channel_id: str) -> None:
        with self.lock:
            self.workspace.require_channel(channel_id)["is_archived"] = True
        self.notify()

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with `user_id` (opened if needed), for `post_message` as that user."""
        with self.lock:
            self.workspace.require_user(user_id)
            dm_id = self.workspace.open_dm(user_id)["id"]
        self.notify()
        return dm_id

    def add_usergroup(self, usergroup_id: str, handle: str, name: str | None = None, users: Iterable[str] = ()) -> Json:
        with self.lock:
            view = usergroup_view(self.workspace.new_usergroup(usergroup_id, handle, name, users))
        self.notify()
        return view

    def forbid_usergroup_updates(self, usergroup_id: str, forbidden: bool = True) -> None:
        """Make usergroups.users.update answer `permission_denied` (workspace setting: admins only)."""
        with self.lock:
            if forbidden:
                self.workspace.locked_usergroups.add(usergroup_id)
            else:
                self.workspace.locked_usergroups.discard(usergroup_id)
