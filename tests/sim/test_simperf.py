"""Simulator hot paths: batched websocket writes, pong timeout, cached book views.

The websocket tests use a bare wsproto client over a real loopback socket, so
the client decides whether it answers server pings.
"""

from __future__ import annotations

from decimal import Decimal

import trio
from hypothesis import given, settings
from hypothesis import strategies as st
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

from connector.sim import bybit, okx
from connector.sim.faults import FaultInjector
from connector.sim.server import Router, VenueServer, WsConnection, WsSettings
from connector.sim.standalone import run
from tests.sim.sync_bybit_okx import OkxBook, okx_follow


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
                for _ in range(10):
                    hub.step(25, market="spot", native_id="BTC-USDT")
                    await okx_follow(ws, book, "BTC-USDT", sim.update_id("okx", "spot", "BTC-USDT"))
            bids, asks = sim.engine_book("okx", "spot", "BTC-USDT", 400)
            assert ([(b.price, b.qty) for b in bids], [(a.price, a.qty) for a in asks]) == (
                book.levels()
            )
            assert book.updates >= 200
            assert book.updates + 1 == book.checksums_verified


# Views of one side: distinct prices, each with a size; ``reverse`` orders bids.
_sides = st.dictionaries(
    st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=5), max_size=15
)


def _bybit_view(levels: dict[int, int], reverse: bool) -> list[tuple[Decimal, str, str]]:
    return [(Decimal(p), str(p), str(q)) for p, q in sorted(levels.items(), reverse=reverse)]


def _apply(view: dict[str, str], entries: list[tuple[str, str]]) -> dict[str, str]:
    out = dict(view)
    for price, size in entries:
        if size == "0":
            out.pop(price, None)
        else:
            out[price] = size
    return out


@settings(max_examples=150, deadline=None)
@given(old=_sides, new=_sides, reverse=st.booleans())
def test_bybit_delta_turns_the_old_view_into_the_new_in_book_order(
    old: dict[int, int], new: dict[int, int], reverse: bool
) -> None:
    before = _bybit_view(old, reverse)
    after = _bybit_view(new, reverse)
    entries = bybit._diff(before, after, reverse=reverse)
    prices = [Decimal(p) for p, _ in entries]
    assert {str(p): str(q) for p, q in new.items()} == _apply(
        {str(p): str(q) for p, q in old.items()}, entries
    )
    assert sorted(prices, reverse=reverse) == prices
    assert len(set(prices)) == len(prices)
    assert (old == new) == (not entries)


@settings(max_examples=150, deadline=None)
@given(old=_sides, new=_sides, reverse=st.booleans())
def test_okx_update_turns_the_old_view_into_the_new_in_book_order(
    old: dict[int, int], new: dict[int, int], reverse: bool
) -> None:
    def view(levels: dict[int, int]) -> list[tuple[Decimal, str, str, str]]:
        return [
            (Decimal(p), str(p), str(q), "1") for p, q in sorted(levels.items(), reverse=reverse)
        ]

    entries = okx._diff(view(old), view(new), reverse=reverse)
    pairs = [(p, q) for p, q, _, _ in entries]
    assert {str(p): str(q) for p, q in new.items()} == _apply(
        {str(p): str(q) for p, q in old.items()}, pairs
    )
    prices = [Decimal(p) for p, _ in pairs]
    assert sorted(prices, reverse=reverse) == prices
    assert all(n == ("0" if q == "0" else "1") for _, q, _, n in entries)
