"""The one table of venue facts: venues, their markets, channels, symbol kinds, book depths.

What a configuration may ask of each venue, in one place, so that checking a
config file and starting a venue cannot disagree::

    venue    market   symbol kinds   book_depth (0: the default)
    binance  spot     SPOT           1-5000 (REST snapshot limit; default 1000)
             linear   PERP           5, 10, 20, 50, 100, 500, 1000
    bybit    spot     SPOT           50, 200, 1000 (orderbook.N topic; default 200)
             linear   PERP           50, 200, 1000
    okx      spot     SPOT           400 (the books channel; default 400)
             swap     PERP           400

Every venue offers the channels ``book``, ``trades``, ``ticker`` and ``bbo``.
Dated futures (``FUT`` symbols) have no market on any venue yet. One
``book_depth`` serves every market of a venue, so a depth must suit them all:
binance takes 2000 for spot but its linear market does not, so 2000 is refused.

Pure values: no I/O, and nothing from connector but :mod:`connector.model` and
:mod:`connector.errors`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping

import attrs

from connector.errors import ConfigError
from connector.model.instrument import Market
from connector.model.symbols import Symbol, SymbolKind

__all__ = [
    "CHANNELS",
    "VENUES",
    "MarketFacts",
    "VenueFacts",
    "describe_depths",
    "venue_facts",
]

CHANNELS: tuple[str, ...] = ("book", "trades", "ticker", "bbo")
"""Market-data channels a venue config may ask for (every venue offers all four)."""


@attrs.frozen(kw_only=True)
class MarketFacts:
    """One market segment of a venue.

    Attributes:
        market: The segment (``spot``, ``linear``, ``swap``...).
        kinds: The canonical symbol kinds this market carries.
        book_depths: The ``book_depth`` values (other than 0) the market accepts.
        ws_routes: The websocket routes the venue serves the market's streams on
            (Binance USDⓈ-M: ``public``, ``market``, ``private``; Bybit and OKX:
            ``private``, the private stream's URL when it is not the default path
            on ``<market>.ws``; Bybit ``trade``, its websocket order entry); a
            custom URL table may name each as ``<market>.ws.<route>``.
        ws_api: The venue serves a WebSocket API for the market on its own host
            (Binance spot: the private stream and order entry; USDⓈ-M: order
            entry), named ``<market>.wsapi``.
    """

    market: Market
    kinds: frozenset[SymbolKind]
    book_depths: frozenset[int]
    ws_routes: tuple[str, ...] = ()
    ws_api: bool = False

    def url_keys(self) -> tuple[str, ...]:
        """The keys of the market in a venue URL table."""
        m = self.market.value
        routes = tuple(f"{m}.ws.{route}" for route in self.ws_routes)
        return (f"{m}.rest", f"{m}.ws", *routes, *((f"{m}.wsapi",) if self.ws_api else ()))


@attrs.frozen(kw_only=True)
class VenueFacts:
    """What a configuration may ask of one venue.

    Attributes:
        name: ``binance``, ``bybit`` or ``okx``.
        markets: The venue's market segments, in the order the venue lists them.
        supports: What the venue trades, in words (for error messages).
        default_book_depth: The depth ``book_depth = 0`` stands for.
        channels: Market-data channels a config may ask for.
        order_entry: How orders may be sent (``order_entry`` in a venue's config):
            ``rest``, and ``websocket`` where the connector drives the venue's
            websocket order API.
    """

    name: str
    markets: tuple[MarketFacts, ...]
    supports: str
    default_book_depth: int
    channels: tuple[str, ...] = CHANNELS
    order_entry: tuple[str, ...] = ("rest",)

    @property
    def market_names(self) -> tuple[Market, ...]:
        """The venue's markets, in order."""
        return tuple(m.market for m in self.markets)

    def market(self, market: Market) -> MarketFacts | None:
        """The facts of one of the venue's markets; ``None`` if the venue has no such market."""
        for facts in self.markets:
            if facts.market is market:
                return facts
        return None

    def market_of(self, kind: SymbolKind) -> Market | None:
        """The market that carries symbols of ``kind``; ``None`` when no market does."""
        for facts in self.markets:
            if kind in facts.kinds:
                return facts.market
        return None

    def market_for(self, symbol: Symbol) -> Market:
        """The market that carries ``symbol``.

        Raises:
            ConfigError: No market of the venue carries the symbol's kind.
        """
        market = self.market_of(symbol.kind)
        if market is None:
            raise ConfigError(f"{self.name}: {symbol} is not supported ({self.supports})")
        return market

    def common_book_depths(self) -> frozenset[int]:
        """The depths (other than 0) that every market of the venue accepts."""
        depths: frozenset[int] | None = None
        for facts in self.markets:
            depths = facts.book_depths if depths is None else depths & facts.book_depths
        return depths or frozenset()

    def accepts_book_depth(self, depth: int) -> bool:
        """Whether ``book_depth = depth`` is valid: 0 (the default) or one every market takes."""
        return depth == 0 or depth in self.common_book_depths()

    def describe_book_depths(self) -> str:
        """The valid ``book_depth`` values in words, for error messages."""
        common = self.common_book_depths()
        choices = describe_depths(common)
        text = f"0 (the default, {self.default_book_depth}) or "
        text += f"one of {choices}" if len(common) > 1 else choices
        per_market = {m.book_depths for m in self.markets}
        if len(per_market) > 1:
            text += " (every market must take it: " + "; ".join(
                f"{m.market.value} {describe_depths(m.book_depths)}" for m in self.markets
            )
            text += ")"
        return text


def describe_depths(depths: Iterable[int]) -> str:
    """Depths as short text: runs of three or more become ranges (``1-5000``; ``50, 200, 1000``)."""
    values = sorted(set(depths))
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"{values[start]}-{values[end]}")
        else:
            parts.extend(str(v) for v in values[start : end + 1])
        start = end + 1
    return ", ".join(parts) if parts else "none"


