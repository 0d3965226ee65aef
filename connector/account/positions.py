"""Derivative positions and P&L from fills, corrected by venue snapshots (sans-I/O).

One-way (net) mode, linear contracts: one signed quantity per (venue, symbol),
in the venue's order unit (base, or contracts of ``contract_size`` base each).

- **Average entry price**: a fill that adds to the position averages in; one
  that reduces it keeps the entry price; one that flips it starts the new side
  at the fill price.
- **Realised P&L**: ``closed qty x (exit - entry) x contract_size`` (sign by
  side), minus fees paid in the quote asset (``Fill.fee`` is positive for a
  charge, negative for a rebate). ``closed qty x entry`` is taken off the
  position's cost basis (:attr:`PositionState.cost`: price x qty of the fills that
  opened it, less what closes took off), and a fill that closes what is left takes
  all of it: a position opened at several prices and closed realises exactly the
  cash its fills moved, not a figure off in the 28th digit by the rounding of the
  average entry price. Fees in another asset (BNB) are not converted: they are
  summed apart (:attr:`PositionState.other_fees`).
- **Unrealised P&L** from a mark or mid price the caller passes.
- **Dedup** by ``Fill.key``: a repeated fill changes nothing.
- **Venue snapshots** (:meth:`PositionBook.apply_snapshot`): when the venue's
  quantity or entry price differs from ours, the venue wins and the
  difference is returned as a :class:`PositionDiscrepancy` (an entry price the
  venue sent rounded is the same as ours when ours rounds to it: ours, worked out
  to every digit, is kept). A snapshot older
  than the last fill applied is stale and ignored; a fill no later than the
  last snapshot adopted is already in it (a venue may push the position before
  the execution, or between the fills of one order, and a reconciliation may
  find the fill after the snapshot): it leaves the quantity and the entry price
  as the venue said them, and its realised P&L is worked out against the
  position the fills alone give (kept while the two differ), as if it had come
  before the snapshot.

Spot fills are not positions (balances track them) and are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs

from connector.model.symbols import Symbol, SymbolKind
from connector.model.trading import Fill, FillKey, Position, Side

__all__ = [
    "PositionBook",
    "PositionDiscrepancy",
    "PositionState",
    "PositionStatistics",
    "same_price",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)


@attrs.frozen(kw_only=True)
class PositionDiscrepancy:
    """A venue snapshot disagreed with the position built from fills; the venue's won."""

    venue: str
    symbol: Symbol
    local_qty: Decimal
    venue_qty: Decimal
    local_entry: Decimal | None
    venue_entry: Decimal | None
    ts_event_ns: int


@attrs.frozen(kw_only=True)
class PositionStatistics:
    positions: int
    fills: int
    duplicate_fills: int
    discrepancies: int
    stale_snapshots: int


