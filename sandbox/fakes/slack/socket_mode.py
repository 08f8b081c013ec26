"""Socket Mode: the WebSocket server the bot connects to, envelopes pushed to it, and the acks it sends back.

The WebSocket is plain ws:// on its own port because slack_sdk's builtin Socket Mode client only uses TLS on
port 443. A connection needs a ticket minted by `apps.connections.open`; each one is greeted with `hello`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import socket
import struct
import threading
import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.fakes.slack.arguments import Json
from sandbox.fakes.slack.identity import APP_ID
from sandbox.fakes.slack.parts import SlackFakeParts

_WS_LOGGER = "sandbox.fakes.slack.ws"


class SocketMode(SlackFakeParts):
    def _init_socket_mode(self) -> None:
        self._tickets: set[str] = set()
        self._sockets: list[ServerConnection] = []
        self._envelopes: dict[str, Json] = {}
        self._acks: dict[str, Json] = {}
        self.hello_count = 0
        self._ws_server: Server | None = None
        self._ws_thread: threading.Thread | None = None

    # --- server ----------------------------------------------------------------------------------
    def _start_socket_server(self) -> None:
        self._ws_server = serve(
            self._serve_socket,
            self.host,
            0,
            process_request=self._check_ticket,
            close_timeout=1,
            logger=logging.getLogger(_WS_LOGGER),
        )
        self._ws_thread = threading.Thread(target=self._ws_server.serve_forever, name="fake-slack-ws", daemon=True)
        self._ws_thread.start()

    def _stop_socket_server(self) -> None:
        server, self._ws_server = self._ws_server, None
        if server is not None:
            server.shutdown()
            if self._ws_thread is not None:
                self._ws_thread.join(5)

    @property
    def ws_port(self) -> int:
        assert self._ws_server is not None, "fake not started"
        return self._ws_server.socket.getsockname()[1]

    def connection_url(self, ticket: str) -> str:
        """Admit one connection with `ticket` (minted by apps.connections.open); the URL the client opens."""
        self._tickets.add(ticket)
        return f"ws://{self.host}:{self.ws_port}/link/?ticket={ticket}&app_id={APP_ID}"

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
        """An ack: `{"envelope_id": ..., "payload"?: ...}`; anything else is ignored."""
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
                if record["envelope"]["type"] == "slash_commands" and isinstance(payload, dict) and payload:
                    self.response_urls.show_ack(record.get("response_id", ""), payload)
        self.notify()
        self.deferred.run()

    @property
    def connection_count(self) -> int:
        with self.lock:
            return len(self._sockets)

    def wait_connected(self, timeout: float = 10.0) -> int:
        return self.wait_for(lambda: self.connection_count, timeout, "a Socket Mode connection")

    # --- envelopes -------------------------------------------------------------------------------
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
        record: Json = {"envelope": envelope, "delivered": False, "sent_at": None}
        if options.get("response_id"):
            record["response_id"] = options["response_id"]  # where the ack payload of a slash command shows
        with self.lock:
            self._envelopes[envelope_id] = record
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

    def queue_envelope(self, envelope_type: str, payload: Json, **options: Any) -> str:
        """Queue an envelope for after the lock is released; without a socket it stays undelivered."""
        envelope_id = self._new_envelope(envelope_type, payload, **options)
        self.deferred.add(lambda: self._deliver(envelope_id) and None)
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
        self.deferred.run()
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

    # --- connection trouble ----------------------------------------------------------------------
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
