"""RpcClient: request/reply correlation over a WsConnection on the in-memory transport."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence

import pytest
import trio
import trio.testing

from connector.errors import ConnectionLost, RateLimited, RequestTimeout
from connector.net.rpc import RpcClient, RpcReply
from connector.net.ws import Answer, ConnectionBudget, Heartbeat, WsConnection
from connector.supervision.backoff import Backoff
from connector.testing import MemoryPeer, MemoryTransport


def reply_id(data: str | bytes) -> str | None:
    """The test venue's replies: JSON objects with ``"id"``; pushes have none."""
    value = json.loads(data)
    request_id = value.get("id") if isinstance(value, dict) else None
    return str(request_id) if request_id is not None else None


def request(method: str) -> Callable[[str], str]:
    def build(request_id: str) -> str:
        return json.dumps({"id": request_id, "method": method})

    return build


class RpcHandler:
    """Routes replies to the rpc client, everything else to ``pushes``."""

    def __init__(self) -> None:
        self.rpc: RpcClient | None = None
        self.pushes: list[str | bytes] = []

    def on_open(self) -> Sequence[str]:
        return ()

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        assert self.rpc is not None
        if not self.rpc.on_frame(data, ts_recv_ns):
            self.pushes.append(data)
        return None

    def on_stale(self, key: object) -> None:
        pass

    def on_close(self, reason: str) -> None:
        assert self.rpc is not None
        self.rpc.connection_lost(reason)


async def _setup(
    nursery: trio.Nursery,
    *,
    max_in_flight: int = 10,
    call_timeout: float = 5.0,
    refuse: str | None = None,
) -> tuple[RpcClient, RpcHandler, MemoryTransport, WsConnection]:
    transport = MemoryTransport()
    transport.refuse(refuse)
    handler = RpcHandler()
    conn = WsConnection(
        venue="test",
        conn_id="rpc",
        url="ws://venue.test/api",
        handler=handler,
        heartbeat=Heartbeat(interval=1000.0, timeout=1000.0),
        budget=ConnectionBudget("test"),
        transport=transport,
        backoff=Backoff(initial=1.0, maximum=1.0, jitter=0.0),
        rng=random.Random(1),
    )
    handler.rpc = RpcClient(
        send=conn.send_request,
        reply_id=reply_id,
        venue="test",
        timeout=call_timeout,
        max_in_flight=max_in_flight,
    )
    await nursery.start(conn.run)
    return handler.rpc, handler, transport, conn


async def _requests(peer: MemoryPeer, n: int) -> list[dict[str, str]]:
    return [json.loads(await peer.receive()) for _ in range(n)]


async def test_replies_in_any_order_reach_their_own_callers(
    autojump_clock: trio.abc.Clock,
) -> None:
    results: dict[str, RpcReply] = {}
    async with trio.open_nursery() as nursery:
        rpc, handler, transport, conn = await _setup(nursery)
        peer = await transport.accept()
        await conn.wait_ready()

        async def call(method: str) -> None:
            results[method] = await rpc.call(request(method))

        started_ns = time.time_ns()
        async with trio.open_nursery() as calls:
            for method in ("a", "b", "c"):
                calls.start_soon(call, method)
            sent = await _requests(peer, 3)
            await peer.send(json.dumps({"event": "push"}))
            for req in reversed(sent):
                await peer.send(json.dumps({"id": req["id"], "result": req["method"].upper()}))

        assert {"a": "A", "b": "B", "c": "C"} == {
            m: json.loads(r.data)["result"] for m, r in results.items()
        }
        assert len({r.request_id for r in results.values()}) == 3
        # Stamped by the transport just before each frame's write, before its reply.
        assert all(started_ns <= r.ts_sent_ns <= r.ts_recv_ns for r in results.values())
        assert [json.dumps({"event": "push"})] == handler.pushes
        stats = rpc.statistics()
        assert (3, 3, 0) == (stats.calls, stats.replies, stats.in_flight)
        nursery.cancel_scope.cancel()


