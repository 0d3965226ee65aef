"""Bybit's :class:`~connector.venues.driver.TradingAdapter` (sans-I/O).

Glue over :mod:`.orders` (requests and answers), :mod:`.private` (the private
stream), :mod:`.limits` (order-rate buckets) and :mod:`.sign` (v5 signing). A
method that needs neither the signer, the asked orders nor other arguments is
the module's function itself (a ``staticmethod``: the protocol's signature,
checked by mypy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote

from connector.model import (
    AmendOrder,
    Balance,
    Instrument,
    Market,
    Order,
    PlaceOrder,
    Position,
)
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.venues.bybit import account, limits, order_socket, orders, private
from connector.venues.bybit.sign import DEFAULT_RECV_WINDOW_MS, sign_rest, signature
from connector.venues.common import SymbolMap
from connector.venues.driver import (
    HeartbeatRule,
    PrivateEvent,
    PrivateStream,
    RestCall,
    SignedRequest,
)
from connector.venues.signing import Signer
from connector.venues.trading_common import AskedOrders

__all__ = ["BybitTrading"]


class BybitTrading:
    """Bybit v5 trading for one account (spot and linear, one-way positions); also a
    :class:`~connector.venues.driver.CancelAllCalls` and an
    :class:`~connector.venues.driver.OrderSocketEntry` (``/v5/trade``).

    Args:
        credentials: The account's API key (HMAC or RSA).
        recv_window_ms: Sent as ``X-BAPI-RECV-WINDOW`` on every signed request.
    """

    name = "bybit"

    def __init__(
        self, credentials: Credentials, *, recv_window_ms: int = DEFAULT_RECV_WINDOW_MS
    ) -> None:
        self._signer = Signer.from_credentials(credentials)
        signature(self._signer, b"")  # a key type the venue does not take fails here
        self._recv_window_ms = recv_window_ms
        self._asked = AskedOrders()

    def sign(self, call: RestCall, venue_time_ns: int) -> SignedRequest:
        # ``%`` stays as is: Bybit's ``nextPageCursor`` comes percent-encoded and is
        # sent back verbatim (as pybit does); the signature covers the query as sent.
        query = "&".join(f"{quote(k)}={quote(str(v), safe='%')}" for k, v in call.params.items())
        body = call.body if call.body is not None else b""
        headers = sign_rest(
            self._signer,
            method=call.method,
            query=query,
            body=body,
            now_ns=venue_time_ns,
            recv_window_ms=self._recv_window_ms,
        )
        if call.method.upper() == "POST":
            headers["Content-Type"] = "application/json"
        return SignedRequest(
            method=call.method.upper(),
            path=call.path,
            query=query,
            body=call.body,
            headers=headers,
        )

    # Requests ---------------------------------------------------------------

    def place_order_call(
        self, market: Market, instrument: Instrument, order: PlaceOrder
    ) -> RestCall:
        return orders.place_order_call(self._asked, market, instrument, order)

    def cancel_order_call(
        self,
        market: Market,
        instrument: Instrument,
        client_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        return orders.cancel_order_call(self._asked, market, instrument, client_order_id, current)

    def cancel_order_by_venue_id_call(
        self,
        market: Market,
        instrument: Instrument,
        venue_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        return orders.cancel_order_by_venue_id_call(
            self._asked, market, instrument, venue_order_id, current
        )

    cancel_all_calls = staticmethod(orders.cancel_all_calls)

    def amend_order_call(
        self, market: Market, instrument: Instrument, amend: AmendOrder, current: Order
    ) -> RestCall:
        return orders.amend_order_call(self._asked, market, instrument, amend, current)

    def query_order_call(
        self, market: Market, instrument: Instrument, client_order_id: str
    ) -> RestCall:
        return orders.query_order_call(market, instrument, client_order_id)

    def query_order_by_venue_id_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        return orders.query_order_call(market, instrument, venue_order_id=venue_order_id)

    open_orders_call = staticmethod(orders.open_orders_call)
    fills_call = staticmethod(account.fills_call)

    def fills_window_ns(self, market: Market) -> int | None:
        return account.FILLS_WINDOW_NS

    order_fills_call = staticmethod(account.order_fills_call)
    balances_call = staticmethod(account.balances_call)
    positions_call = staticmethod(account.positions_call)

    def next_page_call(self, market: Market, call: RestCall, body: bytes) -> RestCall | None:
        return orders.next_page_call(call, body)

    # Answers ----------------------------------------------------------------

    parse_cancel_all_answer = staticmethod(orders.parse_cancel_all_answer)

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
        return orders.parse_order_answer(
            self._asked,
            market,
            symbols,
            status,
            body,
            ts_recv_ns,
            action=action,
            client_order_id=client_order_id,
        )

    parse_open_orders = staticmethod(orders.parse_open_orders)
    parse_fills = staticmethod(account.parse_fills)

    def parse_balances(self, market: Market, body: bytes, ts_recv_ns: int) -> list[Balance]:
        return account.parse_balances(body, ts_recv_ns)

    def parse_positions(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[Position]:
        return account.parse_positions(symbols, body)

    # Private stream ---------------------------------------------------------

    def private_streams(self, markets: Sequence[Market]) -> list[PrivateStream]:
        return private.streams(markets)

    def private_url(
        self, stream: PrivateStream, urls: Mapping[str, str], listen_key: str | None = None
    ) -> str:
        return private.private_url(stream, urls)

    def private_heartbeat(self, stream: PrivateStream) -> HeartbeatRule:
        return private.heartbeat()

    def private_login_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        return private.login_frames(self._signer, venue_time_ns)

    def private_subscribe_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        return private.subscribe_frames()

    def decode_private(
        self, stream: PrivateStream, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[PrivateEvent]:
        return private.decode_private(raw, symbols, ts_recv_ns)

    # Websocket order entry --------------------------------------------------

    def order_sockets(self, markets: Sequence[Market]) -> list[PrivateStream]:
        return private.streams(markets)  # one socket, as the private stream

    def order_socket_url(self, socket: PrivateStream, urls: Mapping[str, str]) -> str:
        return order_socket.url(socket.markets, urls)

    def order_socket_heartbeat(self, socket: PrivateStream) -> HeartbeatRule:
        return private.heartbeat()

    def order_socket_login_frames(self, socket: PrivateStream, venue_time_ns: int) -> list[str]:
        return order_socket.login_frames(self._signer, venue_time_ns)

    def order_socket_request(
        self, call: RestCall, instrument: Instrument
    ) -> Callable[[str, int], str] | None:
        return order_socket.request_builder(call, self._recv_window_ms)

    order_socket_reply_id = staticmethod(order_socket.reply_id)
    order_socket_control = staticmethod(order_socket.control)
    order_socket_answer = staticmethod(order_socket.answer)

    # Limits -----------------------------------------------------------------

    order_limits = staticmethod(limits.order_limits)
    read_order_counts = staticmethod(limits.read_order_counts)
