"""The venue's truth for tests: what a simulated venue knows of its accounts (read-only).

A :class:`Truth` is a read-only view over one venue's
:class:`~connector.sim.desk.Desk`: every order (open and closed), fill,
balance and position as the engine and the accounts know them, so a test can
compare a client's view with the venue's::

    async with connector.sim.run() as s:
        truth = s.truth("binance")
        ...  # trade through a client
        assert client_orders == truth.open_orders()

Inside a :class:`~connector.Connector` whose venues use ``endpoint = "sim"``,
``connector.simulator.truth("binance")`` gives the same view of the
simulator it runs. ``account`` defaults to the venue's default account
(``<venue>-demo``) for balances and positions and to every account for orders
and fills. Values are the desk's frozen types (:class:`~connector.sim.desk.UserOrder`,
:class:`~connector.sim.desk.UserFill`, :class:`~connector.sim.accounts.Balance`,
:class:`~connector.sim.accounts.Position`).

Over the wire: every REST endpoint of a running simulator answers
``GET /_sim/truth`` (:data:`TRUTH_PATH`, outside every venue's path namespace;
not signed, not rate limited, no faults) with the venue's truth as JSON
(:class:`TruthDocument`: per account its orders, fills, balances and positions
with every field of those frozen types, Decimals as strings, plus the mark
prices). ``connector sim`` names each venue's URL in its first line
(``"truth"``). :func:`fetch_truth` (or :meth:`TruthSnapshot.from_json` on the
body) turns it back into a :class:`TruthSnapshot`, which answers the same
queries as :class:`Truth`, as of the moment the simulator answered.
"""

from __future__ import annotations

import abc
import ssl
from decimal import Decimal

import attrs
import httpx
import msgspec

from connector.errors import (
    ConnectionLost,
    MalformedMessage,
    RemoteError,
    RequestTimeout,
    ServiceUnavailable,
)
from connector.sim.accounts import Balance, Position
from connector.sim.desk import Desk, UserFill, UserOrder
from connector.sim.desk_core import venue_market
from connector.sim.http import Handler, Request, Response

__all__ = [
    "TRUTH_PATH",
    "AccountTruth",
    "Truth",
    "TruthDocument",
    "TruthSnapshot",
    "fetch_truth",
    "truth_handler",
]

TRUTH_PATH = "/_sim/truth"
"""Where every REST endpoint of the simulator serves its venue's truth (no venue's API
has paths under ``/_sim``: Binance ``/api``, ``/sapi``, ``/fapi``; Bybit ``/v5``; OKX
``/api/v5``)."""


@attrs.frozen(kw_only=True)
class AccountTruth:
    """What the venue knows of one account: one entry of :attr:`TruthDocument.accounts`.

    Attributes:
        orders: Every order (open and closed), oldest first.
        fills: Every fill, oldest first.
        balances: Every asset the account has or had, sorted by name.
        positions: Open (non-flat) linear positions, sorted by symbol.
    """

    orders: tuple[UserOrder, ...]
    fills: tuple[UserFill, ...]
    balances: tuple[Balance, ...]
    positions: tuple[Position, ...]


@attrs.frozen(kw_only=True)
class TruthDocument:
    """The truth of one venue as ``GET /_sim/truth`` sends it (the JSON's fields are these).

    Attributes:
        venue: The venue's name.
        default_account: The account used when none is named (``None``: no accounts).
        accounts: Per account, in the order they were configured.
        marks: Mark prices, ``{market: {native_id: price}}``, when the document was made.
    """

    venue: str
    default_account: str | None
    accounts: dict[str, AccountTruth]
    marks: dict[str, dict[str, Decimal]]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(TruthDocument)


def _encode(document: TruthDocument) -> bytes:
    return _encoder.encode(document)


def _decode(data: bytes | str) -> TruthDocument:
    return _decoder.decode(data)


