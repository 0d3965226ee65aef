"""The event log protocol, through the in-memory log."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import StoreError
from connector.model import (
    Balance,
    Fill,
    Order,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Position,
    Side,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.store.log import EventLog, LogEntry, Logged, MemoryEventLog, decode, encode

SYM = Symbol.parse("BTC-USDT-PERP")
ORDER = Order(
    venue="binance",
    symbol=SYM,
    client_order_id="c1",
    side=Side.BUY,
    type=OrderType.LIMIT,
    qty=Decimal("0.010"),
    price=Decimal("60000.10"),
    ts_created_ns=1_767_000_000_000_000_001,
)
FILL = Fill(
    venue="binance",
    symbol=SYM,
    client_order_id="c1",
    venue_order_id="9",
    trade_id="77",
    side=Side.BUY,
    qty=Decimal("0.004"),
    price=Decimal("60000.1"),
    fee=Decimal("0.0024"),
    fee_asset="USDT",
)
EVENTS: list[Logged] = [
    OrderSubmitted(venue="binance", symbol=SYM, client_order_id="c1", order=ORDER),
    OrderAccepted(venue="binance", symbol=SYM, client_order_id="c1", venue_order_id="9"),
    OrderFilled(venue="binance", symbol=SYM, client_order_id="c1", venue_order_id="9", fill=FILL),
    OrderExpired(venue="binance", symbol=SYM, client_order_id="c1", reason="not found"),
    OrderReport(
        venue="binance",
        symbol=SYM,
        client_order_id="c1",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.010"),
        status=OrderStatus.PARTIALLY_FILLED,
        filled_qty=Decimal("0.004"),
        avg_fill_price=Decimal("60000.1"),
    ),
    FILL,
    Position(venue="binance", symbol=SYM, qty=Decimal("-0.004"), avg_entry_price=Decimal("1.5")),
    Balance(venue="binance", asset="USDT", free=Decimal("100.00000001")),
]


def test_encoding_keeps_decimals_as_exact_text_and_time_as_int() -> None:
    data = json.loads(encode(EVENTS[0]))

    assert "OrderSubmitted" == data["type"]
    assert "0.010" == data["data"]["order"]["qty"]
    assert 1_767_000_000_000_000_001 == data["data"]["order"]["ts_created_ns"]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_logged_type_round_trips(event: Logged) -> None:
    assert event == decode(encode(event))


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_stored_text_is_sorted_compact_ascii_json(event: Logged) -> None:
    # The stored format every store keeps: json.dumps(sort_keys, no spaces, ASCII).
    record = json.loads(encode(event))
    assert json.dumps(record, separators=(",", ":"), sort_keys=True) == encode(event)


@given(st.text())
def test_any_reason_text_is_stored_as_json_dumps_writes_it(reason: str) -> None:
    event = OrderExpired(venue="binance", symbol=SYM, client_order_id="c1", reason=reason)
    record = json.loads(encode(event))
    assert json.dumps(record, separators=(",", ":"), sort_keys=True) == encode(event)
    assert event == decode(encode(event))


def test_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        encode(SYM)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        decode('{"type": "Nope", "data": {}}')
    with pytest.raises(ValueError):
        decode("[1]")


async def test_append_returns_the_last_sequence_and_read_pages_forward() -> None:
    log: EventLog = MemoryEventLog()

    assert 0 == await log.last_seq()
    assert 3 == await log.append(EVENTS[:3], ts_ns=10)
    assert 3 == await log.append([], ts_ns=11)
    assert len(EVENTS) == await log.append(EVENTS[3:], ts_ns=12)

    first = await log.read(0, limit=2)
    rest = await log.read(2)
    assert [
        LogEntry(seq=1, ts_ns=10, event=EVENTS[0]),
        LogEntry(seq=2, ts_ns=10, event=EVENTS[1]),
    ] == list(first)
    assert list(range(3, len(EVENTS) + 1)) == [e.seq for e in rest]
    assert EVENTS == [e.event for e in [*first, *rest]]
    assert [] == list(await log.read(len(EVENTS)))


async def test_a_batch_with_a_bad_value_stores_nothing() -> None:
    log = MemoryEventLog()

    with pytest.raises(TypeError):
        await log.append([EVENTS[0], SYM], ts_ns=1)  # type: ignore[list-item]
    assert 0 == await log.last_seq()


async def test_memory_log_reads_back_values_through_the_stored_conversion() -> None:
    log = MemoryEventLog()
    await log.append(EVENTS, ts_ns=1)

    entries = await log.read(0, limit=len(EVENTS))
    assert [decode(encode(e)) for e in EVENTS] == [entry.event for entry in entries]
    assert all(entry.event is not e for entry, e in zip(entries, EVENTS, strict=True)), (
        "read gives new values, as a store does, never the appended objects"
    )


async def test_closed_log_refuses_appends() -> None:
    log = MemoryEventLog()
    await log.close()
    await log.close()

    with pytest.raises(StoreError, match="closed"):
        await log.append(EVENTS[:1], ts_ns=1)


@given(batches=st.lists(st.integers(min_value=0, max_value=len(EVENTS)), max_size=8))
async def test_sequence_numbers_have_no_gaps(batches: list[int]) -> None:
    log = MemoryEventLog()
    expected: list[Logged] = []
    for size in batches:
        expected.extend(EVENTS[:size])
        assert len(expected) == await log.append(EVENTS[:size], ts_ns=1)

    entries = await log.read(0, limit=10_000)
    assert list(range(1, len(expected) + 1)) == [e.seq for e in entries]
    assert expected == [e.event for e in entries]
