"""`response_url`s: where a slash command or a button click can answer, and what Slack does with the answer.

An answer replaces or deletes the original message, posts in the channel (`response_type: in_channel`) or shows
an ephemeral message to the person who acted. A slash command's ack payload is shown the same way. Either is held
to the limits of a message (`block_kit.check_message_limits`); a response_url post past them is answered HTTP 400
with the bare error, as Slack answers its webhooks, and an ack payload past them is not shown.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sandbox.fakes.base import FakeRequest, FakeResponse
from sandbox.fakes.slack.arguments import Json, SlackMethodError, flag
from sandbox.fakes.slack.block_kit import check_message_limits

if TYPE_CHECKING:
    from sandbox.fakes.slack.fake import SlackFake

RESPONSE_URL_MAX_USES = 5


class ResponseUrls:
    """Callers hold the fake's lock (the route handler runs under it)."""

    def __init__(self, slack: SlackFake) -> None:
        self.slack = slack
        self._targets: dict[str, Json] = {}
        self.responses: list[Json] = []  # {"id": <response id>, "body": <JSON posted to the response_url>}

    def new_target(self, channel_id: str, user: str, message_ts: str | None) -> str:
        """Mint a response id for an action by `user` in `channel_id` (on the message `message_ts`, if any)."""
        response_id = secrets.token_hex(12)
        self._targets[response_id] = {"channel": channel_id, "user": user, "message_ts": message_ts, "uses": 0}
        return response_id

    def url(self, response_id: str) -> str:
        return f"{self.slack.origin}/response/{response_id}"

    def serve(self, request: FakeRequest, response_id: str) -> tuple[int, Json] | Json | FakeResponse:
        """POST /response/<id>: at most five uses, like Slack's."""
        target = self._targets.get(response_id)
        if target is None:
            return 404, {"ok": False, "error": "expired_url"}
        target["uses"] += 1
        if target["uses"] > RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        body = request.json
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        error = self._refusal(body, "response_url")
        if error:
            return FakeResponse(400, error, content_type="text/plain; charset=utf-8")
        self.responses.append({"id": response_id, "body": body})
        self._apply(target, body, "response_url")
        return {"ok": True}

    def show_ack(self, response_id: str, payload: Json) -> None:
        """A slash command's ack payload, shown to the user (ephemeral unless in_channel)."""
        target = self._targets.get(response_id)
        if target and not self._refusal(payload, "ack"):
            self._apply(target, payload, "ack")

    def _refusal(self, body: Json, source: str) -> str:
        """The error Slack refuses `body` with for its limits ("" if none), noted in the fake's refusals."""
        if flag(body.get("delete_original")):
            return ""
        content = {key: body.get(key) for key in ("text", "blocks", "attachments")}
        try:
            check_message_limits(content)
        except SlackMethodError as error:
            if error.body["error"] == "no_text":
                return ""  # an empty answer is shown as nothing; no limit was broken
            self.slack.note_refusal(source, error.body, body)
            return str(error.body["error"])
        return ""

    def _apply(self, target: Json, body: Json, source: str) -> None:
        workspace, changes = self.slack.workspace, self.slack.changes
        channel = workspace.channels.get(target["channel"])
        if channel is None:
            return
        original = workspace.find_message(channel["id"], target["message_ts"])
        content = {
            "text": str(body.get("text") or ""),
            "blocks": body.get("blocks"),
            "attachments": body.get("attachments"),
        }
        if flag(body.get("delete_original")) and original is not None:
            changes.remove_message(channel, original)
        elif flag(body.get("replace_original")) and original is not None:
            changes.change_message(channel, original, content, editor=None)
        elif body.get("response_type") == "in_channel":
            fields = {**workspace.bot_fields(), **content, "thread_ts": body.get("thread_ts")}
            changes.announce_message(channel, workspace.add_message(channel, fields))
        else:
            changes.add_ephemeral(channel["id"], target["user"], content, body.get("thread_ts"), source)
