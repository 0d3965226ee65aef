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

from collections.abc import Callable, Mapping, Sequence
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
    Order,
    PlaceOrder,
    Position,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.venues.common import ControlMessage, MarketEvent, SymbolMap

PrivateEvent = OrderReport | Fill | Position | Balance | ControlMessage
"""What one decoded private-stream frame may hold."""

__all__ = [
    "Bucket",
    "CancelAllCalls",
    "ConnectionPlan",
    "FillsWindow",
    "HeartbeatRule",
    "ListenKeyStreams",
    "MarketDataAdapter",
    "MarketEvent",
    "OrderLimit",
    "OrderSocketEntry",
    "PagedInstruments",
    "PagedListings",
    "PrivateEvent",
    "PrivateStream",
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

    ``protocol_ping``: also send websocket pings (private streams, which can stay
    silent for longer than ``timeout``).
    """

    interval: float
    ping: str | None
    timeout: float
    book_silence: float = 0.0
    protocol_ping: bool = False


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

    def change_streams(
        self,
        plan: ConnectionPlan,
        subscribe: Sequence[StreamSpec],
        unsubscribe: Sequence[StreamSpec],
    ) -> tuple[ConnectionPlan, list[str]]:
        """A socket's plan with streams added and removed at run time, and the frames
        that do it on the open socket (Binance ``SUBSCRIBE``/``UNSUBSCRIBE``; Bybit,
        OKX ``op`` ``subscribe``/``unsubscribe``).

        The new plan is what a reconnect subscribes (Binance: its URL names the
        streams). The caller keeps within the venue's per-connection limits (it adds
        only where :meth:`plan_connections` fits the streams on one socket).
        """
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

    def snapshot_limit(self, market: Market) -> int | None:
        """Where the deltas cover the whole book, the most levels per side a REST
        snapshot holds (its ``limit``); ``None`` where a snapshot is the whole book."""
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


@runtime_checkable
class FillsWindow(Protocol):
    """An optional part of a :class:`TradingAdapter`: the span a fills listing covers.

    Bybit ``/v5/execution/list`` and Binance USDⓈ-M ``/fapi/v1/userTrades`` list
    at most 7 days from ``startTime``: a cursor further back would get a window
    that ends before now. Reconciliation keeps ``since_ns`` within the span.
    """

    def fills_window_ns(self, market: Market) -> int | None:
        """How far after ``since_ns`` a ``fills_call`` listing reaches (``None``: up to now)."""
        ...


@runtime_checkable
class PagedListings(Protocol):
    """An optional part of a :class:`TradingAdapter`: open orders and fills in pages.

    An adapter that has this method (Bybit: ``nextPageCursor``; OKX: ``after``)
    is asked for the next page after each answer to ``open_orders_call`` or
    ``fills_call``; the concatenated pages are the listing. Without it a
    listing is one answer.
    """

    def next_page_call(self, market: Market, call: RestCall, body: bytes) -> RestCall | None:
        """The request for the page after ``body`` (the answer to ``call``), or
        ``None`` when that was the last page."""
        ...


@attrs.frozen(kw_only=True)
class PrivateStream:
    """One private websocket of a venue, and the markets whose events it carries.

    Binance has one per market (spot: the WebSocket API's
    ``userDataStream.subscribe.signature``; USDⓈ-M: a listenKey stream); Bybit
    and OKX carry every market on one socket. The account service opens one
    socket per stream and passes the stream back to every private method.

    Attributes:
        key: A name unique within the venue (``spot``, ``linear``, ``all``...).
        markets: The markets whose orders, fills, positions and balances it carries.
        listen_key: The URL needs a key from REST first (Binance USDⓈ-M): the
            adapter is then also a :class:`ListenKeyStreams`.
    """

    key: str
    markets: tuple[Market, ...]
    listen_key: bool = False


@attrs.frozen(kw_only=True)
class OrderLimit:
    """An order-count bucket: at most ``capacity`` orders per ``period`` seconds.

    Attributes:
        name: The bucket's name (``orders_10s``, ``orders_1d``...), as
            :meth:`TradingAdapter.read_order_counts` reports it.
        capacity: Orders allowed per period.
        period: The window in seconds.
        scope: ``account`` (counted across every host and socket of the account)
            or ``instrument`` (OKX: per instId).
        actions: The requests it counts: ``place``, ``amend``, ``cancel`` (Bybit and
            OKX count each endpoint apart, Binance counts new orders).
    """

    name: str
    capacity: float
    period: float
    scope: str = "account"
    actions: frozenset[str] = frozenset({"place", "amend"})


class TradingAdapter(Protocol):
    """A venue's trading side, described for the order and account services (sans-I/O).

    Every method is pure: an adapter is built with the account's credentials,
    time comes in as an argument, requests go out as :class:`RestCall` values
    (or websocket frames), and answers come back as model values. The trio
    services carry them out: the command path (``oms/service.py``) builds a
    request, acquires the order lane of the host's limiter, signs it with the
    clock's venue time and sends it; the account service runs the private
    stream.

    Quantities are always in base-asset units: the adapter converts to the
    venue's units (OKX swap contracts via ``ctVal``; Bybit and OKX spot market
    buys sent in base units) and raises :class:`~connector.errors.InvalidOrder`
    for a quantity that is not a whole number of contracts or lots.

    The answer parsers raise, for an answer that is not a usable report:

    * :class:`~connector.errors.OrderRejected` (venue code and message): the venue
      definitely refused the order; nothing was placed;
    * :class:`~connector.errors.OrderNotFound`: the venue does not know the order
      (a query or cancel of an order that never existed or is archived);
    * :class:`~connector.errors.TimestampRejected`: resync the clock, then retry;
    * :class:`~connector.errors.AuthenticationFailed`,
      :class:`~connector.errors.RateLimited` (``IpBanned``);
    * :class:`~connector.errors.ServiceUnavailable`: the outcome is **unknown**
      (HTTP 5xx, Binance -1006/-1007, ...): the command path marks the order
      ``unknown`` and resolves it by a query, never by resending;
    * :class:`~connector.errors.ExchangeRejected`: any other venue error;
    * :class:`~connector.errors.MalformedMessage`: a body that does not parse.
    """

    name: str

    def sign(self, call: RestCall, venue_time_ns: int) -> SignedRequest:
        """The request as it goes on the wire: query, body and headers, signed.

        ``call.params`` and ``call.body`` are serialised once, here, and the
        signature is computed over exactly those bytes.
        """
        ...

    # Requests ---------------------------------------------------------------

    def place_order_call(
        self, market: Market, instrument: Instrument, order: PlaceOrder
    ) -> RestCall:
        """The request that places one order (quantities in base units)."""
        ...

    def cancel_order_call(
        self,
        market: Market,
        instrument: Instrument,
        client_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        """The request that cancels one order by its client order id (``current``: the
        order as known locally, so a bare acknowledgement can be reported even when
        this adapter did not place it: placed by another process or before a restart)."""
        ...

    def cancel_order_by_venue_id_call(
        self,
        market: Market,
        instrument: Instrument,
        venue_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        """The request that cancels one order by the venue's order id: an order placed
        elsewhere without a client order id (kept as ``#`` + that id); its answer is
        read as a cancel's with that key as the client order id."""
        ...

    def amend_order_call(
        self, market: Market, instrument: Instrument, amend: AmendOrder, current: Order
    ) -> RestCall:
        """The request that changes an open order's price or quantity.

        ``current`` is the order as known locally: Binance USDⓈ-M wants the side,
        quantity and price in every modify, whichever of them changes.

        Raises:
            InvalidOrder: the venue cannot amend this way in ``market`` (the
                message says what it allows).
        """
        ...

    def query_order_call(
        self, market: Market, instrument: Instrument, client_order_id: str
    ) -> RestCall:
        """The request that reads one order by its client order id."""
        ...

    def query_order_by_venue_id_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        """The request that reads one order by the venue's order id (its answer is read
        as a query's: ``parse_order_answer(..., action="query")``). Reconciliation
        uses it to learn the client order id of a fill listed without one (Binance
        ``myTrades`` and ``userTrades`` name only ``orderId``)."""
        ...

    def open_orders_call(self, market: Market) -> RestCall:
        """The request that lists the open orders of every symbol of a market."""
        ...

    def fills_call(
        self, market: Market, instrument: Instrument | None, since_ns: int | None
    ) -> RestCall:
        """The request that lists the account's fills since ``since_ns`` (venue time).

        Raises:
            ValueError: ``instrument`` is ``None`` and the venue needs a symbol
                (Binance); the message names the venue and market.
        """
        ...

    def order_fills_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        """The request that lists the fills of one order, by the venue's order id (read
        with ``parse_fills``). Reconciliation asks it for an order that shows more
        filled than its fills add up to, whatever a time window missed."""
        ...

    def balances_call(self, market: Market) -> RestCall:
        """The request that reads the balances of a market's account."""
        ...

    def positions_call(self, market: Market) -> RestCall | None:
        """The request that reads a market's positions; ``None`` where there are none (spot)."""
        ...

    # Answers ----------------------------------------------------------------

    def parse_order_answer(
        self,
        market: Market,
        symbols: SymbolMap,
        status: int,
        body: bytes,
        ts_recv_ns: int,
        *,
        action: str,
        client_order_id: str,
    ) -> OrderReport:
        """The order as the answer to a place, cancel, amend or query request reports it.

        Args:
            status: The HTTP status.
            action: Which request this answers: ``place``, ``cancel``, ``amend``
                or ``query``. Only a ``place`` refusal is an
                :class:`~connector.errors.OrderRejected` (the order does not
                exist); a refused cancel or amend is an ``ExchangeRejected``
                and leaves the order as it was.
            client_order_id: The order's id (carried by ``OrderRejected``).

        Raises as the class docstring lists.
        """
        ...

    def parse_open_orders(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[OrderReport]:
        """The reports of an open-orders answer."""
        ...

    def parse_fills(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[Fill]:
        """The fills of a fills answer (oldest first)."""
        ...

    def parse_balances(self, market: Market, body: bytes, ts_recv_ns: int) -> list[Balance]:
        """The balances of a balances answer."""
        ...

    def parse_positions(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[Position]:
        """The positions of a positions answer (flat ones included, with ``qty`` 0)."""
        ...

    # Private stream ---------------------------------------------------------

    def private_streams(self, markets: Sequence[Market]) -> list[PrivateStream]:
        """The private sockets that carry the events of ``markets``."""
        ...

    def private_url(
        self, stream: PrivateStream, urls: Mapping[str, str], listen_key: str | None = None
    ) -> str:
        """The stream's URL, from the venue's URL table (and the listenKey, when it
        needs one: ValueError if it is missing)."""
        ...

    def private_heartbeat(self, stream: PrivateStream) -> HeartbeatRule:
        """The keep-alive rule of the private socket."""
        ...

    def private_login_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """Frames that authenticate the socket (empty when the URL does)."""
        ...

    def private_subscribe_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """Frames that subscribe to orders, fills, positions and balances.

        Sent after the login ack (if any); Binance spot's subscription is itself
        signed, hence the time.
        """
        ...

    def decode_private(
        self, stream: PrivateStream, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[PrivateEvent]:
        """Order reports, fills, positions, balances and control messages from a frame.

        Control messages have ``kind`` ``login``, ``subscribed``, ``pong``,
        ``error``, or ``expired`` (the stream ended on the venue's side:
        Binance ``listenKeyExpired``, ``eventStreamTerminated``): reconnect,
        re-authenticate and reconcile. Raises MalformedMessage on a bad frame.
        """
        ...

    # Limits -----------------------------------------------------------------

    def order_limits(self, market: Market) -> Sequence[OrderLimit]:
        """The order-count buckets of ``market`` (what the venue documents)."""
        ...

    def read_order_counts(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        """``{bucket: orders left}`` read from an order answer's headers (may be empty)."""
        ...


@runtime_checkable
class ListenKeyStreams(Protocol):
    """An optional part of a :class:`TradingAdapter`: streams opened by a REST key.

    Binance USDⓈ-M: ``POST`` creates the key, ``PUT`` keeps it alive (every
    ``keepalive_s``), ``DELETE`` closes it; a ``listenKeyExpired`` event (or
    -1125 on a keepalive) means a new key and a new socket.
    """

    def listen_key_keepalive_s(self, stream: PrivateStream) -> float:
        """How often to keep the key alive, in seconds."""
        ...

    def listen_key_call(
        self, stream: PrivateStream, action: str, listen_key: str | None
    ) -> RestCall:
        """The request that does ``action`` (``create``, ``keepalive``, ``close``)."""
        ...

    def parse_listen_key(self, body: bytes) -> str:
        """The listenKey in a create (or keepalive) answer."""
        ...


@runtime_checkable
class AccountSetup(Protocol):
    """An optional part of a :class:`TradingAdapter`: account settings read over REST
    before the first reconciliation and at every one after (OKX ``GET
    /api/v5/account/config``: the account mode decides the spot orders' ``tdMode``;
    an account in long/short position mode cannot be traded).

    A setting the adapter cannot trade with fails the reconciliation, so the venue
    takes no new order, and the refusal names the setting, until it is changed.
    """

    def account_setup_call(self) -> RestCall:
        """The request that reads the account's settings."""
        ...

    def apply_account_setup(self, body: bytes) -> None:
        """Take the settings from the answer to :meth:`account_setup_call`.

        Raises:
            ConfigError: A setting this adapter cannot trade with (the message says
                how to change it).
            RemoteError: An error answer, or one that does not parse.
        """
        ...


@runtime_checkable
class CancelAllCalls(Protocol):
    """An optional part of a :class:`TradingAdapter`: cancelling many open orders of one
    symbol in few requests (``cancel_all`` and the kill switch send them first, then
    cancel one by one whatever is still open).

    Binance spot ``DELETE /api/v3/openOrders`` (answers with each order canceled),
    USDⓈ-M ``DELETE /fapi/v1/allOpenOrders`` and Bybit ``POST /v5/order/cancel-all``
    (every open order of the symbol, one request; acknowledged only: the private
    stream, or a read-back, tells each order's end); OKX ``POST
    /api/v5/trade/cancel-batch-orders`` (the orders named, 20 per request).
    """

    def cancel_all_calls(
        self, market: Market, instrument: Instrument, client_order_ids: Sequence[str]
    ) -> list[tuple[RestCall, int]]:
        """The requests that cancel these open orders of ``instrument`` (or all of its
        open orders), each with how many orders it counts against the venue's
        ``cancel_all`` order limit. An order placed elsewhere without a client id is
        named ``#`` + the venue's order id."""
        ...

    def parse_cancel_all_answer(
        self, market: Market, symbols: SymbolMap, status: int, body: bytes, ts_recv_ns: int
    ) -> list[OrderReport]:
        """The orders the answer reports canceled (empty for a bare acknowledgement; an
        order the request could not cancel is left to the caller's one-by-one cancel).

        Raises:
            OrderNotFound: nothing was open; otherwise as ``parse_order_answer``.
        """
        ...


@runtime_checkable
class OrderSocketEntry(Protocol):
    """An optional part of a :class:`TradingAdapter`: order entry over the venue's
    websocket API (Binance's WebSocket APIs, Bybit ``/v5/trade``, OKX
    ``/ws/v5/private``), used when the venue's config says ``order_entry = "websocket"``.

    Each socket (a :class:`PrivateStream`: a key and the markets it carries) logs in
    once if the venue asks for it; then a place, amend or cancel goes on it as the
    same :class:`RestCall` the REST path would send, made into a websocket request,
    and its reply, made into a REST answer (:meth:`order_socket_answer`), is read by
    :meth:`TradingAdapter.parse_order_answer`.
    """

    def order_sockets(self, markets: Sequence[Market]) -> list[PrivateStream]:
        """The order sockets these markets need (one for every market, or one each)."""
        ...

    def order_socket_url(self, socket: PrivateStream, urls: Mapping[str, str]) -> str:
        """The socket's URL (``ValueError`` when the URL table has none)."""
        ...

    def order_socket_heartbeat(self, socket: PrivateStream) -> HeartbeatRule:
        """The socket's keep-alive."""
        ...

    def order_socket_login_frames(self, socket: PrivateStream, venue_time_ns: int) -> list[str]:
        """The login frames, signed with the venue's time; none when every request is
        signed on its own (the socket is ready once connected)."""
        ...

    def order_socket_request(
        self, call: RestCall, instrument: Instrument
    ) -> Callable[[str, int], str] | None:
        """What makes ``call``'s request frame (an order of ``instrument``) from
        ``(request_id, venue_time_ns)``; ``None`` when the venue has no websocket op
        for it (it goes over REST)."""
        ...

    def order_socket_reply_id(self, data: str | bytes) -> str | None:
        """The request id an order reply answers; ``None`` for any other frame."""
        ...

    def order_socket_control(self, data: str | bytes) -> ControlMessage | None:
        """Any other frame: the login answer (``login``), a ``pong``, an ``error``."""
        ...

    def order_socket_answer(self, data: str | bytes) -> tuple[int, Mapping[str, str], bytes]:
        """An order reply as the REST answer it stands for: ``(HTTP status, headers,
        body)``, the headers the rate-limit ones ``read_order_counts`` reads."""
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
