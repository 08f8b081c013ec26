"""The opt-in HTTP intake for monitoring systems: `POST /dispatch` with a bearer token, optionally over HTTPS.

Off unless DISPATCH_HTTP_PORT is set; bound to 127.0.0.1 unless DISPATCH_HTTP_HOST says otherwise. Built to survive
hostile clients on the network:

- One asyncio loop in one thread reads every connection, so an idle or slow connection costs a socket, not a
  thread. At most `max_connections` are open at once; any further connection is closed at once, so a flood cannot
  use up the file descriptors SQLite, Socket Mode and the vendor clients need.
- The TLS handshake, request line and headers must arrive within `header_timeout` seconds and the body within
  `body_timeout`, or the connection is closed.
- The token is checked (in constant time) before the body is read, so a caller without it can store nothing. After
  `failures_allowed` wrong tokens within `failure_window` seconds, an address gets 429 with Retry-After for every
  request (its token is not even looked at) until the oldest of those failures ages out.
- Accepted bodies are handed to at most `max_handlers` threads (they write to SQLite); when all are busy the answer
  is an immediate 503 with Retry-After.
- Only `Content-Length` bodies (ASCII digits, at most 1 MiB); the `Server` header names no versions.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from bot.dispatch.rules import intake_lockout
from bot.settings import SettingsError
from bot.text import quoted

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_HEAD_BYTES = 16 * 1024  # request line and headers
PATH = "/dispatch"
SERVER_NAME = "switchboard-dispatch"

# Defaults of `Limits`; tests pass shorter ones.
HEADER_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 30.0
MAX_CONNECTIONS = 512  # well under the usual 1024 file descriptors a process may open
MAX_HANDLERS = 32
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 60.0
LINGER_SECONDS = 2.0  # after an error answer, how long what the client still sends is read and dropped
MAX_TRACKED_ADDRESSES = 10_000  # addresses with recent wrong tokens kept in memory at most
REFUSAL_LOG_SECONDS = 60.0  # a flood is logged once a minute, not once per connection

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts "²", which int() then refuses
_TOKEN_CHARS = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name or method

# body -> (HTTP status, JSON answer)
Submit = Callable[[bytes], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Limits:
    header_timeout: float = HEADER_TIMEOUT_SECONDS
    body_timeout: float = BODY_TIMEOUT_SECONDS
    max_connections: int = MAX_CONNECTIONS
    max_handlers: int = MAX_HANDLERS
    failures_allowed: int = FAILURES_ALLOWED
    failure_window: float = FAILURE_WINDOW_SECONDS


@dataclass
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def keeps_alive(self) -> bool:
        connection = (self.header("connection") or "").lower()
        return self.version == "HTTP/1.1" and "close" not in connection


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = True  # errors close the connection: an unread body must not be taken for the next request

    def encode(self) -> bytes:
        payload = json.dumps(self.body).encode()
        lines = [
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}",
            f"Server: {SERVER_NAME}",
            f"Date: {formatdate(usegmt=True)}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(payload)}",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        if self.close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


def parse_head(head: bytes) -> Request | None:
    """The request line and headers, or None when they are not HTTP/1.x."""
    lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN_CHARS.fullmatch(parts[0]) or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        return None
    request = Request(parts[0], parts[1].split("?", 1)[0].rstrip("/"), parts[2])
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN_CHARS.fullmatch(name):  # also refuses folded lines (obsolete, smuggling risk)
            return None
        request.headers.setdefault(name.lower(), []).append(value.strip(" \t"))
    return request


def content_length(request: Request) -> Reply | int:
    """The body's length, or the answer refusing it."""
    values = request.headers.get("content-length") or []
    if "transfer-encoding" in request.headers or not values:
        return Reply(411, {"error": "a Content-Length header is required"})
    if len(values) > 1 or not _DIGITS.fullmatch(values[0]):
        return Reply(400, {"error": "Content-Length must be one number of bytes (ASCII digits)"})
    length = int(values[0])
    if length > MAX_BODY_BYTES:
        return Reply(413, {"error": f"the message is larger than {MAX_BODY_BYTES} bytes"})
    return length


class WrongTokens:
    """Recent wrong tokens per address (used on the event loop's thread only: no lock)."""

    def __init__(self, allowed: int, window: float):
        self.allowed = allowed
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def wait(self, address: str, now: float) -> float:
        """Seconds this address must wait before its token is looked at again (0: go ahead)."""
        failures = self._seen.get(address)
        if failures is None:
            return 0.0
        wait = intake_lockout(failures, now, self.allowed, self.window)
        if not wait and all(at <= now - self.window for at in failures):
            del self._seen[address]
        return wait

    def record(self, address: str, now: float) -> None:
        if address not in self._seen and len(self._seen) >= MAX_TRACKED_ADDRESSES:
            self._seen.pop(next(iter(self._seen)))  # the address that failed first: memory stays bounded
        self._seen.setdefault(address, deque(maxlen=self.allowed)).append(now)