@attrs.define
class PositionState:
    """One (venue, symbol) position, owned by its :class:`PositionBook`."""

    venue: str
    symbol: Symbol
    contract_size: Decimal = _ONE
    qty: Decimal = _ZERO
    avg_entry_price: Decimal | None = None
    realized_pnl: Decimal = _ZERO
    fees: Decimal = _ZERO
    """Quote-asset fees paid (already in ``realized_pnl``)."""
    other_fees: dict[str, Decimal] = attrs.field(factory=dict)
    """Fees paid in other assets, per asset, not in ``realized_pnl``."""
    cost: Decimal = _ZERO
    """The open position's cost basis: price x qty of the fills that opened it, less
    what closes took off (``|qty| x avg_entry_price`` without the rounding of a
    division); closing what is left realises against all of it."""
    ts_event_ns: int = 0
    snapshot_ns: int | None = None
    """Time of the last venue snapshot adopted (fills up to it are in it)."""
    fills_qty: Decimal | None = None
    fills_entry: Decimal | None = None
    fills_cost: Decimal | None = None
    """The position the fills alone give, while a snapshot holds fills not applied yet
    (``None`` when it is the position above)."""

    def position(self) -> Position:
        return Position(
            venue=self.venue,
            symbol=self.symbol,
            qty=self.qty,
            avg_entry_price=self.avg_entry_price,
            realized_pnl=self.realized_pnl,
            ts_event_ns=self.ts_event_ns,
        )

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        if self.avg_entry_price is None or self.qty == _ZERO:
            return _ZERO
        return self.qty * (mark - self.avg_entry_price) * self.contract_size

    def apply(self, fill: Fill) -> None:
        signed = fill.qty if fill.side is Side.BUY else -fill.qty
        if self.snapshot_ns is not None and fill.ts_event_ns <= self.snapshot_ns:
            # In the venue's position already: only the fills' own position moves.
            if self.fills_qty is None:
                self._keep_fills_position()
            assert self.fills_qty is not None and self.fills_cost is not None
            realized, self.fills_qty, self.fills_entry, self.fills_cost = _moved(
                self.fills_qty, self.fills_entry, self.fills_cost, signed, fill.price
            )
        else:
            realized, self.qty, self.avg_entry_price, self.cost = _moved(
                self.qty, self.avg_entry_price, self.cost, signed, fill.price
            )
            if self.fills_qty is not None:
                assert self.fills_cost is not None
                _, self.fills_qty, self.fills_entry, self.fills_cost = _moved(
                    self.fills_qty, self.fills_entry, self.fills_cost, signed, fill.price
                )
        self._settle()
        self.realized_pnl += realized * self.contract_size
        self._charge(fill)
        if fill.ts_event_ns > self.ts_event_ns:
            self.ts_event_ns = fill.ts_event_ns

    def adopt(self, snapshot: Position) -> None:
        """The venue's quantity and entry price; what the fills give is kept while they differ."""
        entry = snapshot.avg_entry_price if snapshot.qty != _ZERO else None
        if snapshot.qty == self.qty and same_price(self.avg_entry_price, entry):
            entry = self.avg_entry_price  # the venue's, to more digits than it sent
        if (snapshot.qty, entry) != (self.qty, self.avg_entry_price):
            if self.fills_qty is None:
                self._keep_fills_position()
            self.cost = abs(snapshot.qty) * entry if entry is not None else _ZERO
        self.qty, self.avg_entry_price = snapshot.qty, entry
        self._settle()
        self.ts_event_ns = self.snapshot_ns = snapshot.ts_event_ns

    def _settle(self) -> None:
        """Drop the fills' own position once it is the venue's, entry included (equal
        quantities alone may be a moment between fills the snapshot holds); its entry,
        to every digit, stands for the venue's rounded one."""
        if self.fills_qty == self.qty and same_price(self.fills_entry, self.avg_entry_price):
            assert self.fills_cost is not None
            self.avg_entry_price, self.cost = self.fills_entry, self.fills_cost
            self.fills_qty = self.fills_entry = self.fills_cost = None

    def _keep_fills_position(self) -> None:
        self.fills_qty, self.fills_entry = self.qty, self.avg_entry_price
        self.fills_cost = self.cost

    def _charge(self, fill: Fill) -> None:
        if fill.fee_asset in ("", self.symbol.quote):
            self.realized_pnl -= fill.fee
            self.fees += fill.fee
        else:
            self.other_fees[fill.fee_asset] = self.other_fees.get(fill.fee_asset, _ZERO) + fill.fee