_SPOT = frozenset({SymbolKind.SPOT})
_PERP = frozenset({SymbolKind.PERP})

_BINANCE_SPOT_DEPTHS = frozenset(range(1, 5001))
"""``GET /api/v3/depth`` takes any ``limit`` from 1 to 5000."""
_BINANCE_LINEAR_DEPTHS = frozenset({5, 10, 20, 50, 100, 500, 1000})
"""``GET /fapi/v1/depth`` takes only these limits."""
_BYBIT_DEPTHS = frozenset({50, 200, 1000})
"""``orderbook.N`` topics (``orderbook.1`` exists but is a top of book, not a book)."""
_OKX_DEPTHS = frozenset({400})
"""The ``books`` channel always has 400 levels."""

VENUES: Mapping[str, VenueFacts] = types.MappingProxyType(
    {
        "binance": VenueFacts(
            name="binance",
            markets=(
                MarketFacts(
                    market=Market.SPOT,
                    kinds=_SPOT,
                    book_depths=_BINANCE_SPOT_DEPTHS,
                    ws_api=True,
                ),
                MarketFacts(
                    market=Market.LINEAR,
                    kinds=_PERP,
                    book_depths=_BINANCE_LINEAR_DEPTHS,
                    ws_routes=("public", "market", "private"),
                    ws_api=True,
                ),
            ),
            supports="spot and USDⓈ-M perpetuals",
            default_book_depth=1000,
            order_entry=("rest", "websocket"),
        ),
        "bybit": VenueFacts(
            name="bybit",
            markets=(
                MarketFacts(
                    market=Market.SPOT,
                    kinds=_SPOT,
                    book_depths=_BYBIT_DEPTHS,
                    ws_routes=("private", "trade"),
                ),
                MarketFacts(
                    market=Market.LINEAR,
                    kinds=_PERP,
                    book_depths=_BYBIT_DEPTHS,
                    ws_routes=("private", "trade"),
                ),
            ),
            supports="spot and linear perpetuals",
            default_book_depth=200,
            order_entry=("rest", "websocket"),
        ),
        "okx": VenueFacts(
            name="okx",
            markets=(
                MarketFacts(
                    market=Market.SPOT,
                    kinds=_SPOT,
                    book_depths=_OKX_DEPTHS,
                    ws_routes=("private",),
                ),
                MarketFacts(
                    market=Market.SWAP,
                    kinds=_PERP,
                    book_depths=_OKX_DEPTHS,
                    ws_routes=("private",),
                ),
            ),
            supports="spot and perpetual swaps",
            default_book_depth=400,
            order_entry=("rest", "websocket"),
        ),
    }
)
"""Every venue connector knows, by name, in the order configs and tools list them."""


def venue_facts(name: str) -> VenueFacts:
    """The facts of venue ``name``.

    Raises:
        ConfigError: an unknown venue name.
    """
    try:
        return VENUES[name]
    except KeyError:
        raise ConfigError(f"unknown venue {name!r}: expected one of {', '.join(VENUES)}") from None
