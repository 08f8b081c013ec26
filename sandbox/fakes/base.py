"""What every loopback vendor fake shares: routing, a request log, fault injection, an adjustable clock, the
vendors' rate limits (off unless asked for) and waiting on conditions.

A fake is a real HTTP(S) server on 127.0.0.1 (ephemeral port by default) so that the real client
libraries talk to it over real sockets. Subclasses add routes and keep vendor state under `self.lock`.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

T = TypeVar("T")


@dataclass
class FakeRequest:
    """One request as the fake received it (kept in `FakeService.requests`)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    at: float = field(default_factory=time.time)
    status: int = 0  # filled in once answered

    @property
    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def form(self) -> dict[str, str]:
        """Form-encoded body fields (last value wins)."""
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def q(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def q_list(self, name: str) -> list[str]:
        """All values of a query parameter, accepting both `name[]` and `name`."""
        return self.query.get(name + "[]", []) + self.query.get(name, [])

    def args(self) -> dict[str, Any]:
        """Query, form and JSON-object fields merged (JSON wins), as Slack's Web API reads them."""
        merged: dict[str, Any] = {k: v[-1] for k, v in self.query.items()}
        merged.update(self.form)
        body = self.json
        if isinstance(body, dict):
            merged.update(body)
        return merged

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class FakeResponse:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Fault:
    """An injected misbehaviour for requests matching `path` (a regex searched in the path)."""

    path: str
    method: str | None = None
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    times: int = 1  # how many requests it hits; -1 = until cleared

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None


Handler = Callable[..., FakeResponse | dict | list | tuple]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 refused connections when a busy bot opened several at once

    def __init__(self, address: tuple[str, int], service: FakeService, ssl_context: ssl.SSLContext | None):
        self.service = service
        self.ssl_context = ssl_context
        super().__init__(address, _RequestHandler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, on the connection's own thread, so a slow client never blocks accept().
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                self.shutdown_request(request)
                return
        super().process_request_thread(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: Nagle would add ~40 ms each
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fake's request log is the record; stderr noise helps nobody

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = FakeRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response = self.server.service.handle(request)
        if response is None:  # dropped connection
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.encoded()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class FakeService:
    """Base class of every vendor fake. Subclasses call `self.add_route` in `setup_routes`."""

    name = "fake"
    scheme_path = ""  # path prefix the real client uses, e.g. "/api/v3" for GitHub Enterprise-style URLs

    def __init__(self, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None):
        self.host = host
        self._requested_port = port
        self.ssl_context = ssl_context
        self.lock = threading.RLock()
        self._changed = threading.Condition()
        self.requests: list[FakeRequest] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self._clock_offset = 0.0
        self.vendor_limits = False  # the vendor's rate limits; see `enforce_vendor_limits`
        self.observers: list[Callable[[FakeRequest], None]] = []  # told of every answered request (transcripts)
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.setup_routes()

    # --- lifecycle -------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        """Subclasses register their routes here."""

    def start(self) -> FakeService:
        self._server = _Server((self.host, self._requested_port), self, self.ssl_context)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "fake not started"
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL a client is configured with."""
        return self.origin + self.scheme_path

    # --- clock -----------------------------------------------------------------------------------
    def now(self) -> float:
        """The vendor's clock: real time, moved by `advance` so tests can jump to a shift change or a window."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._clock_offset += seconds
        self.notify()

    # --- vendor limits ---------------------------------------------------------------------------
    def enforce_vendor_limits(self, on: bool = True) -> None:
        """Answer like the vendor does past its rate limits (off by default so the suite stays fast).

        Subclasses extend this to switch on their own limits; tests opt in and move the clock with `advance`."""
        with self.lock:
            self.vendor_limits = on

    # --- routing ---------------------------------------------------------------------------------
    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        with self.lock:
            self.requests.append(request)
            fault = self._take_fault(request)
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay:
            time.sleep(delay)  # injected latency is the point here
        if fault is not None and fault.drop:
            self.notify()
            return None
        if fault is not None and fault.status:
            response = FakeResponse(
                fault.status,
                fault.body if fault.body is not None else self.error_body(fault.status),
                dict(fault.headers),
            )
        else:
            response = self._route(request)
        request.status = response.status
        self.notify()
        for observer in list(self.observers):
            with contextlib.suppress(Exception):  # an observer must never break the fake
                observer(request)
        return response

    def _route(self, request: FakeRequest) -> FakeResponse:
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            path_matched = True
            if method != request.method:
                continue
            try:
                with self.lock:
                    result = handler(request, **match.groupdict())
            except FakeError as error:
                return FakeResponse(
                    error.status,
                    error.body if error.body is not None else self.error_body(error.status, error.message),
                    error.headers,
                )
            return self._as_response(result)
        return self.unknown_route(request, path_matched)

    @staticmethod
    def _as_response(result: FakeResponse | dict | list | tuple) -> FakeResponse:
        if isinstance(result, FakeResponse):
            return result
        if isinstance(result, tuple):
            status, body, *rest = result
            return FakeResponse(status, body, rest[0] if rest else {})
        return FakeResponse(200, result)

    def unknown_route(self, request: FakeRequest, path_matched: bool) -> FakeResponse:
        """A missing route fails loudly in the vendor's own error shape."""
        status = 405 if path_matched else 404
        return FakeResponse(status, self.error_body(status, f"{request.method} {request.path} is not emulated"))

    def error_body(self, status: int, message: str = "") -> Any:
        """The vendor's error body shape; subclasses override."""
        return {"error": message or f"HTTP {status}"}

    # --- faults ----------------------------------------------------------------------------------
    def inject_fault(
        self,
        path: str,
        status: int = 500,
        *,
        method: str | None = None,
        times: int = 1,
        retry_after: float | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> Fault:
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
        fault = Fault(path, method, status, body, all_headers, delay, drop, times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.latency = 0.0

    def _take_fault(self, request: FakeRequest) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request.method, request.path):
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    # --- observing -------------------------------------------------------------------------------
    def calls(self, method: str | None = None, path: str | None = None) -> list[FakeRequest]:
        """Recorded requests, filtered by method and a regex searched in the path."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or re.search(path, r.path))
            ]

    def reset_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def notify(self) -> None:
        """Wake everybody waiting in `wait_for` (call after any state change made outside `handle`)."""
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, message: str = "") -> T:
        """Wait until `predicate()` is truthy and return its value; raise AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"{self.name} fake: timed out after {timeout}s waiting for {message or predicate}"
                    )
                self._changed.wait(min(remaining, 0.05))

    def wait_for_calls(self, method: str | None, path: str, count: int = 1, timeout: float = 10.0) -> list[FakeRequest]:
        """Wait until at least `count` matching requests were answered; return them."""

        def answered() -> list[FakeRequest] | None:
            found = [r for r in self.calls(method, path) if r.status]
            return found if len(found) >= count else None

        return self.wait_for(answered, timeout, f"{count} × {method or '*'} {path}")


class SlidingWindowLimit:
    """Vendor rate limits as sliding windows: at most `limit` accepted requests per `window` seconds for each key.

    Only accepted requests count, as with the vendors' limiters, so a client that waits out the Retry-After gets
    through. Times come from the fake's clock (`FakeService.now`). Callers hold the fake's lock.
    """

    def __init__(self) -> None:
        self._accepted: dict[Hashable, deque[float]] = {}

    def admit(self, key: Hashable, limit: int, window: float, now: float) -> float:
        """0.0 if the request may go ahead (it is counted), else the seconds until the window lets one more in."""
        wait = self.wait(key, limit, window, now)
        if not wait:
            self._accepted[key].append(now)
        return wait

    def wait(self, key: Hashable, limit: int, window: float, now: float) -> float:
        """Like `admit`, without counting the request."""
        accepted = self._accepted.setdefault(key, deque())
        while accepted and accepted[0] <= now - window:
            accepted.popleft()
        return accepted[0] + window - now if len(accepted) >= limit else 0.0

    def count(self, key: Hashable, window: float, now: float) -> int:
        """How many requests for `key` were accepted in the last `window` seconds."""
        return sum(1 for at in self._accepted.get(key, ()) if at > now - window)

    def reset(self) -> None:
        self._accepted.clear()


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, rounded up, at least 1 (as Slack, Zendesk and Statuspage send)."""
    return str(max(1, math.ceil(seconds - 1e-9)))


class FakeError(Exception):
    """Raised by a route handler to answer with an error status in the vendor's shape."""

    def __init__(self, status: int, message: str = "", body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body
        self.headers = headers or {}


def iso(ts: float | None = None) -> str:
    """UTC ISO-8601 timestamp with a Z, as most vendors write them."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))
