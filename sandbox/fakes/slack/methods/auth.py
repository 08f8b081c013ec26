"""auth.test, team.info and apps.connections.open: who the token belongs to and where Socket Mode connects."""

from __future__ import annotations

import secrets

from sandbox.fakes.slack.arguments import Json, Method
from sandbox.fakes.slack.identity import BOT_ID, BOT_NAME, BOT_USER_ID
from sandbox.fakes.slack.methods.family import MethodFamily


class AuthMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {
            "auth.test": self.auth_test,
            "apps.connections.open": self.apps_connections_open,
            "team.info": self.team_info,
        }

    def auth_test(self, args: Json) -> Json:
        return {
            "url": f"https://{self.workspace.domain}.slack.com/",
            "team": self.workspace.team_name,
            "user": BOT_NAME,
            "team_id": self.workspace.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, args: Json) -> Json:
        return {"url": self.slack.connection_url(secrets.token_hex(16))}

    def team_info(self, args: Json) -> Json:
        workspace = self.workspace
        team = {"id": workspace.team_id, "name": workspace.team_name, "domain": workspace.domain, "email_domain": ""}
        team.update(url=f"https://{workspace.domain}.slack.com/", icon={"image_default": True}, is_verified=False)
        return {"team": team}
