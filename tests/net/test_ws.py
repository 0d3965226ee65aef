"""WsConnection against a real trio-websocket server on loopback."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Hashable, Sequence

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from connector.model import ConnectionEvent, ConnectionStatus
from connector.net.ws import (
    ConnectionBudget,
    Heartbeat,
    StatusCallback,
    Watchdog,
    WsConnection,
)
from connector.supervision.backoff import Backoff


@attrs.define
class Recorder:
    subscriptions: list[str] = attrs.field(factory=lambda: ['{"op":"subscribe"}'])
    frames: list[str | bytes] = attrs.field(factory=list)
    opens: int = 0
    closes: list[str] = attrs.field(factory=list)
    stale: list[Hashable] = attrs.field(factory=list)
    watchdog: Watchdog | None = None

    def on_open(self) -> Sequence[str]:
        self.opens += 1
        return self.subscriptions

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> None:
        self.frames.append(data)
        if self.watchdog is not None and isinstance(data, str) and data.startswith("sym:"):
            self.watchdog.touch(data[4:], trio.current_time())

    def on_stale(self, key: Hashable) -> None:
        self.stale.append(key)

    def on_close(self, reason: str) -> None:
        self.closes.append(reason)


class Server:
    """A scripted venue: each connection gets its frames, then is closed while
    scripts remain; the last connection stays open. Records what it receives."""

    def __init__(self) -> None:
        self.received: list[str | bytes] = []
        self.connections = 0
        self.script: list[list[str]] = []

    async def handler(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        self.connections += 1
        frames = self.script.pop(0) if self.script else []
        close_after = bool(self.script)
        async with trio.open_nursery() as nursery:

            async def reader() -> None:
                with contextlib.suppress(ConnectionClosed):
                    while True:
                        self.received.append(await ws.get_message())
                nursery.cancel_scope.cancel()

            nursery.start_soon(reader)
            with contextlib.suppress(ConnectionClosed):
                for frame in frames:
                    await ws.send_message(frame)
                await trio.sleep(0.01)
                if close_after:
                    await ws.aclose()


async def _serve(nursery: trio.Nursery, server: Server) -> str:
    listener = await nursery.start(serve_websocket, server.handler, "127.0.0.1", 0, None)
    port = listener.port
    return f"ws://127.0.0.1:{port}/ws"


def _conn(
    url: str, handler: Recorder, on_status: StatusCallback | None = None, **kw: object
) -> WsConnection:
    return WsConnection(
        venue="test",
        conn_id="c1",
        url=url,
        handler=handler,
        heartbeat=kw.pop("heartbeat", Heartbeat(interval=20, ping='{"op":"ping"}', timeout=60)),  # type: ignore[arg-type]
        on_status=on_status,
        budget=ConnectionBudget("test"),
        backoff=Backoff(initial=0.05, maximum=0.2, jitter=0.1),
        rng=random.Random(1),
        **kw,  # type: ignore[arg-type]
    )


async def test_ws_reconnects_and_resubscribes_after_close() -> None:
    server = Server()
    server.script = [["a", "b"], ["c"], []]
    handler = Recorder()
    send_event, events = trio.open_memory_channel[ConnectionEvent](100)
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, server)
            conn = _conn(url, handler, send_event.send_nowait)
            await nursery.start(conn.run)
            seen: list[ConnectionStatus] = []
            async for event in events:
                assert isinstance(event, ConnectionEvent)
                seen.append(event.status)
                if seen.count(ConnectionStatus.CONNECTED) == 3:
                    break
            await trio.sleep(0.05)
            assert ["a", "b", "c"] == handler.frames[:3]
            assert 3 == handler.opens
            assert 2 <= len(handler.closes)
            assert server.received.count('{"op":"subscribe"}') >= 3
            nursery.cancel_scope.cancel()


async def test_ws_sends_application_ping_when_idle(autojump_clock: trio.abc.Clock) -> None:
    server = Server()
    handler = Recorder()
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, server)
        conn = _conn(
            url, handler, None, heartbeat=Heartbeat(interval=20, ping="ping", timeout=1000)
        )
        await nursery.start(conn.run)
        await trio.sleep(65)
        assert 3 == server.received.count("ping")
        nursery.cancel_scope.cancel()


async def test_ws_reconnects_when_venue_goes_silent(autojump_clock: trio.abc.Clock) -> None:
    server = Server()
    handler = Recorder()
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, server)
        conn = _conn(url, handler, None, heartbeat=Heartbeat(interval=1000, ping=None, timeout=30))
        await nursery.start(conn.run)
        await trio.sleep(31)
        assert handler.closes and handler.closes[0].startswith("no data for")
        nursery.cancel_scope.cancel()


async def test_ws_watchdog_reports_each_quiet_subscription_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = Server()
    server.script = []
    handler = Recorder()
    handler.watchdog = Watchdog(after=5.0)
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, server)
        conn = _conn(url, handler, None, watchdog=handler.watchdog)
        await nursery.start(conn.run)
        await trio.sleep(0.1)
        handler.watchdog.touch("BTC", trio.current_time())
        handler.watchdog.touch("ETH", trio.current_time() + 3)
        await trio.sleep(5.5)
        assert ["BTC"] == handler.stale
        await trio.sleep(10)
        assert ["BTC", "ETH"] == handler.stale
        nursery.cancel_scope.cancel()


async def test_ws_watchdog_alarm_runs_on_a_quiet_socket_once_and_forget_cancels_it(
    autojump_clock: trio.abc.Clock,
) -> None:
    server = Server()
    handler = Recorder()
    watchdog = Watchdog(after=60.0)
    rang: list[str] = []
    async with trio.open_nursery() as nursery:
        url = await _serve(nursery, server)
        conn = _conn(url, handler, None, watchdog=watchdog)
        await nursery.start(conn.run)
        await trio.sleep(0.1)
        now = trio.current_time()
        watchdog.alarm("BTC", now + 0.05, lambda: rang.append("BTC"))
        watchdog.alarm("ETH", now + 0.02, lambda: rang.append("ETH early"))
        watchdog.alarm("ETH", now + 0.04, lambda: rang.append("ETH"))  # replaces the first
        watchdog.alarm("SOL", now + 0.03, lambda: rang.append("SOL"))
        watchdog.forget("SOL")
        await trio.sleep(1.0)  # no frame comes meanwhile
        assert ["ETH", "BTC"] == rang
        assert [] == handler.frames
        nursery.cancel_scope.cancel()
