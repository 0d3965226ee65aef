"""The venue driver: everything the generic venue code needs to know about a venue.

A :class:`VenueDriver` is three sans-I/O parts, each a ``typing.Protocol``:

* :class:`RestProfile`: the venue's REST hosts (built-in URLs), the rate-limit
  buckets of each host, how its responses report limits and errors, its server
  time;
* :class:`MarketDataAdapter`: instruments, stream names, subscription frames,
  frame decoding, book sequencing and snapshots;
* :class:`TradingAdapter`: signing, order requests and their answers, the
  private stream's handshake and frames (implemented with the trading half).

Each venue package (``connector/venues/<v>/``) supplies the parts; the typed
table in :mod:`connector.venues.registry` names them. The trio code
(:mod:`connector.venues.context`, :mod:`connector.venues.session`) carries out
what the parts describe and never touches a venue's wire format itself, so a
fourth venue is a new driver, not new session code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from connector.book.sequencing import Sequencer
from connector.errors import ConnectorError
from connector.model import (
    AmendOrder,
    Balance,
    BookSnapshot,
    Fill,
    Instrument,
    Market,
    OrderEvent,
    PlaceOrder,
    Position,
    Symbol,
)
from connector.venues.common import ControlMessage, MarketEvent, SymbolMap

PrivateEvent = OrderEvent | Fill | Position | Balance | ControlMessage
"""What one decoded private-stream frame may hold."""

__all__ = [
    "Bucket",
    "ConnectionPlan",
    "HeartbeatRule",
    "MarketDataAdapter",
    "MarketEvent",
    "PagedInstruments",
    "RestCall",
    "RestProfile",
    "SignedRequest",
    "StreamSpec",
    "TradingAdapter",
    "VenueDriver",
]


@attrs.frozen(kw_only=True)
class RestCall:
    """One REST request, described: the trio layer sends it.

    Attributes:
        method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
        path: The path on the market's REST host.
        params: The query parameters, in the order they go on the wire.
        body: The request body exactly as it is to be sent (and signed), if any.
        weights: ``{bucket: weight}`` drawn from the host's rate limiter.
        signed: The request needs the account's credentials (the trading
            adapter signs it with the venue's time just before sending).
    """

    method: str = "GET"
    path: str
    params: Mapping[str, str | int] = attrs.field(factory=dict)
    body: bytes | None = None
    weights: Mapping[str, float] = attrs.field(factory=dict)
    signed: bool = False


@attrs.frozen(kw_only=True)
class Bucket:
    """A rate-limit bucket: ``capacity`` per ``period`` seconds."""

    name: str
    capacity: float
    period: float


@attrs.frozen(kw_only=True)
class HeartbeatRule:
    """A venue's keep-alive: see :class:`connector.net.ws.Heartbeat`.

    ``book_silence`` is the longest a healthy book stream may stay silent by the
    venue's documentation (OKX pushes a no-change update after about 60 s without
    a change), 0 when the venue documents none. A session's default staleness
    window is never shorter than it (see :class:`connector.venues.session.VenueSession`).
    """

    interval: float
    ping: str | None
    timeout: float
    book_silence: float = 0.0


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


class RestProfile(Protocol):
    """A venue's REST side: hosts, limits, errors and time (sans-I/O).

    Markets whose REST URLs share a host (Bybit and OKX serve spot and
    derivatives from one API host) share one client and one rate limiter: the
    venue counts their requests together, so :meth:`buckets` answers the same
    for every market of one host.
    """

    name: str

    def endpoints(self, endpoint: str) -> Mapping[str, str]:
        """Base URLs for ``live`` or ``testnet``: keys ``<market>.rest``, ``<market>.ws``."""
        ...

    def buckets(self, market: Market) -> Sequence[Bucket]:
        """The rate-limit buckets of the API host serving ``market``."""
        ...

    def limit_headers(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        """``{bucket: tokens left}`` read from a response's rate-limit headers."""
        ...

    def rest_error(self, status: int, body: bytes) -> ConnectorError | None:
        """The error a response carries (venue code and message), if any.

        The error also tells the host's limiter what to do: an ``IpBanned``
        with ``retry_after`` bans all REST to the host for that many seconds, a
        ``RateLimited`` with ``retry_after`` pauses it (``connector.net.http``).
        """
        ...

    def server_time_call(self, market: Market) -> RestCall:
        """The request that reads the venue's clock (used by clock sync)."""
        ...

    def parse_server_time(self, body: bytes) -> int:
        """The venue's time in ns from a server-time response."""
        ...


