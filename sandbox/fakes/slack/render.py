"""The workspace's records shaped as Slack's user, conversation and usergroup objects."""

from __future__ import annotations

import copy
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.identity import APP_ID, BOT_USER_ID
from sandbox.fakes.slack.state import Workspace


def tz_fields(tz: str) -> Json:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz, "tz_label": tz, "tz_offset": 0}
    offset = now.utcoffset()
    return {"tz": tz, "tz_label": now.tzname() or tz, "tz_offset": int(offset.total_seconds()) if offset else 0}


def user_view(workspace: Workspace, user: Json) -> Json:
    profile = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user["real_name"],
        "real_name_normalized": user["real_name"],
        "display_name": user["name"],
        "display_name_normalized": user["name"],
        "status_text": "",
        "status_emoji": "",
        "avatar_hash": "g000000000",
        "image_48": f"https://{workspace.domain}.slack.com/avatars/{user['id']}_48.png",
        "team": workspace.team_id,
    }
    if user["email"]:
        profile["email"] = user["email"]
    if user["bot_id"]:
        profile.update(bot_id=user["bot_id"], api_app_id=APP_ID if user["id"] == BOT_USER_ID else "")
    flags = {k: user[k] for k in ("is_admin", "is_owner", "is_bot")}
    return {
        "id": user["id"],
        "team_id": workspace.team_id,
        "name": user["name"],
        "deleted": user["deleted"],
        "color": "9f69e7",
        "real_name": user["real_name"],
        **tz_fields(user["tz"]),
        "profile": profile,
        **flags,
        "is_primary_owner": user["is_owner"],
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_app_user": False,
        "updated": user["updated"],
        "is_email_confirmed": bool(user["email"]),
    }


def channel_view(workspace: Workspace, channel: Json, *, include_num_members: bool = False) -> Json:
    base = {"id": channel["id"], "created": channel["created"], "is_archived": channel["is_archived"]}
    base.update(is_org_shared=False, context_team_id=workspace.team_id, updated=channel["created"] * 1000)
    if channel["is_im"]:
        user = workspace.users.get(channel["user"], {})
        return {**base, "is_im": True, "user": channel["user"], "is_user_deleted": user.get("deleted", False)}
    view = {
        **base,
        "name": channel["name"],
        "name_normalized": channel["name"],
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel["is_private"],
        "is_general": False,
        "is_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "shared_team_ids": [workspace.team_id],
        "creator": channel["creator"],
        "is_member": BOT_USER_ID in channel["members"],
        "topic": dict(channel["topic"]),
        "purpose": dict(channel["purpose"]),
        "previous_names": [],
    }
    if include_num_members:
        view["num_members"] = len(channel["members"])
    return view


def usergroup_view(group: Json, *, include_users: bool = True) -> Json:
    view = copy.deepcopy(group)
    view["user_count"] = len(group["users"])
    if not include_users:
        del view["users"]
    return view
