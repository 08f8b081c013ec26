"""views.publish: the App Home tab of one user."""

from __future__ import annotations

import copy
import secrets
import time

from sandbox.fakes.slack.arguments import Json, Method, SlackMethodError
from sandbox.fakes.slack.block_kit import home_view
from sandbox.fakes.slack.identity import APP_ID, BOT_ID, random_id
from sandbox.fakes.slack.methods.family import MethodFamily


class ViewMethods(MethodFamily):
    def table(self) -> dict[str, Method]:
        return {"views.publish": self.publish}

    def publish(self, args: Json) -> Json:
        user_id = str(args.get("user_id") or "")
        if user_id not in self.workspace.users:
            raise SlackMethodError("user_not_found")
        view = home_view(args)
        current = self.workspace.home_views.get(user_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise SlackMethodError("hash_conflict")
        view_id = current["id"] if current else random_id("V")
        team_id = self.workspace.team_id
        stored = {
            "id": view_id,
            "team_id": team_id,
            "type": "home",
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        }
        self.workspace.home_views[user_id] = stored
        self.slack.transcript.emit("view_published", user=user_id, bot=True)
        return {"view": copy.deepcopy(stored)}
