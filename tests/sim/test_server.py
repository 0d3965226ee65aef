"""A venue server's ASGI app driven directly, without sockets (as an in-memory transport does)."""

from __future__ import annotations

from typing import Any

import trio

from connector.sim.faults import FaultInjector, FaultPlan
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.server import VenueServer
from connector.sim.ws import WsConnection


def _server(plan: FaultPlan | None = None) -> VenueServer:
    router = Router()

    async def hello(req: Request) -> Response:
        return json_response({"q": req.query.get("q")}, headers=(("X-Test", "1"),))

    async def echo(conn: WsConnection) -> None:
        while (message := await conn.receive()) is not None:
            conn.send(f"echo {message!s}")
            if message == "bye":
                return

    router.get("/hello", hello)
    router.websocket("/ws", echo)
    return VenueServer("test", router, injector=FaultInjector(plan))


def _scope(kind: str, path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": kind,
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"sim")],
        "client": ("10.0.0.1", 5000),
    }


async def test_app_answers_a_rest_request_without_a_socket() -> None:
    server = _server()
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await server.app(_scope("http", "/hello", b"q=1"), receive, send)
    assert 200 == sent[0]["status"]
    assert (b"X-Test", b"1") in sent[0]["headers"]
    assert {"type": "http.response.body", "body": b'{"q":"1"}'} == sent[1]
    assert 1 == server.statistics().requests


async def test_app_runs_a_websocket_session_until_the_handler_ends_it() -> None:
    server = _server()
    to_app_send, to_app = trio.open_memory_channel[dict[str, Any]](10)
    sent: list[dict[str, Any]] = []
    await to_app_send.send({"type": "websocket.connect"})
    await to_app_send.send({"type": "websocket.receive", "text": "hi"})
    await to_app_send.send({"type": "websocket.receive", "text": "bye"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await server.app(_scope("websocket", "/ws"), to_app.receive, send)
    assert [
        {"type": "websocket.accept"},
        {"type": "websocket.send", "text": "echo hi"},
        {"type": "websocket.send", "text": "echo bye"},
        {"type": "websocket.close", "code": 1000, "reason": ""},
    ] == sent
    assert (1, 0) == (server.statistics().connections_opened, server.statistics().connections_open)


async def test_app_ends_a_websocket_session_when_the_client_disconnects() -> None:
    server = _server()
    to_app_send, to_app = trio.open_memory_channel[dict[str, Any]](10)
    await to_app_send.send({"type": "websocket.connect"})
    await to_app_send.send({"type": "websocket.disconnect", "code": 1001})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await server.app(_scope("websocket", "/ws"), to_app.receive, send)
    assert [{"type": "websocket.accept"}] == sent
    assert {} == server.connections


async def test_app_refuses_a_handshake_in_a_refusal_window() -> None:
    server = _server(FaultPlan().refuse_connections(60.0))
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with trio.fail_after(5):
        await server.app(_scope("websocket", "/ws"), receive, send)
    assert 503 == sent[0]["status"]
    assert 1 == server.statistics().connections_refused


def _answer_length(data: bytes) -> int | None:
    """The length of the HTTP/1.1 answer (head and body) at the start of ``data``, or
    None while its head has not all arrived."""
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep:
        return None
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")[1:]
        if line.lower().startswith(b"content-length:")
    )
    return len(head) + len(sep) + length


async def test_an_answer_arrives_head_and_body_in_one_read() -> None:
    # A venue's front end sends a small answer at once; hypercorn alone writes the
    # head and the body separately, with the scheduler between, so a client could
    # read the head alone. Every answer of a keep-alive connection comes whole in the
    # first read that returns anything.
    server = _server()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            port = int(server.base_url.rsplit(":", 1)[1])
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            for i in range(30):
                await stream.send_all(f"GET /hello?q={i} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
                first = await stream.receive_some(65536)
                assert first.startswith(b"HTTP/1.1 200 ")
                assert len(first) == _answer_length(first)
                assert first.endswith(b'{"q":"%d"}' % i)
            # An answer hypercorn makes itself (a request it cannot parse) is not held.
            await stream.send_all(b"NOT HTTP\r\n\r\n")
            rest = b""
            while chunk := await stream.receive_some(65536):
                rest += chunk
            assert rest.startswith(b"HTTP/1.1 400 ")
            await stream.aclose()
            nursery.cancel_scope.cancel()