class PositionBook:
    """Every derivative position of every venue, from fills and venue snapshots."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, Symbol], PositionState] = {}
        self._trade_ids: set[FillKey] = set()
        self._fills = 0
        self._duplicates = 0
        self._discrepancies = 0
        self._stale = 0

    def apply_fill(self, fill: Fill, *, contract_size: Decimal = _ONE) -> Position | None:
        """Apply one fill; the position after it, or ``None`` for a repeat or a spot fill.

        Args:
            fill: The execution.
            contract_size: Base units per contract of the symbol (1 for
                coin-quantity markets): the instrument's ``contract_size``.
        """
        if fill.symbol.kind is SymbolKind.SPOT or fill.qty <= _ZERO:
            return None
        trade = fill.key
        if trade in self._trade_ids:
            self._duplicates += 1
            return None
        self._trade_ids.add(trade)
        self._fills += 1
        state = self._state(fill.venue, fill.symbol, contract_size)
        state.contract_size = contract_size
        state.apply(fill)
        return state.position()

    def apply_snapshot(self, snapshot: Position) -> PositionDiscrepancy | None:
        """The venue says the position is ``snapshot``: adopt it, report any difference.

        Returns:
            The difference, when quantity or entry price disagreed; ``None``
            when they agreed or the snapshot is older than our last fill.
        """
        state = self._state(snapshot.venue, snapshot.symbol, None)
        if snapshot.ts_event_ns < state.ts_event_ns:
            self._stale += 1
            return None
        venue_entry = snapshot.avg_entry_price if snapshot.qty != _ZERO else None
        local_entry = state.avg_entry_price if state.qty != _ZERO else None
        local_qty = state.qty
        state.adopt(snapshot)
        if snapshot.qty == local_qty and same_price(local_entry, venue_entry):
            return None
        self._discrepancies += 1
        return PositionDiscrepancy(
            venue=snapshot.venue,
            symbol=snapshot.symbol,
            local_qty=local_qty,
            venue_qty=snapshot.qty,
            local_entry=local_entry,
            venue_entry=venue_entry,
            ts_event_ns=snapshot.ts_event_ns,
        )

    def adopt(self, other: PositionBook) -> None:
        """Take ``other``'s positions (a book replayed from the event log) in place."""
        self._positions = other._positions
        self._trade_ids = other._trade_ids

    def get(self, venue: str, symbol: Symbol) -> Position | None:
        """The position, or ``None`` when no fill or snapshot mentioned it."""
        state = self._positions.get((venue, symbol))
        return None if state is None else state.position()

    def state(self, venue: str, symbol: Symbol) -> PositionState | None:
        """The full record (fees included); read-only by convention."""
        return self._positions.get((venue, symbol))

    def unrealized_pnl(self, venue: str, symbol: Symbol, mark: Decimal) -> Decimal:
        """Unrealised P&L of the position at price ``mark`` (0 when flat or unknown)."""
        state = self._positions.get((venue, symbol))
        return _ZERO if state is None else state.unrealized_pnl(mark)

    def all(self) -> list[Position]:
        return [state.position() for state in self._positions.values()]

    def __iter__(self) -> Iterator[Position]:
        return iter(self.all())

    def statistics(self) -> PositionStatistics:
        return PositionStatistics(
            positions=len(self._positions),
            fills=self._fills,
            duplicate_fills=self._duplicates,
            discrepancies=self._discrepancies,
            stale_snapshots=self._stale,
        )

    def _state(self, venue: str, symbol: Symbol, contract_size: Decimal | None) -> PositionState:
        state = self._positions.get((venue, symbol))
        if state is None:
            state = PositionState(venue=venue, symbol=symbol, contract_size=contract_size or _ONE)
            self._positions[(venue, symbol)] = state
        return state


def _moved(
    qty: Decimal, entry: Decimal | None, cost: Decimal, signed: Decimal, price: Decimal
) -> tuple[Decimal, Decimal, Decimal | None, Decimal]:
    """A fill of ``signed`` quantity at ``price`` on a position of cost basis ``cost``:
    (realised P&L per contract unit, the quantity, average entry price and cost basis
    after)."""
    total = qty + signed
    if qty == _ZERO or entry is None or (qty > _ZERO) == (signed > _ZERO):
        opened = abs(signed) * price
        if entry is None:
            return _ZERO, total, price, opened
        return _ZERO, total, (cost + opened) / abs(total), cost + opened
    direction = _ONE if qty > _ZERO else -_ONE
    if abs(signed) < abs(qty):
        closed = abs(signed)
        # Realised against the cost the close takes off (what ``closed x entry`` rounds
        # to there): the closes of a position then add up to its exact cost.
        left = cost - closed * entry
        return (closed * price - (cost - left)) * direction, total, entry, left
    # The whole position closes: against its exact cost, not the rounded average.
    realized = (abs(qty) * price - cost) * direction
    if total == _ZERO:
        return realized, total, None, _ZERO
    return realized, total, price, abs(total) * price


def same_price(ours: Decimal | None, theirs: Decimal | None) -> bool:
    """Whether ``ours`` is the venue's price ``theirs`` as far as the digits it sent go: an
    average entry price is sent rounded (Bybit's ``avgPrice``), ours is worked out from
    the fills to every digit."""
    if ours is None or theirs is None:
        return ours is theirs
    exponent = theirs.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite price
    return abs(ours - theirs) * 2 <= Decimal(1).scaleb(exponent)
