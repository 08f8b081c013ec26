"""usergroups.list, usergroups.users.list and usergroups.users.update."""

from __future__ import annotations

import time

from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError, flag, id_list
from sandbox.fakes.slack.identity import BOT_USER_ID
from sandbox.fakes.slack.methods.family import MethodFamily
from sandbox.fakes.slack.render import usergroup_view


class UsergroupMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "usergroups.list": self.list_usergroups,
            "usergroups.users.list": self.users_list,
            "usergroups.users.update": self.users_update,
        }

    def _usergroup(self, args: Json) -> Json:
        group = self.workspace.usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            raise SlackMethodError("no_such_subteam")
        return group

    def list_usergroups(self, args: Json) -> Json:
        include_users = flag(args.get("include_users"))
        groups = self.workspace.usergroups.values()
        return {"usergroups": [usergroup_view(group, include_users=include_users) for group in groups]}

    def users_list(self, args: Json) -> Json:
        return {"users": list(self._usergroup(args)["users"])}

    def users_update(self, args: Json) -> Json:
        group = self._usergroup(args)
        if group["id"] in self.workspace.locked_usergroups:
            raise SlackMethodError("permission_denied")
        users = list(dict.fromkeys(id_list(args.get("users"))))
        if not users:
            raise SlackMethodError("no_users_provided")
        known = [self.workspace.users.get(user_id) for user_id in users]
        if any(user is None or user["deleted"] for user in known):
            raise SlackMethodError("invalid_users")
        if any(user["is_bot"] for user in known if user is not None):
            raise SlackMethodError("invalid_user")  # bots and guests cannot be in user groups
        group.update(users=users, date_update=int(time.time()), updated_by=BOT_USER_ID)
        changed = {"usergroup": group["id"], "handle": group["handle"], "users": users}
        self.slack.transcript.emit("usergroup", user=BOT_USER_ID, bot=True, text=group["handle"], **changed)
        return {"usergroup": usergroup_view(group)}
