"""OKX v5 (spot and swap) market data, described for the generic session (sans-I/O).

One public socket carries every market; instrument ids name their market.
Books: ``books`` (400 levels), a snapshot then updates chained by
``seqId``/``prevSeqId`` and checked by CRC32 when the checksum is non-zero; a
resync is an unsubscribe and subscribe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from connector.book.sequencing import Sequencer
from connector.errors import ConfigError, LocalError
from connector.model import BookSnapshot, Instrument, Market, Symbol, SymbolKind
from connector.venues.common import MarketEvent, SymbolMap, placeholder_instrument
from connector.venues.driver import (
    ConnectionPlan,
    HeartbeatRule,
    RestCall,
    StreamSpec,
)
from connector.venues.driver_common import spot_or_perp_market
from connector.venues.okx import parse, streams, symbols
from connector.venues.okx.sync import OkxSync

__all__ = ["OkxMarketData"]

_MARKETS = (Market.SPOT, Market.SWAP)


class OkxMarketData:
    """The :class:`~connector.venues.driver.MarketDataAdapter` of OKX.

    Args:
        book_depth: 0 or 400: the ``books`` channel always has 400 levels.

    Raises:
        ConfigError: any other depth.
    """

    name = "okx"

    def __init__(self, book_depth: int = 0) -> None:
        if book_depth not in (0, streams.BOOK_DEPTH):
            raise ConfigError(
                f"venues.okx.book_depth = {book_depth}: expected 0 or {streams.BOOK_DEPTH} "
                "(the books channel has 400 levels)"
            )

    def market_for(self, symbol: Symbol) -> Market:
        return spot_or_perp_market(
            self.name, symbol, perp=Market.SWAP, supported="spot and perpetual swaps"
        )

    def instruments_call(self, market: Market) -> RestCall:
        path = streams.instruments_path(symbols.inst_type(market))
        return RestCall(path=path, weights={"instruments": 1})

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]:
        return symbols.parse_instruments(market, body)

    def read_captured_rest(
        self, url: str, body: bytes, symbols_map: SymbolMap, ts_recv_ns: int
    ) -> list[Instrument | BookSnapshot]:
        parts = urlsplit(url)
        if parts.path.endswith("/public/instruments"):
            kind = parse_qs(parts.query).get("instType", [""])[0]
            market = next((m for m in Market if _inst_type(m) == kind), None)
            return list(self.parse_instruments(market, body)) if market else []
        return []

    def guess_instrument(self, market: Market, native_id: str) -> Instrument | None:
        try:
            actual = symbols.market_of(native_id)
        except ValueError:  # an option, or not an OKX id
            return None
        parts = native_id.split("-")
        try:
            if actual is Market.SPOT and len(parts) == 2:
                symbol = Symbol(parts[0], parts[1], SymbolKind.SPOT)
            elif actual is Market.SWAP and len(parts) == 3:
                symbol = Symbol(parts[0], parts[1], SymbolKind.PERP)
            else:
                return None
        except ConfigError:
            return None
        return placeholder_instrument(self.name, actual, native_id, symbol)

    def heartbeat(self, market: Market) -> HeartbeatRule:
        return HeartbeatRule(interval=20.0, ping=streams.ping_frame(), timeout=60.0)

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        name = streams.channel_name(channel)  # type: ignore[arg-type]
        return [
            StreamSpec(
                market=market,
                instrument=instrument,
                channel=channel,
                name=f"{name}:{instrument.native_id}",
            )
        ]

    def plan_connections(
        self, ws_base: Mapping[Market, str], specs: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        if not specs:
            return []
        first = specs[0].market
        url = f"{ws_base[first].rstrip('/')}/ws/v5/public"
        return [ConnectionPlan(market=first, url=url, streams=tuple(specs))]

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        pairs = streams.subscribe_frames(_subscriptions(plan.streams))
        return [frame for _, frame in pairs]

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        subs = _subscriptions([stream])
        return [f for _, f in streams.unsubscribe_frames(subs) + streams.subscribe_frames(subs)]

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[MarketEvent]:
        return parse.decode_frame(raw, symbols=symbols, ts_recv_ns=ts_recv_ns)

    def new_sequencer(self, market: Market) -> Sequencer:
        return OkxSync()

    def book_depth(self, market: Market) -> int | None:
        return streams.BOOK_DEPTH

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        return None  # resync = resubscribe; OKX then sends a snapshot with seqId

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        raise LocalError("okx books resync by resubscribing, not from REST")


def _inst_type(market: Market) -> str | None:
    try:
        return symbols.inst_type(market)
    except ValueError:  # a market OKX is not traded in here
        return None


def _subscriptions(specs: Sequence[StreamSpec]) -> list[tuple[streams.Channel, str]]:
    return [(s.channel, s.instrument.native_id) for s in specs]  # type: ignore[misc]
