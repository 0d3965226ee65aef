"""Binance's :class:`~connector.venues.driver.TradingAdapter` (spot and USDⓈ-M, sans-I/O).

Built with the account's credentials; every method is pure. The requests,
answers, private streams and limits live in :mod:`.orders`, :mod:`.answers`,
:mod:`.private` and :mod:`.limits`; this class ties them to one signer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.model import (
    AmendOrder,
    Balance,
    Fill,
    Instrument,
    Market,
    Order,
    PlaceOrder,
    Position,
)
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.venues.binance import answers, limits, orders, private
from connector.venues.binance.sign import api_key_headers, encode_params, sign_rest, timed_params
from connector.venues.common import SymbolMap
from connector.venues.driver import (
    HeartbeatRule,
    OrderLimit,
    PrivateEvent,
    PrivateStream,
    RestCall,
    SignedRequest,
)
from connector.venues.signing import Signer

__all__ = ["BinanceTrading"]

_API_KEY_ONLY_PATHS = frozenset({private.LISTEN_KEY_PATH})
"""USER_STREAM security: the API key header, no timestamp or signature."""


class BinanceTrading:
    """The trading side of Binance (also a :class:`~connector.venues.driver.ListenKeyStreams`).

    Args:
        credentials: The account's key (HMAC, RSA or Ed25519).
        recv_window_ms: Sent as ``recvWindow`` on signed requests when given
            (Binance's default is 5000 ms, its maximum 60000).
    """

    name = "binance"

    def __init__(self, credentials: Credentials, *, recv_window_ms: int | None = None) -> None:
        self._signer = Signer.from_credentials(credentials)
        self._recv_window_ms = recv_window_ms

    def sign(self, call: RestCall, venue_time_ns: int) -> SignedRequest:
        """Query string percent-encoded in ``call.params`` order, then ``recvWindow``,
        ``timestamp`` and ``signature`` (over query + body, exactly as sent)."""
        params = [(k, str(v)) for k, v in call.params.items()]
        body_text = call.body.decode("ascii") if call.body else ""
        if call.path in _API_KEY_ONLY_PATHS:
            return SignedRequest(
                method=call.method,
                path=call.path,
                query=encode_params(params),
                body=call.body,
                headers=api_key_headers(self._signer),
            )
        if not call.signed:
            return SignedRequest(
                method=call.method, path=call.path, query=encode_params(params), body=call.body
            )
        timed = timed_params(params, now_ns=venue_time_ns, recv_window_ms=self._recv_window_ms)
        signed = sign_rest(self._signer, query=encode_params(timed), body=body_text)
        headers = dict(signed.headers)
        if call.body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return SignedRequest(
            method=call.method,
            path=call.path,
            query=signed.query,
            body=signed.body.encode("ascii") if call.body else None,
            headers=headers,
        )

    # Requests ---------------------------------------------------------------

    def place_order_call(
        self, market: Market, instrument: Instrument, order: PlaceOrder
    ) -> RestCall:
        return orders.place_order_call(market, instrument, order)

    def cancel_order_call(
        self,
        market: Market,
        instrument: Instrument,
        client_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        return orders.cancel_order_call(market, instrument, client_order_id)

    def amend_order_call(
        self, market: Market, instrument: Instrument, amend: AmendOrder, current: Order
    ) -> RestCall:
        return orders.amend_order_call(market, instrument, amend, current)

    def query_order_call(
        self, market: Market, instrument: Instrument, client_order_id: str
    ) -> RestCall:
        return orders.query_order_call(market, instrument, client_order_id)

    def query_order_by_venue_id_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        return orders.query_order_by_venue_id_call(market, instrument, venue_order_id)

    def open_orders_call(self, market: Market) -> RestCall:
        return orders.open_orders_call(market)

    def fills_call(
        self, market: Market, instrument: Instrument | None, since_ns: int | None
    ) -> RestCall:
        return orders.fills_call(market, instrument, since_ns)

    def fills_window_ns(self, market: Market) -> int | None:
        return orders.FILLS_WINDOW_NS.get(market)

    def order_fills_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        return orders.order_fills_call(market, instrument, venue_order_id)

    def balances_call(self, market: Market) -> RestCall:
        return orders.balances_call(market)

    def positions_call(self, market: Market) -> RestCall | None:
        return orders.positions_call(market)

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
        return answers.parse_order_answer(
            market,
            symbols,
            status,
            body,
            ts_recv_ns,
            action=action,
            client_order_id=client_order_id,
        )

    def parse_open_orders(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[OrderReport]:
        return answers.parse_open_orders(market, symbols, body, ts_recv_ns)

    def parse_fills(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[Fill]:
        return answers.parse_fills(market, symbols, body, ts_recv_ns)

    def parse_balances(self, market: Market, body: bytes, ts_recv_ns: int) -> list[Balance]:
        return answers.parse_balances(market, body, ts_recv_ns)

    def parse_positions(
        self, market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
    ) -> list[Position]:
        return answers.parse_positions(market, symbols, body, ts_recv_ns)

    # Private stream ---------------------------------------------------------

    def private_streams(self, markets: Sequence[Market]) -> list[PrivateStream]:
        return private.private_streams(markets)

    def private_url(
        self, stream: PrivateStream, urls: Mapping[str, str], listen_key: str | None = None
    ) -> str:
        return private.private_url(stream, urls, listen_key)

    def private_heartbeat(self, stream: PrivateStream) -> HeartbeatRule:
        return private.private_heartbeat(stream)

    def private_login_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """None: spot's subscription is itself signed, USDⓈ-M's URL carries the key."""
        return []

    def private_subscribe_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """Spot: ``userDataStream.subscribe.signature``; USDⓈ-M: none."""
        if stream.key == private.SPOT_STREAM.key:
            return [private.subscribe_frame(self._signer, venue_time_ns)]
        return []

    def decode_private(
        self, stream: PrivateStream, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[PrivateEvent]:
        return private.decode_private(stream, raw, symbols, ts_recv_ns)

    # Listen keys (USDⓈ-M) -----------------------------------------------------

    def listen_key_keepalive_s(self, stream: PrivateStream) -> float:
        return private.LISTEN_KEY_KEEPALIVE_S

    def listen_key_call(
        self, stream: PrivateStream, action: str, listen_key: str | None
    ) -> RestCall:
        if not stream.listen_key:
            raise ValueError(f"binance {stream.key} private stream takes no listenKey")
        return private.listen_key_call(action, listen_key)

    def parse_listen_key(self, body: bytes) -> str:
        return private.parse_listen_key(body)

    # Limits -----------------------------------------------------------------

    def order_limits(self, market: Market) -> Sequence[OrderLimit]:
        return limits.order_limits(market)

    def read_order_counts(self, market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
        return limits.read_order_counts(market, headers)