class _Queries(abc.ABC):
    """The queries :class:`Truth` and :class:`TruthSnapshot` share."""

    @property
    @abc.abstractmethod
    def venue(self) -> str:
        """The venue's name."""

    @abc.abstractmethod
    def accounts(self) -> tuple[str, ...]:
        """Every account of the venue."""

    @abc.abstractmethod
    def _default(self) -> str | None: ...

    @abc.abstractmethod
    def _orders_of(
        self, account: str, market: str | None, native_id: str | None
    ) -> list[UserOrder]:
        """One account's orders (of one market / instrument when given), oldest first."""

    @abc.abstractmethod
    def _fills_of(
        self, account: str, market: str | None, native_id: str | None, order_id: str | None
    ) -> list[UserFill]:
        """One account's fills, filtered, oldest first."""

    @abc.abstractmethod
    def balances(self, account: str | None = None) -> tuple[Balance, ...]:
        """Every asset of ``account`` (default account: None)."""

    @abc.abstractmethod
    def balance(self, asset: str, account: str | None = None) -> Balance:
        """One asset of ``account`` (default account: None); zero when never held."""

    @abc.abstractmethod
    def positions(self, account: str | None = None) -> tuple[Position, ...]:
        """Open linear positions of ``account`` (default account: None), sizes in base units."""

    @abc.abstractmethod
    def mark_price(self, market: str, native_id: str) -> Decimal:
        """The mark price the venue uses for ``native_id``.

        Raises:
            KeyError: unknown instrument.
        """

    def default_account(self) -> str:
        """The account used when none is named.

        Raises:
            LookupError: the venue has no accounts.
        """
        account = self._default()
        if account is None:
            raise LookupError(f"the simulated {self.venue} has no accounts")
        return account

    def _each(self, account: str | None) -> tuple[str, ...]:
        return self.accounts() if account is None else (account,)

    def orders(
        self, account: str | None = None, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """Every order (open and closed) of ``account`` (all accounts: None), oldest first."""
        out = [o for a in self._each(account) for o in self._orders_of(a, market, native_id)]
        return sorted(out, key=lambda o: int(o.order_id))

    def open_orders(
        self, account: str | None = None, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """Resting orders of ``account`` (all accounts: None), oldest first."""
        return [o for o in self.orders(account, market, native_id) if o.is_open]

    def order(
        self,
        account: str | None = None,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> UserOrder | None:
        """One order by venue id, or the latest with a client id, in any market
        (of ``account``, or of any account when None)."""
        found: UserOrder | None = None
        for order in self.orders(account):
            if order_id is not None and order.order_id == order_id:
                return order
            if client_order_id is not None and order.client_order_id == client_order_id:
                found = order
        return found

    def fills(
        self,
        account: str | None = None,
        market: str | None = None,
        native_id: str | None = None,
        *,
        order_id: str | None = None,
    ) -> list[UserFill]:
        """Fills of ``account`` (all accounts: None), oldest first."""
        out = [
            f for a in self._each(account) for f in self._fills_of(a, market, native_id, order_id)
        ]
        return sorted(out, key=lambda f: (f.ts_ms, int(f.trade_id)))


class Truth(_Queries):
    """A read-only view of one venue's orders, fills, balances and positions.

    Args:
        desk: The venue's desk (``SimVenue.desk``).
    """

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    @property
    def venue(self) -> str:
        """The venue's name."""
        return self._desk.venue

    def accounts(self) -> tuple[str, ...]:
        """Every account of the venue."""
        return self._desk.accounts()

    def _default(self) -> str | None:
        return self._desk.default_account()

    def _orders_of(
        self, account: str, market: str | None, native_id: str | None
    ) -> list[UserOrder]:
        return self._desk.orders(account, market, native_id)

    def _fills_of(
        self, account: str, market: str | None, native_id: str | None, order_id: str | None
    ) -> list[UserFill]:
        return self._desk.fills(account, market, native_id, order_id=order_id)

    def balances(self, account: str | None = None) -> tuple[Balance, ...]:
        """Every asset of ``account`` (default account: None)."""
        return self._desk.balances(account or self.default_account())

    def balance(self, asset: str, account: str | None = None) -> Balance:
        """One asset of ``account`` (default account: None); zero when never held."""
        return self._desk.balance(account or self.default_account(), asset)

    def positions(self, account: str | None = None) -> tuple[Position, ...]:
        """Open linear positions of ``account`` (default account: None), sizes in base units."""
        return self._desk.positions(account or self.default_account())

    def mark_price(self, market: str, native_id: str) -> Decimal:
        """The mark price the venue uses for ``native_id`` now.

        Raises:
            KeyError: unknown instrument.
        """
        return self._desk.mark_price(market, native_id)

    def document(self) -> TruthDocument:
        """Everything the venue knows now, as one value (what ``GET /_sim/truth`` sends)."""
        desk = self._desk
        marks: dict[str, dict[str, Decimal]] = {}
        for market, native_id in desk.instruments():
            marks.setdefault(market, {})[native_id] = desk.mark_price(market, native_id)
        return TruthDocument(
            venue=desk.venue,
            default_account=desk.default_account(),
            accounts={
                a: AccountTruth(
                    orders=tuple(desk.orders(a)),
                    fills=tuple(desk.fills(a)),
                    balances=desk.balances(a),
                    positions=desk.positions(a),
                )
                for a in desk.accounts()
            },
            marks=marks,
        )

    def snapshot(self) -> TruthSnapshot:
        """A frozen copy of everything the venue knows now."""
        return TruthSnapshot(self.document())

    def to_json(self) -> bytes:
        """The venue's truth now as JSON (the body of ``GET /_sim/truth``)."""
        return _encode(self.document())


class TruthSnapshot(_Queries):
    """The queries of :class:`Truth` over a :class:`TruthDocument` (a venue's truth at one
    moment, e.g. read from a standalone simulator with :func:`fetch_truth`).

    Args:
        document: The venue's truth.
    """

    def __init__(self, document: TruthDocument) -> None:
        self.document = document
        self._markets = frozenset(document.marks)

    @classmethod
    def from_json(cls, data: bytes | str) -> TruthSnapshot:
        """Read the body of ``GET /_sim/truth``.

        Raises:
            MalformedMessage: ``data`` is not a venue's truth.
        """
        try:
            return cls(_decode(data))
        except msgspec.DecodeError as exc:
            raise MalformedMessage(f"not a simulator truth document: {exc}", raw=data) from exc

    def to_json(self) -> bytes:
        """The document as JSON again (what the simulator sent)."""
        return _encode(self.document)

    def __repr__(self) -> str:
        return f"TruthSnapshot(venue={self.venue!r}, accounts={self.accounts()!r})"

    @property
    def venue(self) -> str:
        """The venue's name."""
        return self.document.venue

    def accounts(self) -> tuple[str, ...]:
        """Every account of the venue."""
        return tuple(self.document.accounts)

    def _default(self) -> str | None:
        return self.document.default_account

    def _account(self, account: str) -> AccountTruth:
        try:
            return self.document.accounts[account]
        except KeyError:
            raise KeyError(f"no account {account!r} on {self.venue}") from None

    def _orders_of(
        self, account: str, market: str | None, native_id: str | None
    ) -> list[UserOrder]:
        market = venue_market(market, self._markets)
        return [
            o
            for o in self._account(account).orders
            if (market is None or o.market == market)
            and (native_id is None or o.native_id == native_id)
        ]

    def _fills_of(
        self, account: str, market: str | None, native_id: str | None, order_id: str | None
    ) -> list[UserFill]:
        market = venue_market(market, self._markets)
        return [
            f
            for f in self._account(account).fills
            if (market is None or f.market == market)
            and (native_id is None or f.native_id == native_id)
            and (order_id is None or f.order_id == order_id)
        ]

    def balances(self, account: str | None = None) -> tuple[Balance, ...]:
        """Every asset of ``account`` (default account: None)."""
        return self._account(account or self.default_account()).balances

    def balance(self, asset: str, account: str | None = None) -> Balance:
        """One asset of ``account`` (default account: None); zero when never held."""
        for balance in self.balances(account):
            if balance.asset == asset:
                return balance
        return Balance(asset=asset, total=Decimal(0))

    def positions(self, account: str | None = None) -> tuple[Position, ...]:
        """Open linear positions of ``account`` (default account: None), sizes in base units."""
        return self._account(account or self.default_account()).positions

    def mark_price(self, market: str, native_id: str) -> Decimal:
        """The mark price the venue used for ``native_id`` when the document was made.

        Raises:
            KeyError: unknown instrument.
        """
        try:
            return self.document.marks[venue_market(market, self._markets) or market][native_id]
        except KeyError:
            raise KeyError(f"unknown instrument {market} {native_id}") from None


def truth_handler(desk: Desk) -> Handler:
    """The REST handler of ``GET /_sim/truth`` for one venue's desk."""
    truth = Truth(desk)

    async def handler(req: Request) -> Response:
        return Response(body=truth.to_json())

    return handler


_FETCH_TIMEOUT = 30.0
"""Seconds :func:`fetch_truth` waits at most (bound it tighter with ``trio.fail_after``)."""


async def fetch_truth(url: str, *, verify: ssl.SSLContext | bool = True) -> TruthSnapshot:
    """Read a venue's truth from a running simulator.

    Args:
        url: The venue's truth URL (``connector sim``'s first line, ``"truth"``),
            or any of its REST base URLs with ``/_sim/truth`` appended.
        verify: With ``--tls``: a context trusting the run's CA (``"ca_file"``).

    Raises:
        ConnectionLost: Nothing answers at ``url``.
        RequestTimeout: No answer within 30 s.
        ServiceUnavailable: The answer is an HTTP 5xx.
        RemoteError: Another status than 200 (e.g. 404: not a simulator);
            :class:`MalformedMessage`: the body is not a venue's truth.
    """
    try:
        async with httpx.AsyncClient(verify=verify, timeout=_FETCH_TIMEOUT) as client:
            response = await client.get(url)
    except httpx.TimeoutException as exc:
        raise RequestTimeout(f"no truth from {url} within {_FETCH_TIMEOUT} s") from exc
    except httpx.TransportError as exc:
        raise ConnectionLost(f"no simulator answers at {url}: {exc}") from exc
    if response.status_code >= 500:
        raise ServiceUnavailable(f"{url} answered HTTP {response.status_code}")
    if response.status_code != 200:
        raise RemoteError(f"{url} answered HTTP {response.status_code}: not a simulator's truth")
    return TruthSnapshot.from_json(response.content)
