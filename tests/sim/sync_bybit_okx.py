"""Independent clients of the documented Bybit v5 and OKX v5 book procedures.

Written from the venues' docs only (httpx + trio-websocket + the standard
library); they import nothing from ``connector`` so a misunderstanding in the
simulator cannot hide in shared code.

* Bybit: subscribe ``orderbook.{depth}.{symbol}``; a ``snapshot`` replaces the
  book; each ``delta`` must have ``u == previous u + 1`` (size ``"0"`` deletes
  a level); a snapshot with ``u == 1`` is a service restart and replaces the
  book too.
* OKX: subscribe ``books`` and buffer its updates; fetch
  ``GET /api/v5/market/books?instId=...&sz=400`` (fetch again while its
  ``seqId`` is older than the first buffered ``prevSeqId``); drop buffered
  updates with ``seqId <=`` the snapshot's; the first applied must satisfy
  ``prevSeqId <= snapshot seqId < seqId``; then each ``update`` must have
  ``prevSeqId == previous seqId`` (``seqId == prevSeqId`` is a no-change
  update). Before August 2026 a pushed ``snapshot`` (``prevSeqId == -1``)
  replaced the REST step; it is still accepted. When ``checksum`` is non-zero
  it must equal the CRC32 (signed 32-bit) of the top 25 bids and asks
  interleaved as ``bid:size:ask:size...``, strings as received.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection, open_websocket_url


class SyncError(Exception):
    """The stream broke the documented sequencing rule."""


class ChecksumMismatch(SyncError):
    """An OKX message's checksum does not match the rebuilt book."""


class BybitBook:
    """A Bybit v5 local book kept by the documented rules."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, str] = {}
        self.asks: dict[Decimal, str] = {}
        self.u: int | None = None
        self.seq: int | None = None
        self.snapshots = 0
        self.deltas = 0
        self.restarts = 0

    def on_message(self, msg: dict[str, Any]) -> None:
        data = msg["data"]
        if msg["type"] == "snapshot":
            if data["u"] == 1 and self.u is not None:
                self.restarts += 1
            self.bids = {Decimal(p): q for p, q in data["b"]}
            self.asks = {Decimal(p): q for p, q in data["a"]}
            self.snapshots += 1
        elif msg["type"] == "delta":
            if self.u is None:
                raise SyncError("delta before any snapshot")
            if data["u"] != self.u + 1:
                raise SyncError(f"gap: expected u={self.u + 1}, got {data['u']}")
            for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
                for p, q in levels:
                    if Decimal(q) == 0:
                        side.pop(Decimal(p), None)
                    else:
                        side[Decimal(p)] = q
            self.deltas += 1
        else:
            raise SyncError(f"unknown type {msg['type']!r}")
        self.u = data["u"]
        self.seq = data["seq"]

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """``(bids best first, asks best first)`` as Decimals."""
        bids = [(p, Decimal(self.bids[p])) for p in sorted(self.bids, reverse=True)]
        asks = [(p, Decimal(self.asks[p])) for p in sorted(self.asks)]
        return bids, asks


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """The documented OKX checksum of levels given best first as received strings."""
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(bids[i][0] + ":" + bids[i][1])
        if i < len(asks):
            parts.append(asks[i][0] + ":" + asks[i][1])
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


class OkxBook:
    """An OKX v5 ``books`` local book kept by the documented rules."""

    def __init__(self, *, verify_checksum: bool = True, max_buffer: int = 1000) -> None:
        self.verify_checksum = verify_checksum
        self.max_buffer = max_buffer
        self.bids: dict[Decimal, tuple[str, str]] = {}
        self.asks: dict[Decimal, tuple[str, str]] = {}
        self.seq: int | None = None
        self.buffer: list[dict[str, Any]] = []
        self._first_pending = False
        self.snapshots = 0
        self.pushed_snapshots = 0
        self.updates = 0
        self.empty_updates = 0
        self.checksums_verified = 0

    def on_message(self, msg: dict[str, Any]) -> None:
        data = msg["data"][0]
        if msg["action"] == "snapshot":
            if data["prevSeqId"] != -1:
                raise SyncError("snapshot without prevSeqId -1")
            self._replace(data)
            self.pushed_snapshots += 1
            self.buffer.clear()
            self._first_pending = False
            self._check(data)
        elif self.seq is None:
            if len(self.buffer) >= self.max_buffer:
                raise SyncError("buffer overflow before a snapshot")
            self.buffer.append(data)
        elif self._first_pending:
            if data["seqId"] <= self.seq:
                return  # older than the snapshot
            self._first_pending = False
            self._apply(data, first=True)
        else:
            self._apply(data, first=False)

    def load_snapshot(self, data: dict[str, Any]) -> bool:
        """Align to a REST book (``data[0]``); False when it is too old (fetch again)."""
        seq = data["seqId"]
        if self.buffer and seq < self.buffer[0]["prevSeqId"]:
            return False
        self._replace(data)
        pending = [d for d in self.buffer if d["seqId"] > seq]
        self.buffer.clear()
        # With nothing buffered past the snapshot, the next update is the first applied.
        self._first_pending = not pending
        for i, update in enumerate(pending):
            self._apply(update, first=i == 0)
        return True

    def _replace(self, data: dict[str, Any]) -> None:
        self.bids = {Decimal(p): (p, q) for p, q, _, _ in data["bids"]}
        self.asks = {Decimal(p): (p, q) for p, q, _, _ in data["asks"]}
        self.seq = data["seqId"]
        self.snapshots += 1

    def _apply(self, data: dict[str, Any], *, first: bool) -> None:
        assert self.seq is not None
        if first:
            if not data["prevSeqId"] <= self.seq < data["seqId"]:
                raise SyncError(
                    f"first update {data['prevSeqId']}->{data['seqId']} misses snapshot {self.seq}"
                )
        elif data["prevSeqId"] != self.seq:
            raise SyncError(f"gap: prevSeqId {data['prevSeqId']} != last seqId {self.seq}")
        if data["seqId"] == data["prevSeqId"]:
            self.empty_updates += 1
        for side, levels in ((self.bids, data["bids"]), (self.asks, data["asks"])):
            for p, q, _, _ in levels:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = (p, q)
        self.updates += 1
        self.seq = data["seqId"]
        self._check(data)

    def _check(self, data: dict[str, Any]) -> None:
        if self.verify_checksum and data.get("checksum", 0) != 0:
            bids = [self.bids[p] for p in sorted(self.bids, reverse=True)[:25]]
            asks = [self.asks[p] for p in sorted(self.asks)[:25]]
            expected = okx_checksum(bids, asks)
            if expected != data["checksum"]:
                raise ChecksumMismatch(f"checksum {data['checksum']} != computed {expected}")
            self.checksums_verified += 1

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """``(bids best first, asks best first)`` as Decimals."""
        bids = [(p, Decimal(self.bids[p][1])) for p in sorted(self.bids, reverse=True)]
        asks = [(p, Decimal(self.asks[p][1])) for p in sorted(self.asks)]
        return bids, asks


async def next_json(ws: WebSocketConnection) -> Any:
    """The next frame, decoded."""
    return json.loads(await ws.get_message())


async def bybit_subscribe(ws: WebSocketConnection, *topics: str) -> dict[str, Any]:
    """Send a subscribe op and return its reply (data frames before it are skipped)."""
    await ws.send_message(json.dumps({"op": "subscribe", "args": list(topics)}))
    while True:
        msg = await next_json(ws)
        if msg.get("op") == "subscribe":
            return dict(msg)


async def bybit_follow(
    ws: WebSocketConnection, book: BybitBook, topic: str, until_seq: int
) -> None:
    """Apply ``topic`` messages to ``book`` until its ``seq`` reaches ``until_seq``."""
    while book.seq is None or book.seq < until_seq:
        msg = await next_json(ws)
        if msg.get("topic") == topic:
            book.on_message(msg)


async def okx_follow(ws: WebSocketConnection, book: OkxBook, inst_id: str, until_seq: int) -> None:
    """Apply ``books`` messages of ``inst_id`` until the book's ``seqId`` reaches ``until_seq``."""
    while book.seq is None or book.seq < until_seq:
        msg = await next_json(ws)
        arg = msg.get("arg", {})
        if "action" in msg and arg.get("channel") == "books" and arg.get("instId") == inst_id:
            book.on_message(msg)


