"""The simulated network latency: what a venue sends reaches the client that much later.

The delay line is checked in virtual time (``autojump_clock``, the ASGI app
driven without sockets, as an in-memory transport does): every frame leaves
exactly its send time plus the latency, in order, so a burst is not
serialised. Over real sockets only lower bounds and order are asserted.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector import sim
from connector.errors import ConfigError
from connector.sim.binance import BinanceSettings
from connector.sim.bybit import BybitSettings
from connector.sim.faults import FaultInjector
from connector.sim.http import Request, Response, Router, json_response
from connector.sim.okx import OkxSettings
from connector.sim.server import VenueServer
from connector.sim.settings import FrontendSettings
from connector.sim.ws import WsConnection

LATENCY = 0.05

Sent = list[tuple[float, dict[str, Any]]]


def _server(latency: float, script: list[tuple[float, int]] | None = None) -> VenueServer:
    """A server with ``latency``: ``GET /hello`` answers at once; on ``/ws`` the handler
    sends ``count`` numbered frames at each ``(time, count)`` of ``script`` and closes; on
    ``/echo`` it answers a message ``N`` with the next ``N`` numbered frames."""

    async def hello(req: Request) -> Response:
        return json_response({"hello": True})

    async def burst(conn: WsConnection) -> None:
        n = 0
        for at, count in script or []:
            await trio.sleep_until(at)
            for _ in range(count):
                conn.send(str(n), stream="test")
                n += 1
        conn.close(1000, "bye")

    async def echo(conn: WsConnection) -> None:
        n = 0
        while (message := await conn.receive()) is not None:
            for _ in range(int(message)):
                conn.send(str(n), stream="test")
                n += 1

    router = Router()
    router.get("/hello", hello)
    router.websocket("/ws", burst)
    router.websocket("/echo", echo)
    return VenueServer("test", router, injector=FaultInjector(None), latency=latency)


def _scope(kind: str, path: str) -> dict[str, Any]:
    return {"type": kind, "method": "GET", "path": path, "query_string": b"", "headers": []}


async def _websocket(server: VenueServer) -> Sent:
    """The app's websocket messages, each with the (virtual) time it was sent."""
    to_app_send, to_app = trio.open_memory_channel[dict[str, Any]](1)
    await to_app_send.send({"type": "websocket.connect"})
    sent: Sent = []

    async def send(message: dict[str, Any]) -> None:
        sent.append((trio.current_time(), message))

    with trio.fail_after(60):
        await server.app(_scope("websocket", "/ws"), to_app.receive, send)
    return sent


async def test_a_burst_of_frames_arrives_latency_later_together_and_in_order(
    autojump_clock: trio.abc.Clock,
) -> None:
    start = trio.current_time()
    sent = await _websocket(_server(LATENCY, [(start, 100)]))
    frames = [(t, m["text"]) for t, m in sent if m["type"] == "websocket.send"]
    assert [str(n) for n in range(100)] == [text for _, text in frames]
    # Not one latency per frame: all 100 leave together, one latency after the send.
    assert {start + LATENCY} == {t for t, _ in frames}
    assert (start + LATENCY, "websocket.close") == (sent[-1][0], sent[-1][1]["type"])


async def test_frames_sent_later_leave_later_by_the_same_latency(
    autojump_clock: trio.abc.Clock,
) -> None:
    start = trio.current_time()
    # The second burst is sent while the first is still on its way.
    script = [(start, 3), (start + LATENCY / 2, 2), (start + 3 * LATENCY, 1)]
    sent = await _websocket(_server(LATENCY, script))
    frames = [(t - start, m["text"]) for t, m in sent if m["type"] == "websocket.send"]
    expected = [(LATENCY, "0"), (LATENCY, "1"), (LATENCY, "2")]
    expected += [(1.5 * LATENCY, "3"), (1.5 * LATENCY, "4"), (4 * LATENCY, "5")]
    assert expected == [(pytest.approx(t), text) for t, text in frames]


async def test_without_latency_frames_leave_when_sent(autojump_clock: trio.abc.Clock) -> None:
    start = trio.current_time()
    sent = await _websocket(_server(0.0, [(start, 5), (start + 1, 5)]))
    times = [t - start for t, m in sent if m["type"] == "websocket.send"]
    assert [0.0] * 5 + [pytest.approx(1.0)] * 5 == times


async def test_a_rest_answer_leaves_latency_after_the_request(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = _server(LATENCY)
    sent: Sent = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append((trio.current_time(), message))

    start = trio.current_time()
    with trio.fail_after(5):
        await server.app(_scope("http", "/hello"), receive, send)
    assert [start + LATENCY] * 2 == [t for t, _ in sent]
    assert b'{"hello":true}' == sent[1][1]["body"]


@pytest.mark.parametrize(
    ("venue", "cls"), [("binance", BinanceSettings), ("bybit", BybitSettings), ("okx", OkxSettings)]
)
@pytest.mark.parametrize("bad", [-0.01, "20ms", float("inf"), True])
def test_a_latency_that_is_not_seconds_is_refused(
    venue: str, cls: type[FrontendSettings], bad: object
) -> None:
    with pytest.raises(ConfigError, match=f"sim {venue}: latency must be a number of seconds"):
        cls.from_options({"latency": bad}, venue)
    assert 0.02 == cls.from_options({"latency": 0.02}, venue).latency
    assert 0.0 == cls().latency


#: Per venue: a market, a REST path, a websocket path, a control message and a text of its reply.
PROBES = {
    "binance": ("spot", "/api/v3/time", "/ws", '{"method":"LIST_SUBSCRIPTIONS","id":7}', '"id":7'),
    "bybit": ("linear", "/v5/market/time", "/v5/public/linear", '{"op":"ping"}', '"pong"'),
    "okx": ("spot", "/api/v5/public/time", "/ws/v5/public", "ping", "pong"),
}


@pytest.mark.parametrize("venue", sorted(PROBES))
async def test_every_venue_answers_no_sooner_than_its_latency_over_real_sockets(
    venue: str,
) -> None:
    market, rest_path, ws_path, request, reply = PROBES[venue]
    latency = 0.2
    with trio.fail_after(30):
        async with sim.run(venues=(venue,), settings={venue: {"latency": latency}}) as s:
            urls = s.urls[venue]
            async with httpx.AsyncClient(base_url=urls[f"{market}.rest"]) as client:
                start = trio.current_time()
                response = await client.get(rest_path)
                assert trio.current_time() - start >= latency
                assert 200 == response.status_code
            async with open_websocket_url(urls[f"{market}.ws"] + ws_path) as ws:
                start = trio.current_time()
                await ws.send_message(request)
                message = await ws.get_message()
                assert trio.current_time() - start >= latency
                assert reply in str(message)


async def test_frames_over_a_real_socket_keep_their_order_and_the_latency() -> None:
    latency = 0.1
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            base: str = await nursery.start(_server(latency).run)
            async with open_websocket_url(base.replace("http://", "ws://", 1) + "/echo") as ws:
                for first in (0, 200):
                    start = trio.current_time()
                    await ws.send_message("200")
                    texts = [str(await ws.get_message())]
                    assert trio.current_time() - start >= latency
                    texts += [str(await ws.get_message()) for _ in range(199)]
                    assert [str(n) for n in range(first, first + 200)] == texts
            nursery.cancel_scope.cancel()