class IntakeServer:
    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        submit: Submit,
        *,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        limits: Limits | None = None,
    ):
        self.host = host
        self.port = port
        self.limits = limits or Limits()
        self._token = token.encode()
        self._submit = submit
        self._tls_files = (tls_cert, tls_key) if tls_cert and tls_key else None
        self._tls: ssl.SSLContext | None = None
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._handlers: ThreadPoolExecutor | None = None
        self._stopping: asyncio.Event | None = None
        self._wrong_tokens = WrongTokens(self.limits.failures_allowed, self.limits.failure_window)
        self._open = 0  # connections being served (event loop thread only)
        self._busy = 0  # handler threads in use (event loop thread only)
        self._refused = 0
        self._refusal_logged = 0.0
        self._ready = threading.Event()

    # --- life cycle (the bot's thread) ----------------------------------------------------------------
    def start(self) -> None:
        """Bind (errors are SettingsErrors naming the setting), then serve on a thread of its own."""
        if self._tls_files is not None:
            self._tls = _tls_context(*self._tls_files)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            listener = socket.create_server((self.host, self.port), family=family, backlog=128)
        except OSError as error:
            raise SettingsError(
                f"DISPATCH_HTTP_PORT {self.port} on {self.host} cannot be used: {error.strerror or error}"
            ) from error
        listener.setblocking(False)
        self._listener = listener
        self._handlers = ThreadPoolExecutor(self.limits.max_handlers, thread_name_prefix="dispatch-intake-handler")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dispatch-intake", daemon=True)
        self._thread.start()
        self._ready.wait()
        scheme = "https" if self._tls else "http"
        log.info("dispatch: HTTP intake listening on %s://%s:%d%s", scheme, self.host, self.bound_port, PATH)

    @property
    def bound_port(self) -> int:
        assert self._listener is not None
        return int(self._listener.getsockname()[1])

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        stopping = self._stopping
        if stopping is not None:
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        loop.close()
        if self._handlers is not None:
            self._handlers.shutdown(wait=True)  # a message being accepted is finished before the store closes
        if self._listener is not None:
            self._listener.close()

    def _run(self) -> None:
        assert self._loop is not None
        self._loop.run_until_complete(self._serve_until_stopped())

    async def _serve_until_stopped(self) -> None:
        self._stopping = asyncio.Event()
        self._ready.set()
        connections: set[asyncio.Task[None]] = set()
        accepting = asyncio.create_task(self._accept(connections))
        await self._stopping.wait()
        accepting.cancel()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(accepting, *connections, return_exceptions=True)

    # --- connections (the event loop's thread) ------------------------------------------------------
    async def _accept(self, connections: set[asyncio.Task[None]]) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None
        while True:
            try:
                conn, address = await loop.sock_accept(self._listener)
            except OSError as error:  # e.g. out of file descriptors: wait a moment rather than spin
                log.warning("dispatch intake: cannot accept a connection: %s", error)
                await asyncio.sleep(0.5)
                continue
            if self._open >= self.limits.max_connections:
                conn.close()  # refused at once
                self._note_refusal()
                continue
            self._open += 1
            conn.setblocking(False)
            task = loop.create_task(self._connection(conn, str(address[0])))
            connections.add(task)
            task.add_done_callback(connections.discard)

    def _note_refusal(self) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._refusal_logged >= REFUSAL_LOG_SECONDS:
            self._refusal_logged = now
            log.warning(
                "dispatch intake: %d connection(s) refused: %d already open (the limit)",
                self._refused,
                self.limits.max_connections,
            )
            self._refused = 0

    async def _connection(self, conn: socket.socket, address: str) -> None:
        loop = asyncio.get_running_loop()
        writer: asyncio.StreamWriter | None = None
        finished = False
        try:
            deadline = loop.time() + self.limits.header_timeout  # the handshake and the first request's head
            async with asyncio.timeout_at(deadline):
                reader, writer = await self._streams(conn)
            while await self._exchange(reader, writer, address, deadline):
                deadline = loop.time() + self.limits.header_timeout
            finished = True
        except (OSError, asyncio.IncompleteReadError):
            pass  # too slow (TimeoutError), gone, or not speaking HTTP(S): closed below, nothing to answer
        except Exception:  # a bug must cost one connection, never the intake
            log.exception("dispatch intake: a connection from %s failed", address)
        finally:
            self._open -= 1
            if writer is None:
                conn.close()
            elif finished:
                writer.close()
            else:
                writer.transport.abort()  # do not wait for a client that stopped reading

    async def _streams(self, conn: socket.socket) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_HEAD_BYTES)
        protocol = asyncio.StreamReaderProtocol(reader)
        tls_timeout = self.limits.header_timeout if self._tls else None  # also how long a TLS close may take
        transport, _ = await loop.connect_accepted_socket(
            lambda: protocol, conn, ssl=self._tls, ssl_handshake_timeout=tls_timeout, ssl_shutdown_timeout=tls_timeout
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str, deadline: float
    ) -> bool:
        """One request and its answer; True when the connection stays open for another."""
        try:
            async with asyncio.timeout_at(deadline):
                head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            return await self._send(writer, Reply(431, {"error": "the request headers are too large"}), reader)
        except asyncio.IncompleteReadError as ended:
            if ended.partial.strip():
                log.debug("dispatch intake: %s closed the connection mid-request", address)
            return False
        request = parse_head(head)
        if request is None:
            return await self._send(writer, Reply(400, {"error": "not an HTTP/1.1 request"}), reader)
        reply = await self._answer(request, reader, writer, address)
        log.debug("dispatch intake: %s %s %s: %d", address, request.method, quoted(request.path), reply.status)
        return await self._send(writer, reply, reader)

    async def _send(
        self, writer: asyncio.StreamWriter, reply: Reply, reader: asyncio.StreamReader | None = None
    ) -> bool:
        """Write the answer; True when the connection stays open for another request."""
        writer.write(reply.encode())
        async with asyncio.timeout(self.limits.body_timeout):
            await writer.drain()
        if reply.close and reader is not None:
            await _linger(reader, writer)
        return not reply.close

    async def _answer(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
    ) -> Reply:
        if request.method != "POST":
            if request.path == PATH:
                return Reply(405, {"error": f"use POST {PATH}"}, (("Allow", "POST"),))
            return Reply(404, {"error": f"use POST {PATH}"})
        if request.path != PATH:
            return Reply(404, {"error": f"not found: POST {PATH} is the only endpoint"})
        now = time.monotonic()
        wait = self._wrong_tokens.wait(address, now)
        if wait:
            seconds = max(1, int(wait + 0.999))
            error = f"too many wrong tokens from this address; try again in {seconds} s"
            return Reply(429, {"error": error}, (("Retry-After", str(seconds)),))
        if not self._authorized(request):
            self._wrong_tokens.record(address, now)
            log.warning("dispatch intake: wrong or missing bearer token from %s", address)
            challenge = (("WWW-Authenticate", 'Bearer realm="dispatch"'),)
            return Reply(401, {"error": "missing or wrong bearer token"}, challenge)
        length = content_length(request)
        if isinstance(length, Reply):
            return length
        if (request.header("expect") or "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        async with asyncio.timeout(self.limits.body_timeout):
            body = await reader.readexactly(length)
        if self._busy >= self.limits.max_handlers:
            return Reply(503, {"error": "busy; send the message again in a moment"}, (("Retry-After", "1"),))
        self._busy += 1
        try:
            status, answer = await asyncio.get_running_loop().run_in_executor(self._handlers, self._accept_body, body)
        finally:
            self._busy -= 1
        return Reply(status, answer, close=not request.keeps_alive)

    def _accept_body(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """On a handler thread."""
        try:
            return self._submit(body)
        except Exception:
            log.exception("dispatch intake: could not accept a message")
            return 500, {"error": "internal error; the message was not accepted, send it again"}

    def _authorized(self, request: Request) -> bool:
        scheme, _, credential = (request.header("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode("latin-1"), self._token)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Before closing after an answer: stop writing, then drop what the client is still sending (an unread body)
    for a moment. Closing with unread data would reset the connection, and the client would lose the answer."""
    if writer.can_write_eof():
        writer.write_eof()
    try:
        async with asyncio.timeout(LINGER_SECONDS):
            while await reader.read(65536):
                pass
    except (OSError, asyncio.IncompleteReadError):
        pass  # gone, or still sending after the moment: closed anyway


def _tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # TLS 1.2 at least
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or error
        raise SettingsError(f"DISPATCH_HTTP_TLS_CERT and DISPATCH_HTTP_TLS_KEY cannot be used: {reason}") from error
    return context
