"""Websocket client CPU per received message: our transport against trio-websocket.

One process, one trio loop, loopback TCP. A wsproto server end (independent of
both clients) does the opening handshake; then the bench writes server frames
into the socket with a plain blocking ``sendall`` (no task of its own) and the
client under test receives them:

* ``single``: one frame written, one message received, repeated: every
  message takes its own socket read, as on a quiet stream (the common case
  for a venue's private stream, and the tick-to-order path);
* ``burst``: 50 frames written at once, 50 messages received: several frames
  per read, as on a busy market-data stream.

Clients: ``connector`` is ``WsClientTransport`` (what ``WsConnection`` uses;
it receives in the caller's task); ``trio-websocket`` is its
``open_websocket_url`` and ``get_message`` (a reader task parses with wsproto
and hands each message over a memory channel), the transport the connector
used before. The frame is a Bybit ``orderbook.50`` delta of about 300 bytes.

Each round runs both clients, alternating which goes first, and takes the
process CPU time (user + system) per message; the table gives the medians of
``--rounds`` rounds and the ratio. The writer's ``sendall`` is in both figures
alike. Prints a markdown table and rewrites the "Websocket client" section of
docs/benchmarks.md (between ``<!-- bench:ws_receive -->`` markers).

Usage: ``python bench/ws_receive.py [--messages 20000] [--rounds 5] [--no-write]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import statistics
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import trio
import trio_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._docs import write_section
from connector.net.ws_transport import WsClientTransport

FRAME_TEXT = (
    '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1733212345678,"data":{"s":"BTCUSDT",'
    '"b":[["96512.30","0.412"],["96511.90","0"],["96509.10","1.250"]],"a":[["96512.40","0.088"],'
    '["96513.00","2.104"],["96515.60","0"]],"u":48213377,"seq":92817741123},'
    '"cts":1733212345671}'
)
BURST = 50


def _frame(text: str) -> bytes:
    """One unmasked server text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    n = len(payload)
    head = bytes((0x81, n)) if n < 126 else bytes((0x81, 126)) + n.to_bytes(2, "big")
    return head + payload


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


Receive = Callable[[], Awaitable[object]]


@asynccontextmanager
async def connector_client(url: str) -> AsyncIterator[Receive]:
    async with WsClientTransport().connect(url) as ws:
        yield ws.receive


@asynccontextmanager
async def trio_websocket_client(url: str) -> AsyncIterator[Receive]:
    async with trio_websocket.open_websocket_url(url) as ws:
        yield ws.get_message


CLIENTS = {"connector": connector_client, "trio-websocket": trio_websocket_client}


async def _accept(listener: trio.SocketListener) -> socket.socket:
    """Accept one client and answer its handshake; a blocking socket to write frames with."""
    stream = await listener.accept()
    server = WSConnection(ConnectionType.SERVER)
    while True:
        server.receive_data(await stream.receive_some(65536))
        if any(isinstance(e, Request) for e in server.events()):
            break
    await stream.send_all(server.send(AcceptConnection()))
    raw = socket.socket(fileno=os.dup(stream.socket.fileno()))
    raw.setblocking(True)
    await trio.lowlevel.checkpoint()
    return raw


async def run_once(client: str, mode: str, messages: int) -> float:
    """CPU microseconds per message for one client in one mode."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/bench"
    batch = 1 if mode == "single" else BURST
    data = _frame(FRAME_TEXT) * batch
    accepted, raw_socket = trio.open_memory_channel[socket.socket](1)
    async with trio.open_nursery() as nursery:

        async def accept() -> None:
            await accepted.send(await _accept(listener))

        nursery.start_soon(accept)
        async with CLIENTS[client](url) as receive:
            raw = await raw_socket.receive()
            for _ in range(100):  # warm up
                raw.sendall(data)
                for _ in range(batch):
                    await receive()
            cpu0 = cpu_seconds()
            for _ in range(messages // batch):
                raw.sendall(data)
                for _ in range(batch):
                    message = await receive()
            cpu = cpu_seconds() - cpu0
            assert message == FRAME_TEXT
            raw.close()
            nursery.cancel_scope.cancel()
    await listener.aclose()
    return cpu / (messages // batch * batch) * 1e6


async def measure(messages: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    results: dict[tuple[str, str], list[float]] = {}
    for i in range(rounds):
        for mode in ("single", "burst"):
            order = list(CLIENTS) if i % 2 == 0 else list(reversed(CLIENTS))
            for client in order:
                us = await run_once(client, mode, messages)
                results.setdefault((client, mode), []).append(us)
                print(f"round {i + 1} {mode:6} {client:15} {us:6.2f} µs/msg", file=sys.stderr)
    return results


def render(results: dict[tuple[str, str], list[float]], messages: int, rounds: int) -> str:
    lines = [
        "| mode | connector (µs CPU/msg) | trio-websocket (µs CPU/msg) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for mode in ("single", "burst"):
        ours = statistics.median(results[("connector", mode)])
        theirs = statistics.median(results[("trio-websocket", mode)])
        lines.append(f"| {mode} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |")
    load = os.getloadavg()[0]
    lines.append("")
    lines.append(
        f"{messages:,} messages of {len(FRAME_TEXT)} bytes per run, medians of {rounds} "
        f"interleaved rounds; Python {platform.python_version()}, load average {load:.1f}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results = trio.run(measure, args.messages, args.rounds)
    table = render(results, args.messages, args.rounds)
    print(table)
    if not args.no_write:
        write_section("ws_receive", "Websocket client", table)


if __name__ == "__main__":
    main()
