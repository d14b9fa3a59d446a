"""unionqa.web.guard on raw ASGI calls: closed upload route, body limit, login throttling (issue 12 items 6, 7)."""

from __future__ import annotations

import asyncio
from typing import Any

from unionqa.web.guard import Guard, LoginThrottle


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A stand-in app: reads the whole body; /login succeeds only for the body b"good"."""
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    status = 200 if scope["path"] != "/login" or body == b"good" else 400
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"app:" + str(len(body)).encode()})


def _call(guard: Guard, path: str, body: bytes = b"", method: str = "POST", client: str = "1.2.3.4",
          chunks: int = 1, length: bool = True) -> tuple[int, bytes, dict[bytes, bytes]]:
    headers = [(b"content-length", str(len(body)).encode())] if length else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers, "client": (client, 5000)}
    size = max(1, len(body) // chunks)
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    queue = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(msg: dict[str, Any]) -> None:
        out.append(msg)

    asyncio.run(guard(scope, receive, send))
    start = next(m for m in out if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in out), dict(start["headers"])


def test_upload_route_is_closed() -> None:
    g = Guard(_app)
    for path in ("/gradio_api/upload", "/upload", "/gradio_api/upload/x"):
        assert _call(g, path, b"x")[0] == 404
    assert _call(g, "/gradio_api/uploadx", b"x")[:2] == (200, b"app:1")
    assert _call(g, "/gradio_api/call/ask", b"x" * 100)[:2] == (200, b"app:100")


def test_body_limit_by_length_and_while_streaming() -> None:
    g = Guard(_app, max_body=1000)
    assert _call(g, "/gradio_api/call/ask", b"x" * 1000)[0] == 200
    assert _call(g, "/gradio_api/call/ask", b"x" * 1001)[0] == 413
    # chunked (no Content-Length): refused once the bytes read pass the limit
    assert _call(g, "/gradio_api/call/ask", b"x" * 5000, chunks=10, length=False)[0] == 413
    assert _call(g, "/gradio_api/call/ask", b"x" * 900, chunks=3, length=False)[0] == 200


def test_login_throttled_per_client_and_cleared_by_success() -> None:
    now = [1000.0]
    g = Guard(_app, throttle=LoginThrottle(free_failures=3, max_lockout=60, clock=lambda: now[0]))
    assert [_call(g, "/login", b"bad")[0] for _ in range(3)] == [400, 400, 400]
    status, body, headers = _call(g, "/login", b"good")  # locked out: the password is not even checked
    assert status == 429 and headers[b"retry-after"] == b"2" and b"app" not in body
    assert _call(g, "/login", b"bad", client="5.6.7.8")[0] == 400  # another client is not affected
    now[0] += 1.5
    assert _call(g, "/login", b"bad")[0] == 400  # 4th failure: 2 s
    assert _call(g, "/login", b"good")[0] == 429
    now[0] += 2.5
    assert _call(g, "/login", b"good")[0] == 200
    assert _call(g, "/login", b"bad")[0] == 400  # a success cleared the count
    assert _call(g, "/gradio_api/call/ask", b"q")[0] == 200  # other routes are never throttled


def test_lockout_doubles_up_to_the_cap_and_guesses_per_second_fall() -> None:
    now = [0.0]
    t = LoginThrottle(free_failures=1, max_lockout=60, clock=lambda: now[0])
    waits = []
    for _ in range(10):
        t.failed("c")
        waits.append(t.retry_after("c"))
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0] and waits[-1] == 60.0
    # an attacker who waits out every lockout gets 10 guesses in ~3 minutes, not 500 a second
    guesses, now[0] = 0, 0.0
    t2 = LoginThrottle(clock=lambda: now[0])
    while now[0] < 180:
        wait = t2.retry_after("a")
        if wait:
            now[0] += wait
            continue
        t2.failed("a")
        guesses += 1
    assert guesses <= 15


def test_many_clients_do_not_grow_without_bound() -> None:
    now = [0.0]
    t = LoginThrottle(free_failures=1, max_lockout=1, max_clients=100, clock=lambda: now[0])
    for i in range(1000):
        t.failed(f"c{i}")
        now[0] += 2
    assert len(t._state) <= 100