class MarketDataAdapter(Protocol):
    """A venue's public market data, described for the generic session (sans-I/O)."""

    name: str

    def market_for(self, symbol: Symbol) -> Market:
        """The venue market that lists a canonical symbol (raises ConfigError if none)."""
        ...

    def instruments_call(self, market: Market) -> RestCall:
        """The request that lists a market's instruments."""
        ...

    def parse_instruments(self, market: Market, body: bytes) -> list[Instrument]:
        """The instruments in an instruments response."""
        ...

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

    def heartbeat(self, market: Market) -> HeartbeatRule:
        """The keep-alive rule of the market's public sockets."""
        ...

    def streams(self, market: Market, instrument: Instrument, channel: str) -> list[StreamSpec]:
        """The subscriptions that deliver ``channel`` for an instrument."""
        ...

    def plan_connections(
        self, urls: Mapping[str, str], streams: Sequence[StreamSpec]
    ) -> list[ConnectionPlan]:
        """Group streams into sockets, honouring the venue's per-connection limits.

        ``urls`` is the venue's URL table (``<market>.ws`` bases, and any route keys
        the venue documents, such as Binance USDⓈ-M's ``linear.ws.public``).
        """
        ...

    def subscribe_frames(self, plan: ConnectionPlan) -> list[str]:
        """Frames to send on (re)connect (empty when the URL carries the streams)."""
        ...

    def resubscribe_frames(self, stream: StreamSpec) -> list[str]:
        """Frames that make the venue send a fresh book snapshot for one stream."""
        ...

    def decode(
        self, raw: str | bytes, market: Market, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[MarketEvent]:
        """Model events and control messages from one frame; MalformedMessage if bad."""
        ...

    def new_sequencer(self, market: Market) -> Sequencer:
        """A fresh sequencer for one book of ``market``."""
        ...

    def book_depth(self, market: Market) -> int | None:
        """Levels the venue keeps per side in the subscribed book (``None``: all)."""
        ...

    def snapshot_call(self, market: Market, instrument: Instrument) -> RestCall | None:
        """The REST snapshot request (Binance, OKX), or ``None`` when snapshots arrive
        by websocket and a resync is a resubscription (Bybit; OKX where the venue
        still pushes them)."""
        ...

    def parse_snapshot(
        self, market: Market, instrument: Instrument, body: bytes, ts_recv_ns: int
    ) -> BookSnapshot:
        """The book snapshot in a REST snapshot response."""
        ...


@runtime_checkable
class PagedInstruments(Protocol):
    """An optional part of a :class:`MarketDataAdapter`: instrument lists in pages.

    An adapter that has this method (Bybit: ``nextPageCursor``) is asked for the
    next page after each answer; the others' lists come in one answer.
    """

    def next_instruments_call(self, market: Market, call: RestCall, body: bytes) -> RestCall | None:
        """The request for the page after ``body`` (the answer to ``call``), or
        ``None`` when that was the last page."""
        ...


class TradingAdapter(Protocol):
    """A venue's trading side, described for the order and account services (sans-I/O).

    Every method is pure: an adapter is built with the account's credentials,
    time comes in as an argument, requests go out as :class:`RestCall` values
    (or websocket frames), and answers come back as model events. The trio
    services carry them out: the command path (``oms/service.py``) builds a
    request, acquires the order lane of the host's limiter, signs it with the
    clock's venue time and sends it; the account service runs the private
    stream.
    """

    name: str

    def sign(self, call: RestCall, venue_time_ns: int) -> SignedRequest:
        """The request as it goes on the wire: query, body and headers, signed.

        ``call.params`` and ``call.body`` are serialised once, here, and the
        signature is computed over exactly those bytes.
        """
        ...

    def place_order_call(
        self, market: Market, instrument: Instrument, order: PlaceOrder
    ) -> RestCall:
        """The request that places one order (quantities already in base units)."""
        ...

    def cancel_order_call(
        self, market: Market, instrument: Instrument, client_order_id: str
    ) -> RestCall:
        """The request that cancels one order by its client order id."""
        ...

    def amend_order_call(
        self, market: Market, instrument: Instrument, amend: AmendOrder
    ) -> RestCall:
        """The request that changes an open order's price or quantity."""
        ...

    def query_order_call(
        self, market: Market, instrument: Instrument, client_order_id: str
    ) -> RestCall:
        """The request that reads one order by its client order id."""
        ...

    def open_orders_call(self, market: Market) -> RestCall:
        """The request that lists a market's open orders."""
        ...

    def parse_order_response(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> Sequence[OrderEvent]:
        """Order events (accepted, rejected, filled...) from an order endpoint's answer."""
        ...

    def private_url(self, ws_base: str) -> str:
        """The private stream's URL."""
        ...

    def private_login_frames(self, venue_time_ns: int) -> list[str]:
        """Frames that authenticate the private stream (empty when the URL does)."""
        ...

    def private_subscribe_frames(self) -> list[str]:
        """Frames that subscribe to orders, fills, positions and balances."""
        ...

    def decode_private(
        self, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[PrivateEvent]:
        """Order, fill, position and balance events (and control messages) from a frame."""
        ...


@attrs.frozen(kw_only=True)
class SignedRequest:
    """A request ready for the wire: what :meth:`TradingAdapter.sign` returns."""

    method: str
    path: str
    query: str
    body: bytes | None
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class VenueDriver:
    """One venue: its REST profile, its market-data adapter and (when it trades) its
    trading adapter. Built by :func:`connector.venues.registry.driver_for`; the
    parts may hold per-stream parser state, so every session and replay gets its
    own driver."""

    name: str
    rest: RestProfile
    market_data: MarketDataAdapter
    trading: TradingAdapter | None = None