async def test_call_without_reply_times_out_and_a_late_reply_is_dropped(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        rpc, handler, transport, conn = await _setup(nursery)
        peer = await transport.accept()
        await conn.wait_ready()
        start = trio.current_time()

        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await rpc.call(request("order"), within=2.0)

        assert 2.0 == pytest.approx(trio.current_time() - start)
        (sent,) = await _requests(peer, 1)
        await peer.send(json.dumps({"id": sent["id"], "result": "late"}))
        await trio.sleep(0.1)
        stats = rpc.statistics()
        assert (1, 1, 0, 0) == (stats.timeouts, stats.late_replies, stats.replies, stats.in_flight)
        assert [] == handler.pushes
        nursery.cancel_scope.cancel()


async def test_disconnect_fails_every_pending_call_and_ids_never_repeat(
    autojump_clock: trio.abc.Clock,
) -> None:
    failures: list[BaseException] = []
    async with trio.open_nursery() as nursery:
        rpc, _, transport, conn = await _setup(nursery)
        first = await transport.accept()
        await conn.wait_ready()

        async def call() -> None:
            try:
                await rpc.call(request("order"))
            except ConnectionLost as exc:
                failures.append(exc)

        nursery.start_soon(call)
        nursery.start_soon(call)
        old_ids = {r["id"] for r in await _requests(first, 2)}
        first.close(1001, "going away")
        second = await transport.accept()
        await conn.wait_ready()

        assert 2 == len(failures)
        assert all("outcome unknown" in str(e) for e in failures)
        assert all("1001 going away" in str(e) for e in failures)
        assert (2, 0) == (rpc.statistics().lost, rpc.statistics().in_flight)

        async with trio.open_nursery() as inner:
            replies: list[RpcReply] = []

            async def answered() -> None:
                replies.append(await rpc.call(request("status")))

            inner.start_soon(answered)
            (sent,) = await _requests(second, 1)
            await second.send(json.dumps({"id": sent["id"], "result": "ok"}))

        assert sent["id"] not in old_ids
        assert [sent["id"]] == [r.request_id for r in replies]
        nursery.cancel_scope.cancel()


async def test_call_on_a_connection_that_is_not_ready_fails_before_sending(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with trio.open_nursery() as nursery:
        rpc, _, _, conn = await _setup(nursery, refuse="HTTP 503")
        await trio.sleep(0.5)

        with pytest.raises(ConnectionLost, match="not ready"):
            await rpc.call(request("order"))

        assert (0, 1, 0) == (
            conn.statistics().frames_sent,
            rpc.statistics().lost,
            rpc.statistics().in_flight,
        )
        nursery.cancel_scope.cancel()


async def test_calls_beyond_the_bound_wait_for_a_slot_or_are_not_sent(
    autojump_clock: trio.abc.Clock,
) -> None:
    outcomes: dict[str, str] = {}
    async with trio.open_nursery() as nursery:
        rpc, _, transport, conn = await _setup(nursery, max_in_flight=2, call_timeout=10.0)
        peer = await transport.accept()
        await conn.wait_ready()

        async def call(method: str, within: float) -> None:
            try:
                reply = await rpc.call(request(method), within=within)
                outcomes[method] = json.loads(reply.data)["result"]
            except RateLimited as exc:
                assert exc.local  # our own bound refused it: nothing was sent
                outcomes[method] = f"not sent: {exc}"

        nursery.start_soon(call, "a", 10.0)
        nursery.start_soon(call, "b", 10.0)
        first_two = await _requests(peer, 2)
        nursery.start_soon(call, "c", 10.0)
        nursery.start_soon(call, "d", 1.0)
        await trio.sleep(2)  # "d" gives up waiting for a slot; "c" still waits

        assert "not sent" in outcomes["d"]
        assert 2 == rpc.statistics().in_flight

        await peer.send(json.dumps({"id": first_two[0]["id"], "result": "A"}))
        (third,) = await _requests(peer, 1)
        assert "c" == third["method"]
        await peer.send(json.dumps({"id": third["id"], "result": "C"}))
        await peer.send(json.dumps({"id": first_two[1]["id"], "result": "B"}))
        await trio.sleep(0.1)

        assert {"A", "B", "C"} == {outcomes["a"], outcomes["b"], outcomes["c"]}
        stats = rpc.statistics()
        assert (4, 3, 1, 0) == (stats.calls, stats.replies, stats.not_sent, stats.in_flight)
        nursery.cancel_scope.cancel()


async def test_wait_idle_returns_once_every_call_written_is_answered(
    autojump_clock: trio.abc.Clock,
) -> None:
    idle_at: list[float] = []
    async with trio.open_nursery() as nursery:
        rpc, _handler, transport, conn = await _setup(nursery)
        peer = await transport.accept()
        await conn.wait_ready()
        with trio.testing.assert_checkpoints():
            await rpc.wait_idle()  # nothing in flight: at once

        async def idle() -> None:
            await rpc.wait_idle()
            idle_at.append(trio.current_time())

        async with trio.open_nursery() as calls:
            for method in ("a", "b"):
                calls.start_soon(rpc.call, request(method))
            sent = await _requests(peer, 2)
            calls.start_soon(idle)
            await trio.sleep(1.0)
            await peer.send(json.dumps({"id": sent[0]["id"], "result": "A"}))
            await trio.sleep(1.0)
            assert [] == idle_at  # one call still waits for its reply
            answered = trio.current_time()
            await peer.send(json.dumps({"id": sent[1]["id"], "result": "B"}))
        assert [answered] == pytest.approx(idle_at, abs=0.01)
        nursery.cancel_scope.cancel()
