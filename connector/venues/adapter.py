"""The venue adapter: everything the generic session needs to know about a venue.

Each venue package exports one adapter (``connector.venues.binance.ADAPTER`` ...),
a sans-I/O object: it builds requests and frames and reads answers, and never
touches a socket. The one generic session (``connector/venues/session.py``)
carries out what adapters describe, so a fourth venue is a new adapter, not a
new session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

from connector.errors import ConnectorError
from connector.model import BookSnapshot, Instrument, Market, Symbol
from connector.venues.common import Sequencer, SymbolMap

__all__ = [
    "CHANNELS",
    "Bucket",
    "ConnectionPlan",
    "HeartbeatRule",
    "RestCall",
    "StreamSpec",
    "VenueAdapter",
]

CHANNELS = ("book", "trades", "ticker", "bbo")
"""Channels a venue config may ask for."""


@attrs.frozen(kw_only=True)
class RestCall:
    """One REST request: path, query and the rate-limit weights it draws."""

    path: str
    params: Mapping[str, str | int] = attrs.field(factory=dict)
    weights: Mapping[str, float] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Bucket:
    """A rate-limit bucket: ``capacity`` per ``period`` seconds."""

    name: str
    capacity: float
    period: float


@attrs.frozen(kw_only=True)
class HeartbeatRule:
    """A venue's keep-alive: see :class:`connector.net.ws.Heartbeat`."""

    interval: float
    ping: str | None
    timeout: float


@attrs.frozen(kw_only=True)
class StreamSpec:
    """One subscription: a channel of one instrument, by its venue stream name."""

    market: Market
    instrument: Instrument
    channel: str
    name: str


@attrs.frozen(kw_only=True)
class ConnectionPlan:
    """One websocket: which URL, carrying which streams."""

    market: Market
    url: str
    streams: tuple[StreamSpec, ...]


class VenueAdapter(Protocol):
    """A venue, described for the generic session (sans-I/O)."""

    name: str

    def market_for(self, symbol: Symbol) -> Market:
        """The venue market that lists a canonical symbol (raises ConfigError if none)."""
        ...

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        """Base URLs for ``live`` or ``testnet``: keys ``<market>.rest``, ``<market>.ws``."""
        ...

    def buckets(self, market: Market) -> Sequence[Bucket]:
        """The REST rate-limit buckets of one market's API host."""
        ...

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        """``{bucket: tokens left}`` read from a response's rate-limit headers."""
        ...

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        """The error a response body carries (venue code and message), if any."""
        ...

    def server_time_call(self, market: Market) -> RestCall: ...

    def parse_server_time(self, body: bytes) -> int:
        """The venue's time in ns from a server-time response."""
        ...

    def instruments_call(self, market: Market) -> RestCall: ...

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]: ...

    def read_captured_rest(
        self, url: str, body: bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> list[Instrument | BookSnapshot]:
        """What a captured REST body holds: an instrument list, a book snapshot, or
        nothing this library uses (replay)."""
        ...

    def guess_instrument(self, market: Market, native_id: str) -> Instrument | None:
        """An instrument built from its native id alone (replay of a capture that
        holds no instrument list); filters are placeholders."""
        ...

    def heartbeat(self, market: Market) -> HeartbeatRule: ...

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        """The subscriptions that deliver ``channel`` for an instrument."""
        ...

    def plan_connections(
        self, ws_base: Mapping[Market, str], streams: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        """Group streams into sockets, honouring the venue's per-connection limits."""
        ...

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        """Frames to send on (re)connect (empty when the URL carries the streams)."""
        ...

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        """Frames that make the venue send a fresh book snapshot for one stream."""
        ...

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[object]:
        """Model events and ControlMessages from one frame; MalformedMessage if bad."""
        ...

    def new_sequencer(self, market: Market) -> Sequencer: ...

    def book_depth(self, market: Market) -> int | None:
        """Levels the venue keeps per side in the subscribed book (``None``: all)."""
        ...

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        """The REST snapshot request (Binance), or ``None`` when snapshots arrive by
        websocket and a resync is a resubscription (Bybit, OKX)."""
        ...

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot: ...
