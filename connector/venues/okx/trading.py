"""OKX's :class:`~connector.venues.driver.TradingAdapter` (sans-I/O).

Glue over :mod:`.orders` (requests and answers), :mod:`.private` (the private
stream), :mod:`.limits` (order-rate buckets) and :mod:`.sign` (v5 signing). A
method that needs neither the signer, the asked orders nor other arguments is
the module's function itself (a ``staticmethod``: the protocol's signature,
checked by mypy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlencode

from connector.errors import ConfigError
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
from connector.venues.common import SymbolMap
from connector.venues.driver import (
    HeartbeatRule,
    PrivateEvent,
    PrivateStream,
    RestCall,
    SignedRequest,
)
from connector.venues.okx import account, limits, order_socket, orders, private
from connector.venues.okx.sign import sign_rest, signature
from connector.venues.signing import Signer
from connector.venues.trading_common import AskedOrders

__all__ = ["OkxTrading"]


class OkxTrading:
    """OKX v5 trading for one account (spot and swaps, net position mode); also a
    :class:`~connector.venues.driver.CancelAllCalls` and an
    :class:`~connector.venues.driver.OrderSocketEntry` (order ops on ``/ws/v5/private``).

    The account's configuration (``GET /api/v5/account/config``) is read before
    trading and at every reconciliation (:meth:`account_setup_call`,
    :meth:`apply_account_setup`): its account mode decides the spot orders'
    ``tdMode`` (``cash``, or ``cross`` in Multi-currency and Portfolio margin), and
    an account in long/short position mode is refused (:class:`ConfigError`).
    Until it is read, spot orders are sent ``cash``.

    Args:
        credentials: The account's HMAC key with its passphrase.
        demo: Demo trading: every request carries ``x-simulated-trading: 1``.
        td_mode: The swaps' margin mode, ``cross`` or ``isolated`` (spot's follows
            the account mode).
    """

    name = "okx"

    def __init__(
        self, credentials: Credentials, *, demo: bool = False, td_mode: str = "cross"
    ) -> None:
        if td_mode not in ("cross", "isolated"):
            raise ValueError(f"okx td_mode {td_mode!r}: expected cross or isolated")
        self._signer = Signer.from_credentials(credentials)
        signature(self._signer, b"")  # a key type the venue does not take fails here
        if not credentials.passphrase:
            raise ConfigError("okx credentials need the passphrase chosen when the key was created")
        self._demo = demo
        self._td_mode = td_mode
        self._asked = AskedOrders()
        self._config: account.AccountConfig | None = None

    @property
    def config(self) -> account.AccountConfig | None:
        """The account's configuration as last read (``None`` before)."""
        return self._config

    def sign(self, call: RestCall, venue_time_ns: int) -> SignedRequest:
        query = urlencode([(k, str(v)) for k, v in call.params.items()])
        request_path = f"{call.path}?{query}" if query else call.path
        headers = sign_rest(
            self._signer,
            method=call.method,
            request_path=request_path,
            body=call.body if call.body is not None else b"",
            now_ns=venue_time_ns,
            demo=self._demo,
        )
        if call.body is not None:
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
        spot_td_mode = "cash" if self._config is None else self._config.spot_td_mode
        return orders.place_order_call(
            self._asked, market, instrument, order, self._td_mode, spot_td_mode
        )

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
        return orders.query_order_call(instrument, client_order_id)

    def query_order_by_venue_id_call(
        self, market: Market, instrument: Instrument, venue_order_id: str
    ) -> RestCall:
        return orders.query_order_call(instrument, venue_order_id=venue_order_id)

    open_orders_call = staticmethod(orders.open_orders_call)
    fills_call = staticmethod(account.fills_call)
    order_fills_call = staticmethod(account.order_fills_call)

    def balances_call(self, market: Market) -> RestCall:
        return account.balances_call()

    positions_call = staticmethod(account.positions_call)

    def next_page_call(self, market: Market, call: RestCall, body: bytes) -> RestCall | None:
        return orders.next_page_call(call, body)

    # The account's configuration -------------------------------------------

    account_setup_call = staticmethod(account.config_call)

    def apply_account_setup(self, body: bytes) -> None:
        """Take the account's configuration (the answer to :meth:`account_setup_call`).

        Raises:
            ConfigError: The account is in long/short position mode (the message
                says how to switch it); the configuration is not taken.
            MalformedMessage, ...: As :func:`.account.parse_config` says.
        """
        self._config = account.parse_config(body)

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
        return account.parse_balances(body)

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
        return private.subscribe_frames(stream)

    def decode_private(
        self, stream: PrivateStream, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
    ) -> Sequence[PrivateEvent]:
        return private.decode_private(raw, symbols, ts_recv_ns)

    # Websocket order entry --------------------------------------------------

    def order_sockets(self, markets: Sequence[Market]) -> list[PrivateStream]:
        return private.streams(markets)  # one socket, as the private stream

    def order_socket_url(self, socket: PrivateStream, urls: Mapping[str, str]) -> str:
        return private.private_url(socket, urls)

    def order_socket_heartbeat(self, socket: PrivateStream) -> HeartbeatRule:
        return private.heartbeat()

    def order_socket_login_frames(self, socket: PrivateStream, venue_time_ns: int) -> list[str]:
        return private.login_frames(self._signer, venue_time_ns)

    def order_socket_request(
        self, call: RestCall, instrument: Instrument
    ) -> Callable[[str, int], str] | None:
        if self._demo:
            # Demo trading's websocket refuses the instIdCode its REST lists (51001,
            # nautechsystems/nautilus_trader#4964): demo orders stay on REST.
            return None
        return order_socket.request_builder(call, instrument)

    order_socket_reply_id = staticmethod(order_socket.reply_id)
    order_socket_control = staticmethod(private.control)

    def order_socket_answer(self, data: str | bytes) -> tuple[int, Mapping[str, str], bytes]:
        # The REST envelope; OKX answers carry no rate-limit header.
        return 200, {}, data.encode() if isinstance(data, str) else data

    # Limits -----------------------------------------------------------------

    order_limits = staticmethod(limits.order_limits)
    read_order_counts = staticmethod(limits.read_order_counts)
