"""users.info, users.lookupByEmail and users.list."""

from __future__ import annotations

import time

from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError, paginate
from sandbox.fakes.slack.methods.family import MethodFamily
from sandbox.fakes.slack.render import user_view


class UserMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "users.info": self.info,
            "users.lookupByEmail": self.lookup_by_email,
            "users.list": self.list_users,
        }

    def info(self, args: Json) -> Json:
        user = self.workspace.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackMethodError("user_not_found")
        return {"user": user_view(self.workspace, user)}

    def lookup_by_email(self, args: Json) -> Json:
        email = str(args.get("email") or "").strip().lower()
        for user in self.workspace.users.values():
            if email and (user["email"] or "").lower() == email:
                return {"user": user_view(self.workspace, user)}
        raise SlackMethodError("users_not_found")

    def list_users(self, args: Json) -> Json:
        page, next_cursor = paginate(list(self.workspace.users.values()), args, "user", lambda u: u["id"])
        members = [user_view(self.workspace, user) for user in page]
        return {"members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": next_cursor}}
