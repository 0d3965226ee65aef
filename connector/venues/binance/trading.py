"""Binance's :class:`~connector.venues.driver.TradingAdapter` (spot and USDⓈ-M, sans-I/O).

Built with the account's credentials; every method is pure. The requests,
answers, private streams and limits live in :mod:`.orders`, :mod:`.answers`,
:mod:`.private` and :mod:`.limits`; this class ties them to one signer. A
method that needs neither the signer nor other arguments is the module's
function itself (a ``staticmethod``: the protocol's signature, checked by mypy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connector.model import Instrument, Market, Order
from connector.model.credentials import Credentials
from connector.venues.binance import answers, limits, order_socket, orders, private
from connector.venues.binance.sign import api_key_headers, encode_params, sign_rest, timed_params
from connector.venues.driver import HeartbeatRule, PrivateStream, RestCall, SignedRequest
from connector.venues.signing import Signer

__all__ = ["BinanceTrading"]

_API_KEY_ONLY_PATHS = frozenset({private.LISTEN_KEY_PATH})
"""USER_STREAM security: the API key header, no timestamp or signature."""


class BinanceTrading:
    """The trading side of Binance (also a :class:`~connector.venues.driver.ListenKeyStreams`,
    a :class:`~connector.venues.driver.CancelAllCalls` and an
    :class:`~connector.venues.driver.OrderSocketEntry`: the WebSocket APIs).

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

    place_order_call = staticmethod(orders.place_order_call)

    def cancel_order_call(
        self,
        market: Market,
        instrument: Instrument,
        client_order_id: str,
        current: Order | None = None,
    ) -> RestCall:
        return orders.cancel_order_call(market, instrument, client_order_id)

    cancel_order_by_venue_id_call = staticmethod(orders.cancel_order_by_venue_id_call)
    cancel_all_calls = staticmethod(orders.cancel_all_calls)
    amend_order_call = staticmethod(orders.amend_order_call)
    query_order_call = staticmethod(orders.query_order_call)
    query_order_by_venue_id_call = staticmethod(orders.query_order_by_venue_id_call)
    open_orders_call = staticmethod(orders.open_orders_call)
    fills_call = staticmethod(orders.fills_call)

    def fills_window_ns(self, market: Market) -> int | None:
        return orders.FILLS_WINDOW_NS.get(market)

    order_fills_call = staticmethod(orders.order_fills_call)
    balances_call = staticmethod(orders.balances_call)
    positions_call = staticmethod(orders.positions_call)

    # Answers ----------------------------------------------------------------

    parse_order_answer = staticmethod(answers.parse_order_answer)
    parse_cancel_all_answer = staticmethod(answers.parse_cancel_all_answer)
    parse_open_orders = staticmethod(answers.parse_open_orders)
    parse_fills = staticmethod(answers.parse_fills)
    parse_balances = staticmethod(answers.parse_balances)
    parse_positions = staticmethod(answers.parse_positions)

    # Private stream ---------------------------------------------------------

    private_streams = staticmethod(private.private_streams)

    def private_url(
        self, stream: PrivateStream, urls: Mapping[str, str], listen_key: str | None = None
    ) -> str:
        return private.private_url(stream, urls, listen_key)

    private_heartbeat = staticmethod(private.private_heartbeat)

    def private_login_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """None: spot's subscription is itself signed, USDⓈ-M's URL carries the key."""
        return []

    def private_subscribe_frames(self, stream: PrivateStream, venue_time_ns: int) -> list[str]:
        """Spot: ``userDataStream.subscribe.signature``; USDⓈ-M: none."""
        if stream.key == private.SPOT_STREAM.key:
            return [private.subscribe_frame(self._signer, venue_time_ns)]
        return []

    decode_private = staticmethod(private.decode_private)

    # Listen keys (USDⓈ-M) -----------------------------------------------------

    def listen_key_keepalive_s(self, stream: PrivateStream) -> float:
        return private.LISTEN_KEY_KEEPALIVE_S

    def listen_key_call(
        self, stream: PrivateStream, action: str, listen_key: str | None
    ) -> RestCall:
        if not stream.listen_key:
            raise ValueError(f"binance {stream.key} private stream takes no listenKey")
        return private.listen_key_call(action, listen_key)

    parse_listen_key = staticmethod(private.parse_listen_key)

    # Websocket order entry (the WebSocket APIs) ------------------------------

    order_sockets = staticmethod(order_socket.sockets)
    order_socket_url = staticmethod(order_socket.url)

    def order_socket_heartbeat(self, socket: PrivateStream) -> HeartbeatRule:
        return order_socket.heartbeat()

    def order_socket_login_frames(self, socket: PrivateStream, venue_time_ns: int) -> list[str]:
        return []  # every request is signed on its own

    def order_socket_request(
        self, call: RestCall, instrument: Instrument
    ) -> Callable[[str, int], str] | None:
        return order_socket.request_builder(self._signer, call, self._recv_window_ms)

    order_socket_reply_id = staticmethod(order_socket.reply_id)
    order_socket_control = staticmethod(order_socket.control)
    order_socket_answer = staticmethod(order_socket.answer)

    # Limits -----------------------------------------------------------------

    order_limits = staticmethod(limits.order_limits)
    read_order_counts = staticmethod(limits.read_order_counts)
