"""Binance endpoints, stream names, subscribe frames and REST weights (sans-I/O).

Facts from Binance's spot and USDⓈ-M docs ("WebSocket Streams", "Websocket Market
Streams", "Order Book" endpoints):

* Spot websocket ``wss://stream.binance.com:9443``, testnet
  ``wss://stream.testnet.binance.vision``; REST ``https://api.binance.com``, testnet
  ``https://testnet.binance.vision``.
* USDⓈ-M websocket ``wss://fstream.binance.com``, testnet
  ``wss://fstream.binancefuture.com``; REST ``https://fapi.binance.com``, testnet
  ``https://testnet.binancefuture.com``.
* USDⓈ-M websocket routes (since 2026-04-23; "Important WebSocket Change Notice",
  checked 2026-12-02): market data is served on ``/public`` (depth, diff depth,
  bookTicker, trade, RPI depth) and ``/market`` (aggTrade, ticker, miniTicker,
  markPrice, kline, forceOrder...), user data on ``/private``. The unrouted
  ``/ws`` and ``/stream`` paths still connect and acknowledge, but deliver only
  ``/public`` streams. Spot and the USDⓈ-M testnet are not routed.
* Combined streams live at ``/stream`` and wrap events as ``{"stream", "data"}``;
  stream names use lower-case symbols. A connection carries at most 1024 streams
  and lives 24 hours; clients may send at most 5 (spot) or 10 (USDⓈ-M) messages a
  second. The server pings; the client answers pong (the websocket layer does).
* ``GET /api/v3/depth`` weight by ``limit``: 1-100: 5, 101-500: 25, 501-1000: 50,
  1001-5000: 250. ``GET /fapi/v1/depth``: 5/10/20/50: 2, 100: 5, 500: 10, 1000: 20.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import attrs
import msgspec

from connector.errors import ConfigError
from connector.model import Market

__all__ = [
    "CHANNELS",
    "DEPTH_PATH",
    "EXCHANGE_INFO_PATH",
    "EXCHANGE_INFO_WEIGHT",
    "MAX_MESSAGES_PER_SECOND",
    "MAX_STREAMS_PER_CONNECTION",
    "SNAPSHOT_LIMIT",
    "WS_API",
    "Endpoints",
    "RequestIds",
    "combined_stream_url",
    "depth_params",
    "depth_weight",
    "endpoints",
    "list_subscriptions_frame",
    "route_base",
    "shard_streams",
    "stream_name",
    "subscribe_frame",
    "unsubscribe_frame",
    "usdm_route",
]


@attrs.frozen
class Endpoints:
    """Base URLs of one Binance market (no trailing slash)."""

    rest: str
    ws: str


_LIVE = {
    Market.SPOT: Endpoints("https://api.binance.com", "wss://stream.binance.com:9443"),
    Market.LINEAR: Endpoints("https://fapi.binance.com", "wss://fstream.binance.com"),
}
_TESTNET = {
    Market.SPOT: Endpoints("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
    Market.LINEAR: Endpoints(
        "https://testnet.binancefuture.com", "wss://fstream.binancefuture.com"
    ),
}

WS_API = {
    False: "wss://ws-api.binance.com:443/ws-api/v3",
    True: "wss://ws-api.testnet.binance.vision/ws-api/v3",
}
"""The spot WebSocket API (the private stream, order entry), live and testnet."""

WS_FAPI = {
    False: "wss://ws-fapi.binance.com/ws-fapi/v1",
    True: "wss://testnet.binancefuture.com/ws-fapi/v1",
}
"""The USDⓈ-M WebSocket API (order entry), live and testnet."""

MAX_STREAMS_PER_CONNECTION = 1024
MAX_MESSAGES_PER_SECOND = {Market.SPOT: 5, Market.LINEAR: 10}
"""Messages a client may send per connection per second (subscribe frames, pongs)."""

DEPTH_PATH = {Market.SPOT: "/api/v3/depth", Market.LINEAR: "/fapi/v1/depth"}
EXCHANGE_INFO_PATH = {Market.SPOT: "/api/v3/exchangeInfo", Market.LINEAR: "/fapi/v1/exchangeInfo"}
EXCHANGE_INFO_WEIGHT = {Market.SPOT: 20, Market.LINEAR: 1}

SNAPSHOT_LIMIT = 1000
"""Depth snapshot size used to start a book: deep enough that diffs keep the book
whole around the top for a long time, at weight 50 (spot) or 20 (USDⓈ-M); 5000
(spot only) costs 250 for levels no one trades against."""

_FUTURES_DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}

CHANNELS = ("book", "trades", "agg_trades", "ticker", "bbo", "depth5", "depth10", "depth20")
"""Channel names :func:`stream_name` knows."""


def endpoints(market: Market, *, testnet: bool = False) -> Endpoints:
    """REST and websocket base URLs for ``market`` (spot or linear)."""
    table = _TESTNET if testnet else _LIVE
    try:
        return table[market]
    except KeyError:
        raise ConfigError(f"binance has no {market.value} market (spot and linear only)") from None


def stream_name(channel: str, native_id: str, market: Market, *, speed_ms: int = 100) -> str:
    """The stream name for a channel and a native symbol.

    ``book`` -> ``<sym>@depth@100ms`` (diffs; ``speed_ms`` 100, or 1000 for the
    plain ``@depth``; USDⓈ-M also offers 250 and 500); ``trades`` -> ``@trade`` on
    spot and ``@aggTrade`` on USDⓈ-M (the documented futures trade stream;
    ``@trade`` also exists there and :mod:`.parse` reads both); ``agg_trades`` ->
    ``@aggTrade``; ``ticker`` -> ``@ticker``; ``bbo`` -> ``@bookTicker``;
    ``depth5|10|20`` -> partial book ``@depthN@100ms``.

    Raises:
        ConfigError: an unknown channel or update speed.
    """
    sym = native_id.lower()
    if channel == "book" or channel in ("depth5", "depth10", "depth20"):
        base = "depth" if channel == "book" else channel
        if speed_ms == 1000 and channel == "book":
            return f"{sym}@depth"
        allowed = (100, 250, 500) if market is Market.LINEAR else (100, 1000)
        if speed_ms not in allowed:
            raise ConfigError(f"binance {market.value} {channel} speed must be one of {allowed} ms")
        return f"{sym}@{base}@{speed_ms}ms"
    if channel == "trades":
        return f"{sym}@aggTrade" if market is Market.LINEAR else f"{sym}@trade"
    if channel == "agg_trades":
        return f"{sym}@aggTrade"
    if channel == "ticker":
        return f"{sym}@ticker"
    if channel == "bbo":
        return f"{sym}@bookTicker"
    raise ConfigError(f"binance has no channel {channel!r}; known: {', '.join(CHANNELS)}")


_PUBLIC_ROUTE_STREAMS = ("@depth", "@bookTicker", "@trade", "@rpiDepth")


def usdm_route(stream: str) -> str:
    """The USDⓈ-M route serving a stream: ``public`` (books, best bid/offer, trades)
    or ``market`` (aggregate trades, tickers, mark price, klines, liquidations)."""
    return "public" if any(part in stream for part in _PUBLIC_ROUTE_STREAMS) else "market"


def route_base(urls: Mapping[str, str], market: Market, route: str) -> str:
    """The websocket base of one route: ``<market>.ws.<route>`` when the URL table
    names it (the testnet's legacy paths), else ``<market>.ws`` + ``/<route>``."""
    explicit = urls.get(f"{market.value}.ws.{route}")
    if explicit is not None:
        return explicit.rstrip("/")
    return f"{urls[f'{market.value}.ws'].rstrip('/')}/{route}"


def combined_stream_url(ws_base: str, streams: Iterable[str] = ()) -> str:
    """``<base>/stream`` (subscribe later with frames) or with ``?streams=a/b/c``."""
    names = list(streams)
    if not names:
        return f"{ws_base}/stream"
    return f"{ws_base}/stream?streams={'/'.join(names)}"


def shard_streams(
    streams: Iterable[str], limit: int = MAX_STREAMS_PER_CONNECTION
) -> list[list[str]]:
    """Split streams over connections of at most ``limit`` each (duplicates removed).

    Order is kept, so the same input always shards the same way.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    unique = list(dict.fromkeys(streams))
    return [unique[i : i + limit] for i in range(0, len(unique), limit)]


@attrs.define
class RequestIds:
    """Ids for subscribe frames, unique per connection (a counter, from 1)."""

    _next: int = 1

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        value = self._next
        self._next += 1
        return value


_encoder = msgspec.json.Encoder()


def _frame(method: str, params: list[str] | None, request_id: int) -> str:
    body: dict[str, object] = {"method": method}
    if params is not None:
        body["params"] = params
    body["id"] = request_id
    return _encoder.encode(body).decode()


def subscribe_frame(streams: Iterable[str], request_id: int) -> str:
    """``{"method":"SUBSCRIBE","params":[...],"id":n}``; the reply is ``{"result":null,"id":n}``."""
    return _frame("SUBSCRIBE", list(streams), request_id)


def unsubscribe_frame(streams: Iterable[str], request_id: int) -> str:
    """``{"method":"UNSUBSCRIBE","params":[...],"id":n}``."""
    return _frame("UNSUBSCRIBE", list(streams), request_id)


def list_subscriptions_frame(request_id: int) -> str:
    """``{"method":"LIST_SUBSCRIPTIONS","id":n}``; the reply lists the streams."""
    return _frame("LIST_SUBSCRIPTIONS", None, request_id)


def depth_weight(market: Market, limit: int) -> int:
    """Request weight of a depth snapshot with ``limit`` levels.

    Raises:
        ConfigError: a limit the market does not accept.
    """
    if market is Market.SPOT:
        if not 1 <= limit <= 5000:
            raise ConfigError(f"binance spot depth limit must be 1-5000, got {limit}")
        if limit <= 100:
            return 5
        if limit <= 500:
            return 25
        return 50 if limit <= 1000 else 250
    if market is Market.LINEAR:
        weight = _FUTURES_DEPTH_WEIGHT.get(limit)
        if weight is None:
            raise ConfigError(
                f"binance USDⓈ-M depth limit must be one of {sorted(_FUTURES_DEPTH_WEIGHT)}, "
                f"got {limit}"
            )
        return weight
    raise ConfigError(f"binance has no {market.value} market (spot and linear only)")


def depth_params(native_id: str, limit: int = SNAPSHOT_LIMIT) -> dict[str, str]:
    """Query parameters of a depth snapshot request (path: :data:`DEPTH_PATH`)."""
    return {"symbol": native_id.upper(), "limit": str(limit)}
