"""OKX v5 public streams: URLs, channels, subscribe frames, heartbeat.

Sans-I/O: the session opens the URL, sends the frames built here and sends
:data:`PING_FRAME` (the text ``ping``) when :data:`PING_AFTER_S` seconds pass
without any frame from the venue; OKX answers ``pong`` and closes a socket
that stays silent for 30 s.

Facts from the OKX v5 docs ("WebSocket", "Order book channel"):

* one public socket for every instrument type: ``wss://ws.okx.com/ws/v5/public``,
  with fewer than 30 50/400-level book channels per connection;
* REST: ``https://openapi.okx.com`` (production and demo trading, which adds
  the header ``x-simulated-trading: 1``); demo trading's websockets:
  ``wss://wspap.okx.com/ws/v5/public``;
* subscribe: ``{"id": "...", "op": "subscribe", "args": [{"channel": ..., "instId": ...}]}``;
  the ``args`` of one request must stay under 64 KB;
* ``books``: 400 levels, incremental updates with ``seqId``/``prevSeqId``; the
  snapshot comes from ``GET /api/v5/market/books`` (the pushed snapshot and the
  ``checksum`` were delisted in August 2026; the checksum is 0 from 2026-06-23);
  ``books5``: the top 5 as a full book in every message; ``bbo-tbt``: best bid
  and offer tick by tick.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

__all__ = [
    "ARGS_BYTES_LIMIT",
    "BOOKS_PATH",
    "BOOK_CHANNELS_PER_CONNECTION",
    "BOOK_DEPTH",
    "CHANNELS",
    "DEEP_BOOK_CHANNELS",
    "DEMO_HEADERS",
    "PING_AFTER_S",
    "PING_FRAME",
    "PONG_FRAME",
    "REST_BOOK_LIMIT",
    "REST_URL",
    "REST_URL_DEMO",
    "Channel",
    "books_params",
    "books_path",
    "channel_name",
    "instruments_path",
    "ping_frame",
    "rest_url",
    "subscribe_frames",
    "unsubscribe_frames",
    "ws_url",
]

Channel = Literal["book", "book5", "bbo", "trades", "ticker"]
"""The market-data channels: ``book`` (400 levels, incremental), ``book5`` (top 5,
full every time), ``bbo``, ``trades`` and ``ticker``."""

CHANNELS: dict[Channel, str] = {
    "book": "books",
    "book5": "books5",
    "bbo": "bbo-tbt",
    "trades": "trades",
    "ticker": "tickers",
}
"""Our channel name -> the OKX channel name."""

REST_URL = "https://openapi.okx.com"
"""The production REST host (OKX "Production Trading Services", 2026-05-20;
``https://www.okx.com`` keeps answering)."""
REST_URL_DEMO = "https://openapi.okx.com"
"""The REST host of demo trading, the production one told apart by :data:`DEMO_HEADERS`
(OKX "Demo Trading Services": "REST: ``https://openapi.okx.com``", checked 2026-12-06)."""
_WS = "wss://ws.okx.com/ws/v5/public"
_WS_DEMO = "wss://wspap.okx.com/ws/v5/public"

DEMO_HEADERS: dict[str, str] = {"x-simulated-trading": "1"}
"""Headers every REST request to demo trading must carry."""

PING_FRAME = "ping"
PONG_FRAME = "pong"

PING_AFTER_S = 25.0
"""Send :data:`PING_FRAME` after this long without a frame (OKX gives up at 30 s)."""

BOOK_DEPTH = 400
"""Levels per side of the ``books`` channel (the book keeper's depth limit)."""

ARGS_BYTES_LIMIT = 64 * 1024
"""Largest total size of one request's ``args``."""

REST_BOOK_LIMIT = 400
"""Largest ``sz`` of ``/api/v5/market/books``."""

BOOK_CHANNELS_PER_CONNECTION = 29
"""Most 50/400-level book channels on one socket: OKX asks for fewer than 30 per
connection and closes one with too many subscriptions (4008/4009)."""

DEEP_BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt", "books-elp"})
"""The OKX channels :data:`BOOK_CHANNELS_PER_CONNECTION` counts."""


def ws_url(*, demo: bool = False) -> str:
    """The public websocket URL (live unless ``demo``)."""
    return _WS_DEMO if demo else _WS


def rest_url(*, demo: bool = False) -> str:
    """The REST base URL (live unless ``demo``; demo requests also carry
    :data:`DEMO_HEADERS`)."""
    return REST_URL_DEMO if demo else REST_URL


def ping_frame() -> str:
    """The heartbeat: the text ``ping``."""
    return PING_FRAME


def channel_name(channel: Channel) -> str:
    """The OKX channel name of one of our channels.

    Raises:
        ValueError: An unknown channel.
    """
    try:
        return CHANNELS[channel]
    except KeyError:
        raise ValueError(f"okx has no channel {channel!r} (one of {', '.join(CHANNELS)})") from None


def subscribe_frames(
    subscriptions: Iterable[tuple[Channel, str]], *, first_id: int = 1
) -> list[tuple[str, str]]:
    """``subscribe`` frames for ``(channel, instId)`` pairs, split under 64 KB of args.

    Returns:
        ``(id, frame text)`` pairs; OKX echoes ``id`` in its answer.
    """
    return _frames("subscribe", subscriptions, first_id)


def unsubscribe_frames(
    subscriptions: Iterable[tuple[Channel, str]], *, first_id: int = 1
) -> list[tuple[str, str]]:
    """``unsubscribe`` frames, split like :func:`subscribe_frames`."""
    return _frames("unsubscribe", subscriptions, first_id)


BOOKS_PATH = "/api/v5/market/books"
"""The REST order-book snapshot (``GET / Order book``; its answer carries ``seqId``)."""


def books_params(inst_id: str, *, size: int = REST_BOOK_LIMIT) -> dict[str, str | int]:
    """The query of :data:`BOOKS_PATH` for ``size`` levels per side (1..400)."""
    if not 1 <= size <= REST_BOOK_LIMIT:
        raise ValueError(f"okx books size must be 1..{REST_BOOK_LIMIT}, got {size}")
    return {"instId": inst_id, "sz": size}


def books_path(inst_id: str, *, size: int = REST_BOOK_LIMIT) -> str:
    """The REST path and query of an order-book snapshot (``/api/v5/market/books``)."""
    if not 1 <= size <= REST_BOOK_LIMIT:
        raise ValueError(f"okx books size must be 1..{REST_BOOK_LIMIT}, got {size}")
    return f"/api/v5/market/books?instId={inst_id}&sz={size}"


def instruments_path(inst_type: str) -> str:
    """The REST path and query of ``/api/v5/public/instruments`` for one ``instType``."""
    return f"/api/v5/public/instruments?instType={inst_type}"


def _frames(
    op: str, subscriptions: Iterable[tuple[Channel, str]], first_id: int
) -> list[tuple[str, str]]:
    batches: list[list[dict[str, str]]] = []
    batch: list[dict[str, str]] = []
    size = 0
    seen: set[tuple[str, str]] = set()
    for channel, inst_id in subscriptions:
        name = channel_name(channel)
        if (name, inst_id) in seen:
            continue
        seen.add((name, inst_id))
        arg = {"channel": name, "instId": inst_id}
        arg_size = len(json.dumps(arg, separators=(",", ":"))) + 1
        if batch and size + arg_size > ARGS_BYTES_LIMIT:
            batches.append(batch)
            batch, size = [], 0
        batch.append(arg)
        size += arg_size
    if batch:
        batches.append(batch)
    out: list[tuple[str, str]] = []
    for i, args in enumerate(batches):
        ident = str(first_id + i)
        out.append(
            (ident, json.dumps({"id": ident, "op": op, "args": args}, separators=(",", ":")))
        )
    return out
