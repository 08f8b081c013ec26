"""The opt-in HTTP intake for monitoring systems on the internal network: `POST /dispatch` with a bearer token.

Off unless DISPATCH_HTTP_PORT is set; bound to 127.0.0.1 unless DISPATCH_HTTP_HOST says otherwise. The token is
checked (in constant time) before the body is read, so a caller without it can store nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.settings import SettingsError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
PATH = "/dispatch"

# body -> (HTTP status, JSON answer)
Submit = Callable[[bytes], tuple[int, dict[str, Any]]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    token: bytes
    submit: Submit


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("dispatch intake: " + format, *args)  # never the headers: they carry the token

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization") or ""
        scheme, _, credential = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode(), self.server.token)

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/") != PATH:
            self.close_connection = True
            self._answer(404, {"error": f"not found: POST {PATH} is the only endpoint"})
            return
        if not self._authorized():
            self.close_connection = True  # the unread body must not be taken for the next request
            self._answer(
                401, {"error": "missing or wrong bearer token"}, {"WWW-Authenticate": 'Bearer realm="dispatch"'}
            )
            return
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self.close_connection = True
            self._answer(411, {"error": "a Content-Length header is required"})
            return
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(413, {"error": f"the message is larger than {MAX_BODY_BYTES} bytes"})
            return
        body = self.rfile.read(length)
        try:
            status, answer = self.server.submit(body)
        except Exception:
            log.exception("dispatch intake: could not accept a message")
            status, answer = 500, {"error": "internal error; the message was not accepted, send it again"}
        self._answer(status, answer)

    def _not_allowed(self) -> None:
        self.close_connection = True
        status, headers = (405, {"Allow": "POST"}) if self.path.split("?", 1)[0].rstrip("/") == PATH else (404, {})
        self._answer(status, {"error": f"use POST {PATH}"}, headers)

    do_GET = do_PUT = do_PATCH = do_DELETE = _not_allowed


class IntakeServer:
    def __init__(self, host: str, port: int, token: str, submit: Submit):
        self.host = host
        self.port = port
        self._token = token.encode()
        self._submit = submit
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as error:
            raise SettingsError(
                f"DISPATCH_HTTP_PORT {self.port} on {self.host} cannot be used: {error.strerror or error}"
            ) from error
        server.token = self._token
        server.submit = self._submit
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.2,), name="dispatch-intake", daemon=True)
        self._thread.start()
        log.info("dispatch: HTTP intake listening on http://%s:%d%s", self.host, self.bound_port, PATH)

    @property
    def bound_port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
