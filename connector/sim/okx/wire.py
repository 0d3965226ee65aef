"""OKX v5 wire formats: numbers, envelopes, instruments, tickers, events, checksums.

Shapes follow ``cryptofeed/master/sample_data/OKX-dev.ws.1.0`` and ``OKX.0``
(instrument listings, keys in alphabetical order, every field a string) and
the OKX v5 docs; see the package docstring. Pure functions of their
arguments: no clock, no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from connector.sim.hub import SimBook
from connector.sim.instruments import SimInstrument
from connector.sim.mirror import WireLevel
from connector.sim.wire import encode
from connector.sim.wire import format_trim as format_number

__all__ = [
    "BUSINESS_PREFIXES",
    "CHANNEL_DEPTH",
    "INST_TYPES",
    "MARKETS",
    "UNKNOWN_INSTRUMENT",
    "VIP_CHANNELS",
    "WS_ERRORS",
    "JsonDict",
    "book_checksum",
    "books_message",
    "books_rest_item",
    "encode",
    "error_body",
    "error_event",
    "format_number",
    "inst_id_code",
    "instrument_item",
    "ok_body",
    "subscribe_event",
    "ticker_item",
    "wire_levels",
    "wrong_checksum",
]


JsonDict = dict[str, object]

#: Levels per side of each book channel served.
CHANNEL_DEPTH: dict[str, int] = {"books": 400, "books5": 5, "bbo-tbt": 1}
#: Book channels for VIP fee tiers only (VIP4+): error 64003 for everyone else.
VIP_CHANNELS = frozenset({"books-l2-tbt", "books50-l2-tbt"})
#: Channel name prefixes served on ``/ws/v5/business`` only: error 64001 on ``/public``.
BUSINESS_PREFIXES = ("candle", "mark-price-candle", "index-candle")
#: Texts of the websocket error codes ("Error Code - WebSocket - Public", checked 2026-12-02).
WS_ERRORS: dict[str, str] = {
    "60012": "Invalid request: {0}",
    "60013": "Invalid args: {0}",
    "60018": (
        "Wrong URL or {0} doesn't exist. "
        "Please use the correct URL, channel and parameters referring to API document."
    ),
    "60019": "Invalid op: {0}",
    "64001": (
        "This channel has been migrated to the '/business' URL. Please subscribe using the new "
        "URL. More details can refer to: "
        "https://www.okx.com/help-center/changes-to-v5-api-websocket-subscription-parameter-and-url."
    ),
    "64003": "Your trading fee tier doesn't meet the requirement to access this channel",
}
#: ``instType`` of each market, and back.
INST_TYPES = {"spot": "SPOT", "swap": "SWAP"}
MARKETS = {v: k for k, v in INST_TYPES.items()}
UNKNOWN_INSTRUMENT = "Instrument ID, Instrument ID code, or Spread ID doesn't exist."


def book_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> int:
    """OKX book checksum: CRC32 of the top 25 levels, interleaved, as a signed 32-bit int.

    Args:
        bids: Bid levels best first, each ``[price, size, ...]`` strings as sent.
        asks: Ask levels best first.

    Returns:
        The signed checksum (``okx_checksum_vectors.json`` holds test vectors).
    """
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def inst_id_code(inst_id: str) -> int:
    """The instrument's ``instIdCode``: an integer the websocket order ops take (2026-02)."""
    return 10_000 + zlib.crc32(inst_id.encode()) % 9_000_000


def ok_body(data: list[JsonDict]) -> JsonDict:
    """The v5 REST success envelope."""
    return {"code": "0", "msg": "", "data": data}


def error_body(code: str, msg: str) -> JsonDict:
    """The v5 REST error envelope (``code`` a string, no data)."""
    return {"code": code, "msg": msg, "data": []}


def instrument_item(inst: SimInstrument) -> JsonDict:
    """One ``public/instruments`` entry: the keys of ``OKX.0``, alphabetical, all strings."""
    swap = inst.market == "swap"
    market_max = inst.max_market_qty
    return {
        "alias": "",
        "baseCcy": "" if swap else inst.base,
        "category": "1",
        "ctMult": "1" if swap else "",
        "ctType": "linear" if swap else "",
        "ctVal": format_number(inst.contract_size) if swap else "",
        "ctValCcy": inst.base if swap else "",
        "expTime": "",
        "instId": inst.native_id,
        "instIdCode": inst_id_code(inst.native_id),
        "instType": INST_TYPES[inst.market],
        "lever": "125" if swap else "10",
        "listTime": "1611916828000" if swap else "1548133413000",
        "lotSz": format_number(inst.lot_step),
        "maxIcebergSz": format_number(inst.max_qty),
        "maxLmtSz": format_number(inst.max_qty),
        # Swap: contracts (the simulator enforces them); spot: the quote asset.
        "maxMktSz": "1000000" if market_max is None else format_number(market_max),
        "maxStopSz": "1600" if swap else "1000000",
        "maxTriggerSz": format_number(inst.max_qty),
        "maxTwapSz": format_number(inst.max_qty),
        "minSz": format_number(inst.min_qty),
        "optType": "",
        "quoteCcy": "" if swap else inst.quote,
        "settleCcy": inst.quote if swap else "",
        "state": "live",
        "stk": "",
        "tickSz": format_number(inst.tick_size),
        "uly": f"{inst.base}-{inst.quote}" if swap else "",
    }


