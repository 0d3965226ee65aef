"""Binance's documented order-book sync procedures, written independently.

Plain functions over httpx and trio-websocket; nothing from ``connector.venues``
(or any other client code of this project) is imported, so a misunderstanding
of the protocol cannot hide in both the simulator and the client.

Spot ("How to manage a local order book correctly"):
  1. open ``<sym>@depth`` and buffer events; note ``U`` of the first one;
  2. GET ``/api/v3/depth?symbol=<SYM>&limit=5000``;
  3. if ``lastUpdateId < U`` of the first buffered event, fetch again;
  4. drop buffered events with ``u <= lastUpdateId``;
  5. the first applied event must have ``U <= lastUpdateId + 1 <= u``;
  6. each later event must have ``U == previous u + 1``;
  7. set each level's quantity, removing levels with quantity 0.

USDⓈ-M: the same, with ``/fapi/v1/depth?limit=1000``, the first applied event
``U <= lastUpdateId <= u`` and later events ``pu == previous u``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import attrs
import httpx
import trio
from trio_websocket import open_websocket_url


class SyncBroken(Exception):
    """The stream did not follow the documented sequencing rules."""


@attrs.define
class LocalBook:
    """A book rebuilt from a snapshot and diff events."""

    last_update_id: int
    bids: dict[Decimal, Decimal]
    asks: dict[Decimal, Decimal]
    events_applied: int = 0

    def apply_levels(self, side: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
        for price_s, qty_s in levels:
            price, qty = Decimal(price_s), Decimal(qty_s)
            if qty == 0:
                side.pop(price, None)
            else:
                side[price] = qty

    def sorted_bids(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.bids.items(), reverse=True)

    def sorted_asks(self) -> list[tuple[Decimal, Decimal]]:
        return sorted(self.asks.items())


async def sync_book(
    market: str,
    rest_url: str,
    ws_url: str,
    symbol: str,
    *,
    events: int,
    final_update_id: Callable[[], int],
    stream_suffix: str = "@depth@100ms",
) -> LocalBook:
    """Rebuild ``symbol``'s book, apply ``events`` diffs, then stop at a final id.

    After ``events`` diffs are applied, ``final_update_id()`` is called once
    (the caller typically freezes the venue there and returns its update id);
    diffs keep being applied until the book reaches that id.
    """
    spot = market == "spot"
    path = "/api/v3/depth" if spot else "/fapi/v1/depth"
    limit = 5000 if spot else 1000
    stream = symbol.lower() + stream_suffix
    async with open_websocket_url(f"{ws_url}/ws/{stream}") as ws, httpx.AsyncClient() as http:
        buffered: list[dict[str, object]] = []
        first = json.loads(await ws.get_message())
        buffered.append(first)
        while True:
            resp = await http.get(f"{rest_url}{path}", params={"symbol": symbol, "limit": limit})
            resp.raise_for_status()
            snap = resp.json()
            if snap["lastUpdateId"] >= first["U"]:
                break
            await trio.sleep(0.05)
        book = LocalBook(last_update_id=snap["lastUpdateId"], bids={}, asks={})
        book.apply_levels(book.bids, snap["bids"])
        book.apply_levels(book.asks, snap["asks"])
        prev_u: int | None = None
        target: int | None = None

        async def next_event() -> dict[str, object]:
            if buffered:
                return buffered.pop(0)
            event: dict[str, object] = json.loads(await ws.get_message())
            return event

        while target is None or book.last_update_id < target:
            event = await next_event()
            first_id, last_id = int(event["U"]), int(event["u"])  # type: ignore[call-overload]
            if prev_u is None:
                snap_id = book.last_update_id
                if last_id < snap_id or (spot and last_id == snap_id):
                    continue
                ok = first_id <= snap_id + 1 <= last_id if spot else first_id <= snap_id <= last_id
                if not ok:
                    raise SyncBroken(f"first event U={first_id} u={last_id} snapshot={snap_id}")
            elif spot and first_id != prev_u + 1:
                raise SyncBroken(f"gap: U={first_id} after u={prev_u}")
            elif not spot and event["pu"] != prev_u:
                raise SyncBroken(f"gap: pu={event['pu']} after u={prev_u}")
            book.apply_levels(book.bids, event["b"])  # type: ignore[arg-type]
            book.apply_levels(book.asks, event["a"])  # type: ignore[arg-type]
            book.last_update_id = last_id
            book.events_applied += 1
            prev_u = last_id
            if target is None and book.events_applied >= events:
                target = final_update_id()
        return book
