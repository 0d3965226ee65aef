"""Simulator hot paths: batched websocket writes, pong timeout, immediate book updates.

The websocket tests use a bare wsproto client over a real loopback socket, so
the client decides whether it answers server pings.
"""

from __future__ import annotations

import trio
from trio_websocket import open_websocket_url
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Event,
    Ping,
    Request,
    TextMessage,
)

from connector.sim.faults import FaultInjector
from connector.sim.http import Router
from connector.sim.server import VenueServer
from connector.sim.standalone import run
from connector.sim.ws import WsConnection, WsSettings
from tests.sim.sync_bybit_okx import OkxBook, okx_follow, okx_rest_book


class RawClient:
    """A minimal websocket client that answers pings only when told to."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pings = 0
        self.texts: list[str] = []
        self.close: CloseConnection | None = None

    @classmethod
    async def connect(cls, url: str, path: str) -> RawClient:
        host, port = url.removeprefix("ws://").split(":")
        client = cls(await trio.open_tcp_stream(host, int(port)))
        await client.stream.send_all(client.ws.send(Request(host=host, target=path)))
        while not any(isinstance(e, AcceptConnection) for e in await client.read()):
            pass
        return client

    async def read(self, *, answer_pings: bool = False) -> list[Event]:
        """Events of one socket read; an empty list once the server dropped the socket."""
        data = await self.stream.receive_some(1 << 16)
        if not data:
            return []
        self.ws.receive_data(data)
        events = list(self.ws.events())
        for event in events:
            if isinstance(event, Ping):
                self.pings += 1
                if answer_pings:
                    await self.stream.send_all(self.ws.send(event.response()))
            elif isinstance(event, TextMessage):
                self.texts.append(event.data)
            elif isinstance(event, CloseConnection):
                self.close = event
        return events or [Ping()]  # a read that produced no complete event yet


async def serve(
    nursery: trio.Nursery,
    settings: WsSettings,
    handler_frames: int = 0,
    close_after: bool = False,
) -> tuple[str, dict[int, WsConnection]]:
    """A VenueServer with one websocket path; returns its ws URL and a record of connections."""
    seen: dict[int, WsConnection] = {}

    async def handler(conn: WsConnection) -> None:
        seen[conn.conn_id] = conn
        for i in range(handler_frames):
            conn.send(f'{{"n":{i}}}', stream="test")
        if close_after:
            conn.close(1000, "bye")
        while await conn.receive() is not None:
            pass

    router = Router()
    router.websocket("/ws", handler)
    server = VenueServer("test", router, injector=FaultInjector(None), ws_settings=settings)
    base: str = await nursery.start(server.run)
    return base.replace("http://", "ws://", 1), seen


def test_ws_settings_pong_timeout_defaults_to_three_ping_intervals() -> None:
    assert 60.0 == WsSettings(ping_interval=20.0).read_timeout()
    assert 600.0 == WsSettings(ping_interval=180.0, pong_timeout=600.0).read_timeout()
    assert WsSettings().read_timeout() is None


async def test_server_drops_a_client_that_never_answers_pings() -> None:
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url, seen = await serve(nursery, WsSettings(ping_interval=0.1, pong_timeout=0.5))
            client = await RawClient.connect(url, "/ws")
            start = trio.current_time()
            while await client.read():
                pass
            elapsed = trio.current_time() - start
            await trio.sleep(0.05)
            assert client.pings >= 2
            assert 0.4 < elapsed < 3.0
            assert [1006] == [c.close_code for c in seen.values()]
            nursery.cancel_scope.cancel()


async def test_server_keeps_a_client_that_answers_pings() -> None:
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url, seen = await serve(nursery, WsSettings(ping_interval=0.1, pong_timeout=0.5))
            client = await RawClient.connect(url, "/ws")
            with trio.move_on_after(1.5):
                while await client.read(answer_pings=True):
                    pass
                raise AssertionError("the server dropped a client that answered its pings")
            assert client.pings >= 5
            assert [False] == [c.closed for c in seen.values()]
            nursery.cancel_scope.cancel()


async def test_server_writes_every_queued_frame_in_order_then_the_close() -> None:
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url, seen = await serve(nursery, WsSettings(), handler_frames=3000, close_after=True)
            client = await RawClient.connect(url, "/ws")
            while client.close is None and await client.read():
                pass
            assert [f'{{"n":{i}}}' for i in range(3000)] == client.texts
            assert client.close is not None
            assert (1000, "bye") == (client.close.code, client.close.reason)
            assert [3000] == [c.frames_sent for c in seen.values()]
            nursery.cancel_scope.cancel()


async def test_server_batches_frames_for_a_trio_websocket_client_too() -> None:
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url, _ = await serve(nursery, WsSettings(), handler_frames=500)
            async with open_websocket_url(url + "/ws") as ws:
                got = [await ws.get_message() for _ in range(500)]
            assert [f'{{"n":{i}}}' for i in range(500)] == got
            nursery.cancel_scope.cancel()


async def test_okx_immediate_books_updates_rebuild_the_engine_book_with_checksums() -> None:
    with trio.fail_after(20):
        async with run(
            venues=("okx",), paused=True, okx_checksum=True, settings={"okx": {"immediate": True}}
        ) as sim:
            hub = sim.venue("okx")
            url = sim.urls["okx"]["spot.ws"] + "/ws/v5/public"
            async with open_websocket_url(url) as ws:
                await ws.send_message(
                    '{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}'
                )
                book = OkxBook()
                # No snapshot is pushed: align to the REST book (nothing buffered yet).
                rest = sim.urls["okx"]["spot.rest"]
                assert book.load_snapshot(await okx_rest_book(rest, "BTC-USDT"))
                for _ in range(10):
                    hub.step(25, market="spot", native_id="BTC-USDT")
                    await okx_follow(ws, book, "BTC-USDT", sim.update_id("okx", "spot", "BTC-USDT"))
            bids, asks = sim.engine_book("okx", "spot", "BTC-USDT", 400)
            assert ([(b.price, b.qty) for b in bids], [(a.price, a.qty) for a in asks]) == (
                book.levels()
            )
            assert book.updates >= 200
            assert book.updates == book.checksums_verified