def ticker_item(book: SimBook, now_ms: int, *, rest: bool) -> JsonDict:
    """Ticker of one instrument (REST key order when ``rest``, else the channel's)."""
    inst = book.instrument
    stats = book.ticker()
    best_bid = book.engine.best_bid()
    best_ask = book.engine.best_ask()
    f = format_number
    vol = stats.volume
    vol_ccy = stats.quote_volume if inst.market == "spot" else vol * inst.contract_size
    out: JsonDict = {
        "instType": INST_TYPES[inst.market],
        "instId": inst.native_id,
        "last": f(stats.last),
        "lastSz": f(stats.last_qty),
        "askPx": f(best_ask.price) if best_ask else "",
        "askSz": f(best_ask.qty) if best_ask else "",
        "bidPx": f(best_bid.price) if best_bid else "",
        "bidSz": f(best_bid.qty) if best_bid else "",
        "open24h": f(stats.open),
        "high24h": f(stats.high),
        "low24h": f(stats.low),
    }
    if rest:
        out["volCcy24h"] = f(vol_ccy)
        out["vol24h"] = f(vol)
        out["ts"] = str(now_ms)
        out["sodUtc0"] = f(stats.open)
        out["sodUtc8"] = f(stats.open)
    else:
        out["sodUtc0"] = f(stats.open)
        out["sodUtc8"] = f(stats.open)
        out["volCcy24h"] = f(vol_ccy)
        out["vol24h"] = f(vol)
        out["ts"] = str(now_ms)
    return out


def subscribe_event(event: str, arg: JsonDict, conn_id: str, req_id: str | None) -> JsonDict:
    """A ``subscribe``/``unsubscribe`` acknowledgement for one argument."""
    out: JsonDict = {}
    if req_id is not None:
        out["id"] = req_id
    out["event"] = event
    out["arg"] = arg
    out["connId"] = conn_id
    return out


def error_event(code: str, msg: str, conn_id: str, req_id: str | None) -> JsonDict:
    """An ``error`` event (``code`` a string, as OKX sends it; texts in :data:`WS_ERRORS`)."""
    out: JsonDict = {}
    if req_id is not None:
        out["id"] = req_id
    out.update({"event": "error", "code": code, "msg": msg, "connId": conn_id})
    return out


def books_message(
    inst_id: str,
    action: str,
    *,
    asks: Sequence[Sequence[str]],
    bids: Sequence[Sequence[str]],
    ts_ms: int,
    checksum: int,
    prev_seq_id: int,
    seq_id: int,
) -> JsonDict:
    """A ``books`` push (``action`` ``snapshot`` or ``update``)."""
    return {
        "arg": {"channel": "books", "instId": inst_id},
        "action": action,
        "data": [
            {
                "asks": [list(level) for level in asks],
                "bids": [list(level) for level in bids],
                "ts": str(ts_ms),
                "checksum": checksum,
                "prevSeqId": prev_seq_id,
                "seqId": seq_id,
            }
        ],
    }


def books_rest_item(
    asks: Sequence[Sequence[str]], bids: Sequence[Sequence[str]], *, ts_ms: int, seq_id: int
) -> JsonDict:
    """One ``GET /api/v5/market/books`` entry: ``asks``, ``bids``, ``ts`` and ``seqId``."""
    return {
        "asks": [list(level) for level in asks],
        "bids": [list(level) for level in bids],
        "ts": str(ts_ms),
        "seqId": seq_id,
    }


def wire_levels(levels: Sequence[WireLevel]) -> list[list[str]]:
    """Book levels as sent: ``[price, size, "0", numOrders]``."""
    return [[p, q, "0", n] for _, p, q, n in levels]


def wrong_checksum(checksum: int) -> int:
    """A wrong, non-zero checksum (signed 32-bit)."""
    value = (checksum ^ 0x5BD1E995) & 0xFFFFFFFF
    value = value - (1 << 32) if value >= 1 << 31 else value
    return value if value not in (0, checksum) else 1 if checksum != 1 else 2
