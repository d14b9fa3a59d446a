"""ASGI middleware in front of the web UI: closed routes, a request body limit, login throttling.

Gradio serves routes the UnionQA page never uses; ``Guard`` wraps the whole ASGI app (pass it
through ``launch(app_kwargs={"middleware": [...]})``) and, before any route runs:

- answers 404 for ``closed`` paths (the file-upload route: the page has no upload component, and
  Gradio's upload route accepts files from any page with no login) — unless ``upload_limit`` is set
  (the 文档管理 tab, shown only behind a login or on loopback), when the upload route takes bodies
  up to that many bytes;
- answers 413 for a request body over ``max_body`` bytes, by its Content-Length or, for a chunked
  body, as soon as the bytes read pass the limit (the app's largest request is a question of a few
  hundred characters);
- throttles password guesses per client address: after ``free_failures`` failed logins, each
  further failure locks that address out of ``/login`` for twice as long as the last (1 s, 2 s,
  4 s … up to ``max_lockout`` s) and answers 429 with Retry-After until then; a success clears it.

It has no Gradio dependency; ``tests/test_guard.py`` drives it with raw ASGI calls and
``tests/test_ui.py`` against the real server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CLOSED_PATHS = ("/gradio_api/upload", "/upload")
LOGIN_PATHS = ("/login", "/login/")
MAX_BODY = 64 * 1024


class _TooLarge(Exception):
    pass


class LoginThrottle:
    """Failed-login bookkeeping per client address (thread-safe; ``clock`` injectable for tests)."""

    def __init__(self, free_failures: int = 5, max_lockout: float = 300.0, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.max_lockout = max_lockout
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, float]] = {}  # client → (failures, locked until)

    def retry_after(self, client: str) -> float:
        """Seconds ``client`` must wait before its next login attempt (0 when it may try now)."""
        with self._lock:
            _, until = self._state.get(client, (0, 0.0))
        return max(0.0, until - self.clock())

    def failed(self, client: str) -> None:
        with self._lock:
            if client not in self._state and len(self._state) >= self.max_clients:
                now = self.clock()  # forget the clients whose lockout has passed, oldest first
                for k in [k for k, (_, until) in self._state.items() if until <= now][: self.max_clients // 2]:
                    del self._state[k]
            n, _ = self._state.get(client, (0, 0.0))
            n += 1
            wait = 0.0 if n < self.free_failures else min(self.max_lockout, 2.0 ** (n - self.free_failures))
            self._state[client] = (n, self.clock() + wait)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._state.pop(client, None)


class Guard:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, closed: tuple[str, ...] = CLOSED_PATHS, max_body: int = MAX_BODY,
                 throttle: LoginThrottle | None = None, upload_limit: int = 0) -> None:
        self.app = app
        self.closed = closed
        self.max_body = max_body
        self.upload_limit = upload_limit
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.max_body
        if any(path == p or path.startswith(p + "/") for p in self.closed):
            if not self.upload_limit:
                await _plain(send, 404, "not found")
                return
            limit = self.upload_limit
        length = _content_length(scope)
        if length is not None and length > limit:
            await _plain(send, 413, f"request body over {limit} bytes")
            return
        if scope.get("method") == "POST" and path in LOGIN_PATHS:
            await self._login(scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app, failing the request with 413 as soon as its body passes ``limit``."""
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _plain(send, 413, f"request body over {limit} bytes")

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.retry_after(client)
        if wait > 0:
            await _plain(send, 429, "too many failed logins; try again later",
                         [(b"retry-after", str(int(wait) + 1).encode())])
            return
        status = 0

        async def watching_send(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        await self._bounded(scope, receive, watching_send, self.max_body)
        if 200 <= status < 300:
            self.throttle.succeeded(client)
        elif 400 <= status < 500:
            self.throttle.failed(client)


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", ()):
        if k.lower() == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())] + (headers or [])})
    await send({"type": "http.response.body", "body": body})