async def okx_rest_book(rest: str, inst_id: str, sz: int = 400) -> dict[str, Any]:
    """``GET /api/v5/market/books`` ``data[0]``."""
    async with httpx.AsyncClient(base_url=rest) as client:
        r = await client.get("/api/v5/market/books", params={"instId": inst_id, "sz": sz})
    body = r.json()
    if body["code"] != "0":
        raise SyncError(f"REST error {body}")
    return dict(body["data"][0])


async def okx_align(
    ws: WebSocketConnection, rest: str, book: OkxBook, inst_id: str
) -> dict[str, Any]:
    """Buffer ``books`` updates until one arrives, then align the book to the REST book.

    Returns the REST ``data[0]`` the book was aligned to.
    """
    while True:
        while not book.buffer and book.seq is None:
            msg = await next_json(ws)
            arg = msg.get("arg", {})
            if "action" in msg and arg.get("channel") == "books" and arg.get("instId") == inst_id:
                book.on_message(msg)
        if book.seq is not None:
            raise SyncError("a snapshot was pushed")
        snapshot = await okx_rest_book(rest, inst_id)
        if book.load_snapshot(snapshot):
            return snapshot
        await trio.sleep(0.05)  # the REST book lags the stream: ask again


async def bybit_rest_book(rest: str, category: str, symbol: str, limit: int) -> dict[str, Any]:
    """``GET /v5/market/orderbook`` result."""
    async with httpx.AsyncClient(base_url=rest) as client:
        r = await client.get(
            "/v5/market/orderbook", params={"category": category, "symbol": symbol, "limit": limit}
        )
    body = r.json()
    if body["retCode"] != 0:
        raise SyncError(f"REST error {body}")
    return dict(body["result"])


__all__ = [
    "BybitBook",
    "ChecksumMismatch",
    "OkxBook",
    "SyncError",
    "bybit_follow",
    "bybit_rest_book",
    "bybit_subscribe",
    "next_json",
    "okx_align",
    "okx_checksum",
    "okx_follow",
    "okx_rest_book",
    "open_websocket_url",
    "trio",
]
