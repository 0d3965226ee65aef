"""Bybit v5 public streams: URLs, topic names, subscribe frames, heartbeat.

Sans-I/O: the session opens the URL, sends the frames built here and sends
:func:`ping_frame` every :data:`PING_INTERVAL_S` seconds.

Facts from the Bybit v5 docs ("Connect", "Orderbook"):

* one public socket per category: ``/v5/public/spot``, ``/v5/public/linear``;
* the same topic name (``orderbook.200.BTCUSDT``) exists on both sockets, so
  books are keyed by market as well as topic;
* a spot subscribe request carries at most 10 ``args``; the ``args`` of one
  connection may total at most 21,000 characters (all requests together), so a
  long topic list is spread over several sockets;
* send ``{"op":"ping"}`` every 20 s, or the server closes the socket;
* order-book depths: 1, 50, 200, 1000 (``orderbook.1`` sends snapshots only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Literal

from connector.model import Market
from connector.venues.bybit.symbols import category

__all__ = [
    "ARGS_CHARS_LIMIT",
    "BOOK_DEPTH",
    "BOOK_DEPTHS",
    "CHANNELS",
    "CONNECTION_ARGS_CHARS_LIMIT",
    "INSTRUMENTS_PAGE_LIMIT",
    "INSTRUMENTS_PATH",
    "MAX_ARGS_PER_REQUEST",
    "PING_INTERVAL_S",
    "REST_URL",
    "REST_URL_TESTNET",
    "Channel",
    "instruments_params",
    "instruments_path",
    "ping_frame",
    "rest_url",
    "subscribe_frames",
    "topic",
    "topic_channel",
    "unsubscribe_frames",
    "ws_url",
]

Channel = Literal["book", "bbo", "trades", "ticker"]
"""The market-data channels: ``book`` (L2 deltas), ``bbo`` (best bid/offer),
``trades`` and ``ticker``."""

CHANNELS: tuple[Channel, ...] = ("book", "bbo", "trades", "ticker")

REST_URL = "https://api.bybit.com"
REST_URL_TESTNET = "https://api-testnet.bybit.com"

_WS = "wss://stream.bybit.com/v5/public/"
_WS_TESTNET = "wss://stream-testnet.bybit.com/v5/public/"

PING_INTERVAL_S = 20.0
"""Send :func:`ping_frame` this often (Bybit closes silent sockets)."""

BOOK_DEPTH = 200
"""The depth of the ``book`` channel: levels per side of ``orderbook.200``."""

BOOK_DEPTHS: frozenset[int] = frozenset({1, 50, 200, 1000})
"""Depths Bybit streams for spot and linear."""

MAX_ARGS_PER_REQUEST: dict[Market, int | None] = {Market.SPOT: 10, Market.LINEAR: None}
"""Topics per subscribe request (``None``: limited by :data:`ARGS_CHARS_LIMIT` only)."""

ARGS_CHARS_LIMIT = 21_000
"""Total characters of the topics in one request (linear and inverse)."""

CONNECTION_ARGS_CHARS_LIMIT = 21_000
"""Total characters of the topics subscribed on one public connection (Bybit
"Connect": the limit is per connection, so more topics need more sockets)."""


def ws_url(market: Market, *, testnet: bool = False) -> str:
    """The public websocket URL of ``market`` (mainnet unless ``testnet``)."""
    return (_WS_TESTNET if testnet else _WS) + category(market)


def rest_url(*, testnet: bool = False) -> str:
    """The REST base URL (mainnet unless ``testnet``)."""
    return REST_URL_TESTNET if testnet else REST_URL


def topic(channel: Channel, native_id: str, *, depth: int = BOOK_DEPTH) -> str:
    """The topic name of a channel for one instrument.

    Args:
        channel: ``book``, ``bbo``, ``trades`` or ``ticker``.
        native_id: The Bybit symbol (``BTCUSDT``).
        depth: Order-book depth of the ``book`` channel (one of :data:`BOOK_DEPTHS`).

    Raises:
        ValueError: An unknown channel or an unsupported depth.
    """
    if channel == "book":
        if depth not in BOOK_DEPTHS or depth == 1:
            raise ValueError(f"bybit book depth {depth}: use one of 50, 200, 1000")
        return f"orderbook.{depth}.{native_id}"
    if channel == "bbo":
        return f"orderbook.1.{native_id}"
    if channel == "trades":
        return f"publicTrade.{native_id}"
    if channel == "ticker":
        return f"tickers.{native_id}"
    raise ValueError(f"bybit has no channel {channel!r} (one of {', '.join(CHANNELS)})")


def topic_channel(name: str) -> tuple[Channel, str] | None:
    """The channel and native id of a topic name, or ``None`` for other topics."""
    head, _, rest = name.partition(".")
    if head == "orderbook":
        depth, _, native = rest.partition(".")
        return ("bbo" if depth == "1" else "book"), native
    if head == "publicTrade":
        return "trades", rest
    if head == "tickers":
        return "ticker", rest
    return None


def subscribe_frames(
    topics: Iterable[str], *, market: Market, first_req_id: int = 1
) -> list[tuple[str, str]]:
    """``subscribe`` frames for ``topics``, split to the venue's per-request limits.

    Returns:
        ``(req_id, frame text)`` pairs; the venue echoes ``req_id`` in its answer.
    """
    return _frames("subscribe", topics, market, first_req_id)


def unsubscribe_frames(
    topics: Iterable[str], *, market: Market, first_req_id: int = 1
) -> list[tuple[str, str]]:
    """``unsubscribe`` frames for ``topics``, split like :func:`subscribe_frames`."""
    return _frames("unsubscribe", topics, market, first_req_id)


def ping_frame(req_id: str | None = None) -> str:
    """The heartbeat frame: ``{"op":"ping"}`` (with ``req_id`` when given)."""
    if req_id is None:
        return '{"op":"ping"}'
    return json.dumps({"req_id": req_id, "op": "ping"}, separators=(",", ":"))


INSTRUMENTS_PATH = "/v5/market/instruments-info"
INSTRUMENTS_PAGE_LIMIT = 1000
"""Largest ``limit`` of :data:`INSTRUMENTS_PATH` (the default is 500)."""


def instruments_params(market: Market, *, cursor: str | None = None) -> dict[str, str | int]:
    """The query of one page of :data:`INSTRUMENTS_PATH` (``cursor``: ``nextPageCursor``)."""
    params: dict[str, str | int] = {
        "category": category(market),
        "limit": INSTRUMENTS_PAGE_LIMIT,
    }
    if cursor:
        params["cursor"] = cursor
    return params


def instruments_path(market: Market, *, cursor: str | None = None) -> str:
    """The REST path and query of ``/v5/market/instruments-info`` (one page)."""
    path = f"/v5/market/instruments-info?category={category(market)}&limit=1000"
    if cursor:
        path += f"&cursor={cursor}"
    return path


def _frames(
    op: str, topics: Iterable[str], market: Market, first_req_id: int
) -> list[tuple[str, str]]:
    max_args = MAX_ARGS_PER_REQUEST[market]
    batches: list[list[str]] = []
    batch: list[str] = []
    chars = 0
    for name in dict.fromkeys(topics):
        full = max_args is not None and len(batch) >= max_args
        if batch and (full or chars + len(name) > ARGS_CHARS_LIMIT):
            batches.append(batch)
            batch, chars = [], 0
        batch.append(name)
        chars += len(name)
    if batch:
        batches.append(batch)
    return [_frame(op, str(first_req_id + i), b) for i, b in enumerate(batches)]


def _frame(op: str, req_id: str, args: Sequence[str]) -> tuple[str, str]:
    text = json.dumps({"req_id": req_id, "op": op, "args": list(args)}, separators=(",", ":"))
    return req_id, text
