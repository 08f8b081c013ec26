"""Slack fake: the Web API at `/api/<method>` plus a Socket Mode WebSocket server, for the real slack_sdk and Bolt.

Web API answers are HTTP 200 `{"ok": true, ...}` or `{"ok": false, "error": ...}` like Slack; rate limits are
injected faults (HTTP 429 + Retry-After). The WebSocket is plain ws:// on its own port because slack_sdk's
builtin Socket Mode client only uses TLS on port 443. Helper methods act as humans (post, edit, react, click,
run slash commands) and push the matching envelopes to the connected bot; `subscribe()` feeds a live transcript.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import logging
import re
import secrets
import socket
import string
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from .base import FakeError, FakeRequest, FakeResponse, FakeService

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "switchboard"
BOT_REAL_NAME = "Switchboard"
APP_ID = "A0SANDBOX"
VERIFICATION_TOKEN = "sandbox-verification-token"
TOPIC_MAX_CHARS = 250
TEXT_MAX_CHARS = 40_000
MAX_BLOCKS = 50
RESPONSE_URL_MAX_USES = 5
APP_TOKEN_METHODS = {"apps.connections.open"}
_ALNUM = string.ascii_uppercase + string.digits
_REACTION_NAME = re.compile(r"[a-z0-9_+'\-]+(::skin-tone-[2-6])?")
_BUTTON_CONTAINERS = ("elements", "accessory")
T = TypeVar("T")
_log = logging.getLogger(__name__)
Json = dict[str, Any]


class SlackMethodError(FakeError):
    """A Web API failure as Slack reports it: HTTP 200 with `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(200, error, body={"ok": False, "error": error, **extra})


def _random_id(prefix: str, length: int = 10) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"1", "true", "yes"}


def _id_list(value: Any) -> list[str]:
    """`"U1,U2"` (form) or `["U1", "U2"]` (JSON) as a list."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _json_arg(args: Json, name: str, error: str) -> Any:
    """Block Kit fields arrive as JSON strings in form bodies and as objects in JSON bodies."""
    value = args.get(name)
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise SlackMethodError(error) from exc


def _ts_key(ts: Any) -> tuple[int, int]:
    """Compare Slack timestamps exactly ("1700000000.000100"), without float rounding."""
    seconds, _, fraction = str(ts).partition(".")
    try:
        return int(seconds or 0), int((fraction + "000000")[:6])
    except ValueError as exc:
        raise SlackMethodError("invalid_ts") from exc


def _paginate(
    items: list[T], args: Json, kind: str, key: Callable[[T], str], max_limit: int = 1000
) -> tuple[list[T], str]:
    """Slack cursor pagination: `limit` + `cursor` in; the page and `response_metadata.next_cursor` out."""
    try:
        limit = int(args.get("limit") or 0) or 100
    except (TypeError, ValueError) as exc:
        raise SlackMethodError("invalid_limit") from exc
    limit = max(1, min(limit, max_limit))
    start = 0
    cursor = str(args.get("cursor") or "")
    if cursor:
        try:
            cursor_kind, _, value = base64.b64decode(cursor).decode().partition(":")
        except ValueError as exc:
            raise SlackMethodError("invalid_cursor") from exc
        keys = [key(item) for item in items]
        if cursor_kind != kind or value not in keys:
            raise SlackMethodError("invalid_cursor")
        start = keys.index(value)
    end = start + limit
    next_cursor = base64.b64encode(f"{kind}:{key(items[end])}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor


def _tz_fields(tz: str) -> Json:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return {"tz": tz, "tz_label": tz, "tz_offset": 0}
    offset = now.utcoffset()
    return {"tz": tz, "tz_label": now.tzname() or tz, "tz_offset": int(offset.total_seconds()) if offset else 0}


class SlackFake(FakeService):
    """Slack Web API + Socket Mode. Point `WebClient(base_url=fake.base_url)` at it; the bot is UBOT / BBOT."""

    name = "slack"
    scheme_path = "/api/"

    def __init__(
        self,
        bot_token: str = "xoxb-sandbox",
        app_token: str = "xapp-sandbox",
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_name = team_name
        self.domain = re.sub(r"[^a-z0-9-]", "", team_name.lower()) or "sandbox"
        self.echo_bot_events = True  # Slack delivers the bot's own messages too; Bolt's ignore-self drops them
        self._users: dict[str, Json] = {}
        self._channels: dict[str, Json] = {}
        self._messages: dict[str, list[Json]] = {}
        self._dm_by_user: dict[str, str] = {}
        self._usergroups: dict[str, Json] = {}
        self._locked_usergroups: set[str] = set()
        self._home_views: dict[str, Json] = {}
        self._ephemerals: list[Json] = []
        self._response_targets: dict[str, Json] = {}
        self.responses: list[Json] = []  # {"id": <response id>, "body": <JSON posted to the response_url>}
        self._last_ts_us = 0
        self._tickets: set[str] = set()
        self._sockets: list[ServerConnection] = []
        self._envelopes: dict[str, Json] = {}
        self._acks: dict[str, Json] = {}
        self.hello_count = 0
        self._ws_server: Server | None = None
        self._ws_thread: threading.Thread | None = None
        self._subscribers: list[Callable[[Json], None]] = []
        self._deferred: list[Callable[[], None]] = []
        self._deferred_runner = threading.RLock()
        super().__init__(host, port)
        self.add_user(BOT_USER_ID, BOT_NAME, BOT_REAL_NAME, is_bot=True, bot_id=BOT_ID)

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackFake:
        self._ws_server = serve(
            self._serve_socket,
            self.host,
            0,
            process_request=self._check_ticket,
            close_timeout=1,
            logger=logging.getLogger(__name__ + ".ws"),
        )
        self._ws_thread = threading.Thread(target=self._ws_server.serve_forever, name="fake-slack-ws", daemon=True)
        self._ws_thread.start()
        super().start()
        return self

    def stop(self) -> None:
        server, self._ws_server = self._ws_server, None
        if server is not None:
            server.shutdown()
            if self._ws_thread is not None:
                self._ws_thread.join(5)
        super().stop()

    @property
    def ws_port(self) -> int:
        assert self._ws_server is not None, "fake not started"
        return self._ws_server.socket.getsockname()[1]

    def error_body(self, status: int, message: str = "") -> Any:
        errors = {429: "ratelimited", 404: "unknown_method", 401: "invalid_auth", 403: "invalid_auth"}
        return {"ok": False, "error": errors.get(status, "fatal_error" if status >= 500 else message or "fatal_error")}

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        try:
            return super().handle(request)
        finally:
            self._run_deferred()

    # --- deferred work: socket pushes and subscriber callbacks never run under self.lock ----------
    def _defer(self, job: Callable[[], None]) -> None:
        with self.lock:
            self._deferred.append(job)

    def _run_deferred(self) -> None:
        while True:
            if not self._deferred_runner.acquire(blocking=False):
                return  # another thread is draining and re-checks the queue after it lets go
            try:
                while True:
                    with self.lock:
                        if not self._deferred:
                            break
                        job = self._deferred.pop(0)
                    job()
            finally:
                self._deferred_runner.release()
            with self.lock:
                if not self._deferred:
                    return

    def subscribe(self, callback: Callable[[Json], None]) -> Callable[[], None]:
        """Call `callback(change)` for every visible change; returns an unsubscribe function."""
        with self.lock:
            self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _emit(self, kind: str, **fields: Any) -> None:
        change = {
            "kind": kind,
            "channel": None,
            "user": None,
            "bot": False,
            "text": None,
            "thread_ts": None,
            "ts": None,
        }
        change.update(fields)

        def deliver() -> None:
            for callback in list(self._subscribers):
                with contextlib.suppress(Exception):  # a broken transcript printer must not break the fake
                    callback(dict(change))

        self._defer(deliver)

    # --- Socket Mode -----------------------------------------------------------------------------
    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = parse_qs(parts.query).get("ticket", [""])[0]
        with self.lock:
            known = ticket in self._tickets
        if parts.path.rstrip("/") == "/link" and known:
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or missing ticket\n")

    def _serve_socket(self, connection: ServerConnection) -> None:
        with self.lock:
            count = len(self._sockets) + 1
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {"host": "sandbox", "approximate_connection_time": 3600},
            "connection_info": {"app_id": APP_ID},
        }
        try:
            connection.send(json.dumps(hello))
            with self.lock:
                self._sockets.append(connection)
                self.hello_count += 1
            self.notify()
            for frame in connection:
                self._on_frame(frame)
        except ConnectionClosed:
            pass  # the builtin client hangs up without a close frame
        finally:
            with self.lock:
                if connection in self._sockets:
                    self._sockets.remove(connection)
            self.notify()

    def _on_frame(self, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            return
        envelope_id = frame.get("envelope_id") if isinstance(frame, dict) else None
        if not envelope_id:
            return
        with self.lock:
            self._acks[envelope_id] = frame
            record = self._envelopes.get(envelope_id)
            if record is not None:
                record["acked_at"] = time.time()
                payload = frame.get("payload")
                # Slack shows a slash command's ack payload to the user (ephemeral unless in_channel)
                target = self._response_targets.get(record.get("response_id", ""))
                if record["envelope"]["type"] == "slash_commands" and target and isinstance(payload, dict) and payload:
                    self._apply_response(target, payload, "ack")
        self.notify()
        self._run_deferred()

    @property
    def connection_count(self) -> int:
        with self.lock:
            return len(self._sockets)

    def wait_connected(self, timeout: float = 10.0) -> int:
        return self.wait_for(lambda: self.connection_count, timeout, "a Socket Mode connection")

    def _new_envelope(self, envelope_type: str, payload: Json, **options: Any) -> str:
        envelope_id = options.get("envelope_id") or str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": options.get("accepts_response_payload", False),
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=options.get("retry_attempt", 0), retry_reason=options.get("retry_reason", ""))
        with self.lock:
            self._envelopes[envelope_id] = {"envelope": envelope, "delivered": False, "sent_at": None}
        return envelope_id

    def _deliver(self, envelope_id: str) -> bool:
        with self.lock:
            envelope = self._envelopes[envelope_id]["envelope"]
            sockets = list(reversed(self._sockets))  # newest first: after a refresh the old socket is going away
        text = json.dumps(envelope)
        for connection in sockets:
            try:
                connection.send(text)
            except (ConnectionClosed, OSError):
                continue
            with self.lock:
                self._envelopes[envelope_id].update(delivered=True, sent_at=time.time())
            self.notify()
            return True
        return False

    def _push(self, envelope_type: str, payload: Json, **options: Any) -> str:
        """Queue an envelope for after the lock is released; without a socket it stays undelivered."""
        envelope_id = self._new_envelope(envelope_type, payload, **options)
        self._defer(lambda: self._deliver(envelope_id) and None)
        return envelope_id

    def send_envelope(
        self,
        envelope_type: str,
        payload: Json,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
        envelope_id: str | None = None,
    ) -> str:
        """Push one envelope to a connected socket now; RuntimeError if none is connected."""
        self._run_deferred()
        if not self.connection_count:
            raise RuntimeError("slack fake: no Socket Mode connection to deliver the envelope to")
        envelope_id = self._new_envelope(
            envelope_type,
            payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            accepts_response_payload=accepts_response_payload,
            envelope_id=envelope_id,
        )
        if not self._deliver(envelope_id):
            raise RuntimeError("slack fake: the Socket Mode connection closed before the envelope was sent")
        return envelope_id

    def redeliver(self, envelope_id: str, retry_attempt: int = 1, retry_reason: str = "timeout") -> str:
        """Send an earlier envelope's payload (same event_id) again in a new envelope, as Slack retries."""
        with self.lock:
            envelope = copy.deepcopy(self._envelopes[envelope_id]["envelope"])
        return self.send_envelope(
            envelope["type"],
            envelope["payload"],
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            accepts_response_payload=envelope["accepts_response_payload"],
        )

    def envelope(self, envelope_id: str) -> Json | None:
        """{"envelope": <as sent>, "delivered": bool, "sent_at", "acked_at"?, "response_id"?}."""
        with self.lock:
            record = self._envelopes.get(envelope_id)
            return copy.deepcopy(record) if record else None

    def envelopes(self, envelope_type: str | None = None) -> list[Json]:
        with self.lock:
            records = [r for r in self._envelopes.values() if envelope_type in (None, r["envelope"]["type"])]
            return copy.deepcopy(records)

    def acked(self, envelope_id: str) -> Json | None:
        with self.lock:
            frame = self._acks.get(envelope_id)
            return copy.deepcopy(frame) if frame is not None else None

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Json:
        return self.wait_for(lambda: self.acked(envelope_id), timeout, f"the ack of envelope {envelope_id}")

    def drop_socket(self) -> int:
        """Reset every WebSocket (TCP RST, no close frame); the client must reconnect via apps.connections.open."""
        with self.lock:
            sockets = list(self._sockets)
        for connection in sockets:
            # Close the fd ourselves with linger 0 so the peer sees a bare RST: if websockets got to send a FIN
            # first, the builtin client would read EOF forever and only notice after 5 failed pings.
            with contextlib.suppress(OSError):
                connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.socket.close()
            connection.close_socket()
        self.wait_for(lambda: all(c not in self._sockets for c in sockets), 5, "dropped sockets to close")
        return len(sockets)

    def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Ask every connected client to reconnect (Slack's `disconnect` frame); returns how many got it."""
        frame = json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}})
        with self.lock:
            sockets = list(self._sockets)
        sent = 0
        for connection in sockets:
            try:
                connection.send(frame)
                sent += 1
            except (ConnectionClosed, OSError):
                pass
        return sent

    def _event_payload(self, event: Json) -> Json:
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": _random_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }

    def _push_event(self, event: Json) -> str:
        return self._push("events_api", self._event_payload(event))

    # --- state primitives (call under self.lock) ----------------------------------------------------
    def _next_ts(self) -> str:
        """Message timestamps: wall clock in microseconds, strictly increasing."""
        micros = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _bot_fields(self) -> Json:
        profile = {"id": BOT_ID, "app_id": APP_ID, "name": BOT_REAL_NAME, "icons": {}, "deleted": False}
        profile.update(updated=1700000000, team_id=self.team_id)
        return {"user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": self.team_id, "bot_profile": profile}

    def _require_channel(self, channel_id: str) -> Json:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise KeyError(f"slack fake: unknown channel {channel_id!r} (seed it with add_channel)")
        return channel

    def _require_user(self, user_id: str) -> Json:
        user = self._users.get(user_id)
        if user is None:
            raise KeyError(f"slack fake: unknown user {user_id!r} (seed it with add_user)")
        return user

    def _find_message(self, channel_id: str, ts: str | None) -> Json | None:
        return next((m for m in self._messages.get(channel_id, []) if m["ts"] == ts), None)

    def _require_message(self, channel_id: str, ts: str) -> Json:
        message = self._find_message(channel_id, ts)
        if message is None:
            raise KeyError(f"slack fake: no message {ts} in {channel_id}")
        return message

    def _open_dm(self, user_id: str) -> Json:
        existing = self._dm_by_user.get(user_id)
        if existing:
            return self._channels[existing]
        dm = self._new_channel(_random_id("D"), "", [user_id, BOT_USER_ID], is_private=True)
        dm.update(is_im=True, user=user_id, creator=user_id)
        self._dm_by_user[user_id] = dm["id"]
        return dm

    def _new_channel(self, channel_id: str, name: str, members: Iterable[str], *, is_private: bool) -> Json:
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
        self._channels[channel_id] = channel
        self._messages.setdefault(channel_id, [])
        return channel

    def _add_message(self, channel: Json, fields: Json) -> Json:
        """Store a message (as Slack would, threading replies onto their parent); returns the stored dict."""
        ts = self._next_ts()
        message = {"type": "message", **{k: v for k, v in fields.items() if v is not None}, "ts": ts}
        parent = self._find_message(channel["id"], message.get("thread_ts"))
        if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
            parent = self._find_message(channel["id"], parent["thread_ts"])  # a reply to a reply joins the thread
        if parent is None:
            message.pop("thread_ts", None)  # an unknown thread_ts posts at top level
        else:
            message.update(thread_ts=parent["ts"], parent_user_id=parent.get("user"))
            reply_users = list(dict.fromkeys([*parent.get("reply_users", []), message.get("user") or ""]))
            parent.update(thread_ts=parent["ts"], reply_count=parent.get("reply_count", 0) + 1, latest_reply=ts)
            parent.update(
                reply_users=[u for u in reply_users if u], reply_users_count=len([u for u in reply_users if u])
            )
        self._messages[channel["id"]].append(message)
        return message

    @staticmethod
    def _reply_thread_ts(message: Json) -> str | None:
        thread_ts = message.get("thread_ts")
        return thread_ts if thread_ts and thread_ts != message["ts"] else None

    def _change_fields(self, channel: Json, message: Json) -> Json:
        return {
            "channel": channel["id"],
            "user": message.get("user"),
            "bot": bool(message.get("bot_id")),
            "text": message.get("text"),
            "thread_ts": self._reply_thread_ts(message),
            "ts": message["ts"],
            "subtype": message.get("subtype"),
        }

    @staticmethod
    def _channel_type(channel: Json) -> str:
        return "im" if channel["is_im"] else "group" if channel["is_private"] else "channel"

    def _push_message_event(self, channel: Json, fields: Json) -> str:
        """Slack sends message events only for conversations the bot is in (its own messages included)."""
        own = fields.get("user") == BOT_USER_ID
        if BOT_USER_ID not in channel["members"] or (own and not self.echo_bot_events):
            return ""
        event = copy.deepcopy(fields)
        event.update(channel=channel["id"], event_ts=fields.get("event_ts", fields["ts"]))
        event["channel_type"] = self._channel_type(channel)
        envelope_id = self._push_event(event)
        mentioned = f"<@{BOT_USER_ID}>" in str(fields.get("text") or "")
        if mentioned and not own and not channel["is_im"] and not fields.get("subtype"):
            keep = ("user", "text", "ts", "thread_ts", "team", "blocks")
            mention = {k: event[k] for k in keep if k in event}
            self._push_event({"type": "app_mention", **mention, "channel": channel["id"], "event_ts": event["ts"]})
        return envelope_id

    def _announce_message(self, channel: Json, message: Json) -> str:
        self._emit("message", **self._change_fields(channel, message))
        return self._push_message_event(channel, message)

    def _change_message(self, channel: Json, message: Json, changes: Json, editor: str | None) -> str:
        previous = copy.deepcopy(message)
        for key, value in changes.items():
            if value in (None, []) and key != "text":
                message.pop(key, None)
            else:
                message[key] = value
        if editor:
            message["edited"] = {"user": editor, "ts": self._next_ts()}
        ts = self._next_ts()
        self._emit("message_changed", **self._change_fields(channel, message))
        event = {"type": "message", "subtype": "message_changed", "hidden": True, "message": copy.deepcopy(message)}
        return self._push_message_event(channel, {**event, "previous_message": previous, "ts": ts, "event_ts": ts})

    def _remove_message(self, channel: Json, message: Json) -> str:
        self._messages[channel["id"]].remove(message)
        parent = self._find_message(channel["id"], self._reply_thread_ts(message))
        if parent is not None:
            parent["reply_count"] = max(0, parent.get("reply_count", 1) - 1)
        ts = self._next_ts()
        self._emit("message_deleted", **self._change_fields(channel, message))
        event = {"type": "message", "subtype": "message_deleted", "hidden": True, "deleted_ts": message["ts"]}
        return self._push_message_event(channel, {**event, "previous_message": copy.deepcopy(message), "ts": ts})

    def _apply_topic(self, channel: Json, user: str, topic: str) -> str:
        channel["topic"] = {"value": topic, "creator": user, "last_set": int(time.time())}
        fields = {"user": user, "subtype": "channel_topic", "text": f"set the channel topic: {topic}", "topic": topic}
        message = self._add_message(channel, {**fields, "team": self.team_id})
        bot = user == BOT_USER_ID
        self._emit("topic", channel=channel["id"], user=user, bot=bot, text=topic, ts=message["ts"], topic=topic)
        return self._push_message_event(channel, message)

    def _add_reaction(self, channel: Json, message: Json, user: str, name: str) -> str:
        reactions = message.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is not None and user in entry["users"]:
            raise SlackMethodError("already_reacted")
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        entry["users"].append(user)
        entry["count"] += 1
        return self._reaction_changed("reaction_added", channel, message, user, name)

    def _remove_reaction(self, channel: Json, message: Json, user: str, name: str) -> str:
        entry = next((r for r in message.get("reactions", []) if r["name"] == name), None)
        if entry is None or user not in entry["users"]:
            raise SlackMethodError("no_reaction")
        entry["users"].remove(user)
        entry["count"] -= 1
        if not entry["users"]:
            message["reactions"].remove(entry)
        if not message["reactions"]:
            del message["reactions"]
        return self._reaction_changed("reaction_removed", channel, message, user, name)

    def _reaction_changed(self, kind: str, channel: Json, message: Json, user: str, name: str) -> str:
        own = user == BOT_USER_ID
        self._emit(kind, channel=channel["id"], user=user, bot=own, text=name, ts=message["ts"], name=name)
        if BOT_USER_ID not in channel["members"] or (own and not self.echo_bot_events):
            return ""
        item = {"type": "message", "channel": channel["id"], "ts": message["ts"]}
        event = {"type": kind, "user": user, "reaction": name, "item_user": message.get("user"), "item": item}
        return self._push_event({**event, "event_ts": self._next_ts()})

    def _add_ephemeral(self, channel_id: str, user: str, content: Json, thread_ts: str | None, source: str) -> str:
        ts = self._next_ts()
        record = {"channel": channel_id, "user": user, "ts": ts, "thread_ts": thread_ts, "source": source}
        record.update({k: v for k, v in content.items() if v is not None})
        self._ephemerals.append(record)
        text = content.get("text")
        self._emit("ephemeral", channel=channel_id, user=user, bot=True, text=text, thread_ts=thread_ts, ts=ts)
        return ts

    def _new_response_target(self, channel_id: str, user: str, message_ts: str | None) -> str:
        response_id = secrets.token_hex(12)
        target = {"channel": channel_id, "user": user, "message_ts": message_ts, "uses": 0}
        self._response_targets[response_id] = target
        return response_id

    def _apply_response(self, target: Json, body: Json, source: str) -> None:
        """What Slack does with a response_url post (or a slash command's ack payload)."""
        channel = self._channels.get(target["channel"])
        if channel is None:
            return
        original = self._find_message(channel["id"], target["message_ts"])
        content = {
            "text": str(body.get("text") or ""),
            "blocks": body.get("blocks"),
            "attachments": body.get("attachments"),
        }
        if _flag(body.get("delete_original")) and original is not None:
            self._remove_message(channel, original)
        elif _flag(body.get("replace_original")) and original is not None:
            self._change_message(channel, original, content, editor=None)
        elif body.get("response_type") == "in_channel":
            message = self._add_message(channel, {**self._bot_fields(), **content, "thread_ts": body.get("thread_ts")})
            self._announce_message(channel, message)
        else:
            self._add_ephemeral(channel["id"], target["user"], content, body.get("thread_ts"), source)

    # --- views of state, shaped like Slack's objects ----------------------------------------------
    def _user_view(self, user: Json) -> Json:
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
            "image_48": f"https://{self.domain}.slack.com/avatars/{user['id']}_48.png",
            "team": self.team_id,
        }
        if user["email"]:
            profile["email"] = user["email"]
        if user["bot_id"]:
            profile.update(bot_id=user["bot_id"], api_app_id=APP_ID if user["id"] == BOT_USER_ID else "")
        flags = {k: user[k] for k in ("is_admin", "is_owner", "is_bot")}
        return {
            "id": user["id"],
            "team_id": self.team_id,
            "name": user["name"],
            "deleted": user["deleted"],
            "color": "9f69e7",
            "real_name": user["real_name"],
            **_tz_fields(user["tz"]),
            "profile": profile,
            **flags,
            "is_primary_owner": user["is_owner"],
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_app_user": False,
            "updated": user["updated"],
            "is_email_confirmed": bool(user["email"]),
        }

    def _channel_view(self, channel: Json, *, include_num_members: bool = False) -> Json:
        base = {"id": channel["id"], "created": channel["created"], "is_archived": channel["is_archived"]}
        base.update(is_org_shared=False, context_team_id=self.team_id, updated=channel["created"] * 1000)
        if channel["is_im"]:
            user = self._users.get(channel["user"], {})
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
            "shared_team_ids": [self.team_id],
            "creator": channel["creator"],
            "is_member": BOT_USER_ID in channel["members"],
            "topic": dict(channel["topic"]),
            "purpose": dict(channel["purpose"]),
            "previous_names": [],
        }
        if include_num_members:
            view["num_members"] = len(channel["members"])
        return view

    def _usergroup_view(self, group: Json, *, include_users: bool = True) -> Json:
        view = copy.deepcopy(group)
        view["user_count"] = len(group["users"])
        if not include_users:
            del view["users"]
        return view

    # --- Web API ---------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self._methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.info": self._conversations_info,
            "conversations.setTopic": self._conversations_set_topic,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": self._users_list,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.users.update": self._usergroups_users_update,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "reactions.get": self._reactions_get,
            "views.publish": self._views_publish,
            "team.info": self._team_info,
        }
        for verb in ("POST", "GET"):
            self.add_route(verb, r"/api/(?P<method>[\w.]+)", self._web_api)
        self.add_route("POST", r"/response/(?P<response_id>\w+)", self._response_url)

    def _web_api(self, request: FakeRequest, method: str) -> Json:
        handler = self._methods.get(method)
        if handler is None:
            raise SlackMethodError("unknown_method", req_method=method)
        args = request.args()
        self._authenticate(request, args.pop("token", None), app_level=method in APP_TOKEN_METHODS)
        try:
            return {"ok": True, **handler(args)}
        except FakeError:
            raise
        except Exception as exc:  # a fake bug: answer loudly instead of dropping the connection
            _log.exception("slack fake: %s failed", method)
            raise SlackMethodError("fake_internal_error", detail=repr(exc)) from exc

    def _authenticate(self, request: FakeRequest, token_field: Any, *, app_level: bool) -> None:
        header = request.header("authorization") or ""
        token = header.split(" ", 1)[1].strip() if header.lower().startswith("bearer ") else str(token_field or "")
        expected, other = (self.app_token, self.bot_token) if app_level else (self.bot_token, self.app_token)
        if not token:
            raise SlackMethodError("not_authed")
        if token == other:
            raise SlackMethodError("not_allowed_token_type")
        if token != expected:
            raise SlackMethodError("invalid_auth")

    def _readable_channel(self, channel_id: Any, *, need_member: bool) -> Json:
        channel = self._channels.get(str(channel_id or ""))
        if channel is None:
            raise SlackMethodError("channel_not_found")
        is_member = BOT_USER_ID in channel["members"]
        if not is_member and channel["is_private"]:
            raise SlackMethodError("channel_not_found")  # private conversations are invisible to outsiders
        if need_member and not is_member:
            raise SlackMethodError("not_in_channel")
        return channel

    def _writable_channel(self, channel_id: Any) -> Json:
        channel = self._readable_channel(channel_id, need_member=True)
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        return channel

    def _post_target(self, value: Any) -> Json:
        """chat.* accept a conversation id, a `#name`, or a user id (meaning the app's DM with that user)."""
        target = str(value or "").strip()
        if target.startswith("#"):
            named = [c for c in self._channels.values() if c["name"] == target[1:] and not c["is_im"]]
            target = named[0]["id"] if named else target
        elif target in self._users and target not in self._channels:
            if target == BOT_USER_ID:
                raise SlackMethodError("cannot_dm_bot")
            return self._open_dm(target)
        return self._writable_channel(target)

    def _message_content(self, args: Json, *, partial: bool = False) -> Json:
        """text/blocks/attachments of a request; `partial` (chat.update) leaves out what the caller left out."""
        content: Json = {}
        if "text" in args or not partial:
            content["text"] = str(args.get("text") or "")
        for name in ("blocks", "attachments"):
            if name not in args:
                continue
            value = _json_arg(args, name, f"invalid_{name}")
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, dict) for v in value)):
                raise SlackMethodError(f"invalid_{name}")
            content[name] = value or None
        blocks = content.get("blocks") or []
        if len(blocks) > MAX_BLOCKS or any("type" not in block for block in blocks):
            raise SlackMethodError("invalid_blocks")
        if not (content.get("text") or blocks or content.get("attachments")):
            raise SlackMethodError("no_text")
        if len(content.get("text") or "") > TEXT_MAX_CHARS:
            raise SlackMethodError("msg_too_long")
        return content

    def _auth_test(self, args: Json) -> Json:
        return {
            "url": f"https://{self.domain}.slack.com/",
            "team": self.team_name,
            "user": BOT_NAME,
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, args: Json) -> Json:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        return {"url": f"ws://{self.host}:{self.ws_port}/link/?ticket={ticket}&app_id={APP_ID}"}

    def _chat_post_message(self, args: Json) -> Json:
        channel = self._post_target(args.get("channel"))
        content = self._message_content(args)
        fields = {**self._bot_fields(), **content, "thread_ts": str(args.get("thread_ts") or "") or None}
        message = self._add_message(channel, fields)
        if _flag(args.get("reply_broadcast")) and "thread_ts" in message:
            message["subtype"] = "thread_broadcast"
        self._announce_message(channel, message)
        return {"channel": channel["id"], "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_post_ephemeral(self, args: Json) -> Json:
        channel = self._post_target(args.get("channel"))
        user = str(args.get("user") or "")
        if user not in self._users:
            raise SlackMethodError("user_not_found")
        if user not in channel["members"]:
            raise SlackMethodError("user_not_in_channel")
        content = self._message_content(args)
        ts = self._add_ephemeral(channel["id"], user, content, args.get("thread_ts"), "chat.postEphemeral")
        return {"message_ts": ts}

    def _own_message(self, args: Json, ts_field: str, error: str) -> tuple[Json, Json]:
        channel = self._readable_channel(args.get("channel"), need_member=False)
        message = self._find_message(channel["id"], str(args.get(ts_field) or ""))
        if message is None:
            raise SlackMethodError("message_not_found")
        if message.get("bot_id") != BOT_ID:
            raise SlackMethodError(error)
        return channel, message

    def _chat_update(self, args: Json) -> Json:
        channel, message = self._own_message(args, "ts", "cant_update_message")
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        self._change_message(channel, message, self._message_content(args, partial=True), editor=BOT_USER_ID)
        result = {"channel": channel["id"], "ts": message["ts"], "text": message.get("text", "")}
        return {**result, "message": copy.deepcopy(message)}

    def _chat_delete(self, args: Json) -> Json:
        channel, message = self._own_message(args, "ts", "cant_delete_message")
        self._remove_message(channel, message)
        return {"channel": channel["id"], "ts": message["ts"]}

    def _chat_get_permalink(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=False)
        message = self._find_message(channel["id"], str(args.get("message_ts") or ""))
        if message is None:
            raise SlackMethodError("message_not_found")
        link = f"https://{self.domain}.slack.com/archives/{channel['id']}/p{message['ts'].replace('.', '')}"
        thread_ts = self._reply_thread_ts(message)
        if thread_ts:
            link += f"?thread_ts={thread_ts}&cid={channel['id']}"
        return {"channel": channel["id"], "permalink": link}

    def _conversations_info(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=False)
        return {"channel": self._channel_view(channel, include_num_members=_flag(args.get("include_num_members")))}

    def _conversations_set_topic(self, args: Json) -> Json:
        channel = self._writable_channel(args.get("channel"))
        if channel["is_im"]:
            raise SlackMethodError("method_not_supported_for_channel_type")
        topic = str(args.get("topic") or "")
        if len(topic) > TOPIC_MAX_CHARS:
            raise SlackMethodError("too_long")
        self._apply_topic(channel, BOT_USER_ID, topic)
        return {"channel": self._channel_view(channel)}

    def _conversations_open(self, args: Json) -> Json:
        if args.get("channel"):
            channel = self._readable_channel(args["channel"], need_member=False)
            return {"no_op": True, "already_open": True, "channel": {"id": channel["id"]}}
        users = _id_list(args.get("users"))
        if not users:
            raise SlackMethodError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackMethodError("not_emulated_multiparty_dm")  # the fake has no mpims; fail loudly
        user = self._users.get(users[0])
        if user is None:
            raise SlackMethodError("user_not_found")
        if user["deleted"]:
            raise SlackMethodError("user_disabled")
        if user["id"] == BOT_USER_ID:
            raise SlackMethodError("cannot_dm_bot")
        existed = user["id"] in self._dm_by_user
        dm = self._open_dm(user["id"])
        view = self._channel_view(dm) if _flag(args.get("return_im")) else {"id": dm["id"]}
        return {"no_op": True, "already_open": True, "channel": view} if existed else {"channel": view}

    def _conversations_members(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=False)
        page, next_cursor = _paginate(channel["members"], args, "member", lambda member: member)
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_history(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=True)
        oldest = _ts_key(args.get("oldest") or "0")
        latest = _ts_key(args["latest"]) if args.get("latest") else None
        inclusive = _flag(args.get("inclusive"))

        def wanted(message: Json) -> bool:
            key = _ts_key(message["ts"])
            after_oldest = key >= oldest if inclusive else key > oldest
            before_latest = latest is None or (key <= latest if inclusive else key < latest)
            top_level = not self._reply_thread_ts(message) or message.get("subtype") == "thread_broadcast"
            return after_oldest and before_latest and top_level

        newest_first = [m for m in reversed(self._messages[channel["id"]]) if wanted(m)]
        page, next_cursor = _paginate(newest_first, args, "next_ts", lambda m: m["ts"], max_limit=999)
        result = {"messages": copy.deepcopy(page), "has_more": bool(next_cursor), "pin_count": 0}
        return {**result, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_replies(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=True)
        message = self._find_message(channel["id"], str(args.get("ts") or ""))
        if message is None:
            raise SlackMethodError("thread_not_found")
        root_ts = message.get("thread_ts") or message["ts"]
        thread = [m for m in self._messages[channel["id"]] if root_ts in (m["ts"], m.get("thread_ts"))]
        page, next_cursor = _paginate(thread, args, "next_ts", lambda m: m["ts"])
        result = {"messages": copy.deepcopy(page), "has_more": bool(next_cursor)}
        return {**result, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_list(self, args: Json) -> Json:
        types = set(_id_list(args.get("types") or "public_channel"))
        exclude_archived = _flag(args.get("exclude_archived"))

        def listed(channel: Json) -> bool:
            if exclude_archived and channel["is_archived"]:
                return False
            if channel["is_im"]:
                return "im" in types
            if channel["is_private"]:
                return "private_channel" in types and BOT_USER_ID in channel["members"]
            return "public_channel" in types

        channels = [c for c in self._channels.values() if listed(c)]
        page, next_cursor = _paginate(channels, args, "channel", lambda c: c["id"])
        views = [self._channel_view(c, include_num_members=True) for c in page]
        return {"channels": views, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_join(self, args: Json) -> Json:
        channel = self._channels.get(str(args.get("channel") or ""))
        if channel is None or (channel["is_private"] and BOT_USER_ID not in channel["members"]):
            raise SlackMethodError("channel_not_found")
        if channel["is_private"]:
            raise SlackMethodError("method_not_supported_for_channel_type")
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        if BOT_USER_ID in channel["members"]:
            warning = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
            return {"channel": self._channel_view(channel), **warning}
        channel["members"].append(BOT_USER_ID)
        return {"channel": self._channel_view(channel)}

    def _users_info(self, args: Json) -> Json:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackMethodError("user_not_found")
        return {"user": self._user_view(user)}

    def _users_lookup_by_email(self, args: Json) -> Json:
        email = str(args.get("email") or "").strip().lower()
        for user in self._users.values():
            if email and (user["email"] or "").lower() == email:
                return {"user": self._user_view(user)}
        raise SlackMethodError("users_not_found")

    def _users_list(self, args: Json) -> Json:
        page, next_cursor = _paginate(list(self._users.values()), args, "user", lambda u: u["id"])
        members = [self._user_view(user) for user in page]
        return {"members": members, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": next_cursor}}

    def _usergroup(self, args: Json) -> Json:
        group = self._usergroups.get(str(args.get("usergroup") or ""))
        if group is None:
            raise SlackMethodError("no_such_subteam")
        return group

    def _usergroups_list(self, args: Json) -> Json:
        include_users = _flag(args.get("include_users"))
        return {"usergroups": [self._usergroup_view(g, include_users=include_users) for g in self._usergroups.values()]}

    def _usergroups_users_list(self, args: Json) -> Json:
        return {"users": list(self._usergroup(args)["users"])}

    def _usergroups_users_update(self, args: Json) -> Json:
        group = self._usergroup(args)
        if group["id"] in self._locked_usergroups:
            raise SlackMethodError("permission_denied")
        users = list(dict.fromkeys(_id_list(args.get("users"))))
        if not users:
            raise SlackMethodError("no_users_provided")
        known = [self._users.get(user_id) for user_id in users]
        if any(user is None or user["deleted"] for user in known):
            raise SlackMethodError("invalid_users")
        if any(user["is_bot"] for user in known if user is not None):
            raise SlackMethodError("invalid_user")  # bots and guests cannot be in user groups
        group.update(users=users, date_update=int(time.time()), updated_by=BOT_USER_ID)
        changed = {"usergroup": group["id"], "handle": group["handle"], "users": users}
        self._emit("usergroup", user=BOT_USER_ID, bot=True, text=group["handle"], **changed)
        return {"usergroup": self._usergroup_view(group)}

    def _reaction_target(self, args: Json) -> tuple[Json, Json, str]:
        name = str(args.get("name") or "").strip(":")
        if not _REACTION_NAME.fullmatch(name):
            raise SlackMethodError("invalid_name")
        channel = self._readable_channel(args.get("channel"), need_member=False)
        message = self._find_message(channel["id"], str(args.get("timestamp") or ""))
        if message is None:
            raise SlackMethodError("message_not_found")
        if channel["is_archived"]:
            raise SlackMethodError("is_archived")
        return channel, message, name

    def _reactions_add(self, args: Json) -> Json:
        channel, message, name = self._reaction_target(args)
        self._add_reaction(channel, message, BOT_USER_ID, name)
        return {}

    def _reactions_remove(self, args: Json) -> Json:
        channel, message, name = self._reaction_target(args)
        self._remove_reaction(channel, message, BOT_USER_ID, name)
        return {}

    def _reactions_get(self, args: Json) -> Json:
        channel = self._readable_channel(args.get("channel"), need_member=False)
        message = self._find_message(channel["id"], str(args.get("timestamp") or ""))
        if message is None:
            raise SlackMethodError("message_not_found")
        return {"type": "message", "channel": channel["id"], "message": copy.deepcopy(message)}

    def _views_publish(self, args: Json) -> Json:
        user_id = str(args.get("user_id") or "")
        if user_id not in self._users:
            raise SlackMethodError("user_not_found")
        view = _json_arg(args, "view", "invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "home" or not isinstance(view.get("blocks"), list):
            raise SlackMethodError("invalid_arguments")
        if len(view["blocks"]) > 100:
            raise SlackMethodError("invalid_arguments")
        current = self._home_views.get(user_id)
        if args.get("hash") and current is not None and args["hash"] != current["hash"]:
            raise SlackMethodError("hash_conflict")
        view_id = current["id"] if current else _random_id("V")
        stored = {
            "id": view_id,
            "team_id": self.team_id,
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
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        self._home_views[user_id] = stored
        self._emit("view_published", user=user_id, bot=True)
        return {"view": copy.deepcopy(stored)}

    def _team_info(self, args: Json) -> Json:
        team = {"id": self.team_id, "name": self.team_name, "domain": self.domain, "email_domain": ""}
        team.update(url=f"https://{self.domain}.slack.com/", icon={"image_default": True}, is_verified=False)
        return {"team": team}

    def _response_url(self, request: FakeRequest, response_id: str) -> tuple[int, Json] | Json:
        target = self._response_targets.get(response_id)
        if target is None:
            return 404, {"ok": False, "error": "expired_url"}
        target["uses"] += 1
        if target["uses"] > RESPONSE_URL_MAX_USES:
            return 404, {"ok": False, "error": "used_url"}
        body = request.json
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        self.responses.append({"id": response_id, "body": body})
        self._apply_response(target, body, "response_url")
        return {"ok": True}

    # --- seeding ---------------------------------------------------------------------------------
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
        user = {"id": user_id, "name": name, "real_name": real_name or name, "email": email, "is_admin": is_admin}
        user.update(is_owner=is_owner, deleted=deleted, is_bot=is_bot, bot_id=bot_id, tz=tz, updated=int(time.time()))
        with self.lock:
            self._users[user_id] = user
            view = self._user_view(user)
        self.notify()
        return view

    def add_channel(
        self, channel_id: str, name: str, *, members: Iterable[str] = (), topic: str = "", is_private: bool = False
    ) -> Json:
        """The bot is a member only if "UBOT" is in `members`."""
        with self.lock:
            channel = self._new_channel(channel_id, name, members, is_private=is_private)
            creator = next((m for m in channel["members"] if m != BOT_USER_ID), "")
            channel["creator"] = creator
            if topic:
                channel["topic"] = {"value": topic, "creator": creator, "last_set": channel["created"]}
            view = self._channel_view(channel)
        self.notify()
        return view

    def add_members(self, channel_id: str, *user_ids: str) -> None:
        with self.lock:
            members = self._require_channel(channel_id)["members"]
            members.extend(u for u in user_ids if u not in members)
        self.notify()

    def archive_channel(self, channel_id: str) -> None:
        with self.lock:
            self._require_channel(channel_id)["is_archived"] = True
        self.notify()

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with `user_id` (opened if needed), for `post_message` as that user."""
        with self.lock:
            self._require_user(user_id)
            dm_id = self._open_dm(user_id)["id"]
        self.notify()
        return dm_id

    def add_usergroup(self, usergroup_id: str, handle: str, name: str | None = None, users: Iterable[str] = ()) -> Json:
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
        with self.lock:
            self._usergroups[usergroup_id] = group
            view = self._usergroup_view(group)
        self.notify()
        return view

    def forbid_usergroup_updates(self, usergroup_id: str, forbidden: bool = True) -> None:
        """Make usergroups.users.update answer `permission_denied` (workspace setting: admins only)."""
        with self.lock:
            if forbidden:
                self._locked_usergroups.add(usergroup_id)
            else:
                self._locked_usergroups.discard(usergroup_id)

    # --- acting as humans (each returns the envelope id pushed to the bot, "" if none) ---------------
    def _act(self, action: Callable[[], T]) -> T:
        with self.lock:
            result = action()
        self.notify()
        self._run_deferred()
        return result

    def post_message(
        self,
        user: str | None,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        subtype: str | None = None,
        files: Iterable[Json] | None = None,
        bot_id: str | None = None,
    ) -> tuple[str, str]:
        """A person (or another bot, with `bot_id`) posts; returns (ts, envelope id of the message event)."""

        def action() -> tuple[str, str]:
            target = self._require_channel(channel)
            fields: Json = {"user": user, "bot_id": bot_id, "text": text, "team": self.team_id, "thread_ts": thread_ts}
            if files:
                fields.update(files=list(files), upload=False)
            fields["subtype"] = subtype or ("file_share" if files else None)
            message = self._add_message(target, fields)
            return message["ts"], self._announce_message(target, message)

        return self._act(action)

    def edit_message(self, user: str, channel: str, ts: str, new_text: str) -> str:
        def action() -> str:
            target = self._require_channel(channel)
            return self._change_message(target, self._require_message(channel, ts), {"text": new_text}, user)

        return self._act(action)

    def delete_message(self, channel: str, ts: str) -> str:
        return self._act(
            lambda: self._remove_message(self._require_channel(channel), self._require_message(channel, ts))
        )

    def set_topic_as(self, user: str, channel: str, topic: str) -> str:
        return self._act(lambda: self._apply_topic(self._require_channel(channel), user, topic))

    def add_reaction_as(self, user: str, channel: str, ts: str, name: str) -> str:
        """Raises SlackMethodError("already_reacted") on a duplicate, like the API would."""
        target = self._require_channel
        return self._act(lambda: self._add_reaction(target(channel), self._require_message(channel, ts), user, name))

    def slash_command(self, user: str, channel: str, command: str, text: str = "") -> str:
        def action() -> str:
            target, person = self._require_channel(channel), self._require_user(user)
            response_id = self._new_response_target(target["id"], user, None)
            payload = {
                "token": VERIFICATION_TOKEN,
                "team_id": self.team_id,
                "team_domain": self.domain,
                "channel_id": target["id"],
                "channel_name": "directmessage" if target["is_im"] else target["name"],
                "user_id": user,
                "user_name": person["name"],
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": f"{self.origin}/response/{response_id}",
                "trigger_id": self._trigger_id(),
            }
            envelope_id = self._push("slash_commands", payload, accepts_response_payload=True)
            self._envelopes[envelope_id]["response_id"] = response_id
            return envelope_id

        return self._act(action)

    def _trigger_id(self) -> str:
        return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"

    @staticmethod
    def _find_button(message: Json, action_id: str) -> tuple[str | None, Json]:
        for block in message.get("blocks", []):
            for container in _BUTTON_CONTAINERS:
                elements = block.get(container)
                elements = elements if isinstance(elements, list) else [elements] if elements else []
                for element in elements:
                    if isinstance(element, dict) and element.get("action_id") == action_id:
                        return block.get("block_id"), element
        return None, {}

    def click_button(
        self,
        user: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        text: str | None = None,
    ) -> str:
        """A person clicks a button; value/block_id/text default to the stored button's, else "", "b", "Button"."""

        def action() -> str:
            target, person = self._require_channel(channel), self._require_user(user)
            message = self._require_message(channel, message_ts)
            found_block_id, button = self._find_button(message, action_id)
            button_text = text or (button.get("text") or {}).get("text") or "Button"
            clicked = {
                "action_id": action_id,
                "block_id": block_id or found_block_id or "b",
                "text": {"type": "plain_text", "text": button_text, "emoji": True},
                "value": value if value is not None else button.get("value", ""),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
            if "style" in button:
                clicked["style"] = button["style"]
            response_id = self._new_response_target(target["id"], user, message_ts)
            container = {"type": "message", "message_ts": message_ts, "channel_id": target["id"], "is_ephemeral": False}
            if self._reply_thread_ts(message):
                container["thread_ts"] = message["thread_ts"]
            payload = {
                "type": "block_actions",
                "user": {"id": user, "username": person["name"], "name": person["name"], "team_id": self.team_id},
                "api_app_id": APP_ID,
                "token": VERIFICATION_TOKEN,
                "container": container,
                "trigger_id": self._trigger_id(),
                "team": {"id": self.team_id, "domain": self.domain},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": target["id"], "name": "directmessage" if target["is_im"] else target["name"]},
                "message": copy.deepcopy(message),
                "state": {"values": {}},
                "response_url": f"{self.origin}/response/{response_id}",
                "actions": [clicked],
            }
            envelope_id = self._push("interactive", payload)
            self._envelopes[envelope_id]["response_id"] = response_id
            return envelope_id

        return self._act(action)

    def open_home(self, user: str) -> str:
        def action() -> str:
            self._require_user(user)
            event = {"type": "app_home_opened", "user": user, "channel": self._open_dm(user)["id"], "tab": "home"}
            if user in self._home_views:
                event["view"] = copy.deepcopy(self._home_views[user])
            return self._push_event({**event, "event_ts": self._next_ts()})

        return self._act(action)

    # --- readers ---------------------------------------------------------------------------------
    @property
    def users(self) -> dict[str, Json]:
        """Seeded users by id (raw state copies: id, name, real_name, email, is_bot, ...)."""
        with self.lock:
            return copy.deepcopy(self._users)

    @property
    def channels(self) -> dict[str, Json]:
        """Conversations by id, DMs included (raw state copies: id, name, is_private, is_im, user, members, topic)."""
        with self.lock:
            return copy.deepcopy(self._channels)

    def messages(self, channel: str) -> list[Json]:
        """Every message of a conversation (top level and replies) in posting order."""
        with self.lock:
            return copy.deepcopy(self._messages.get(channel, []))

    def replies(self, channel: str, thread_ts: str) -> list[Json]:
        """The thread's parent followed by its replies."""
        return [m for m in self.messages(channel) if thread_ts in (m["ts"], m.get("thread_ts"))]

    def dm_messages(self, user: str) -> list[Json]:
        with self.lock:
            dm_id = self._dm_by_user.get(user)
        return self.messages(dm_id) if dm_id else []

    def topic(self, channel: str) -> str:
        with self.lock:
            return self._require_channel(channel)["topic"]["value"]

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        with self.lock:
            return list(self._usergroups[usergroup_id]["users"])

    def home_view(self, user: str) -> Json | None:
        with self.lock:
            view = self._home_views.get(user)
            return copy.deepcopy(view) if view else None

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Json]:
        with self.lock:
            found = [e for e in self._ephemerals if channel in (None, e["channel"]) and user in (None, e["user"])]
            return copy.deepcopy(found)

    def wait_for_message(
        self, channel: str, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0
    ) -> Json:
        """The first message in `channel` (a DM: pass `dm_channel(user)`) matching `predicate`."""

        def found() -> Json | None:
            return next((m for m in self.messages(channel) if predicate is None or predicate(m)), None)

        return self.wait_for(found, timeout, f"a matching message in {channel}")

    def wait_for_ephemeral(
        self, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0, user: str | None = None
    ) -> Json:
        def found() -> Json | None:
            return next((e for e in self.ephemerals(user=user) if predicate is None or predicate(e)), None)

        return self.wait_for(found, timeout, "a matching ephemeral message")

    def wait_for_response(self, predicate: Callable[[Json], bool] | None = None, *, timeout: float = 10.0) -> Json:
        """The first `responses` entry ({"id", "body"}) matching `predicate`."""

        def found() -> Json | None:
            with self.lock:
                matching = (r for r in self.responses if predicate is None or predicate(r))
                return copy.deepcopy(next(matching, None))

        return self.wait_for(found, timeout, "a response_url post")
