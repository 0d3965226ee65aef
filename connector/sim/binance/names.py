"""Binance market stream names: which are well formed, what they carry, which route serves them.

A name the venue does not know is *malformed* (:func:`parse_stream` returns
None): a ``SUBSCRIBE`` naming one gets ``{"error": {"code": 2, "msg":
"Invalid request: invalid stream"}, "id": n}``. A well-formed name for an
unknown symbol, or for a stream the simulator does not produce (mark price,
liquidations, index, rolling-window tickers...), is acknowledged and stays
silent, as the venue does for an unknown symbol.

USDⓈ-M routes (since 2026-04-23; docs/venues/binance.md "Facts for issue 10"):
``public`` carries the book streams (diff and partial depth, ``bookTicker``,
``!bookTicker``, ``rpiDepth``) and ``trade``; ``market`` carries everything
else (``aggTrade``, tickers, klines, mark price, liquidations...). Spot is not
routed (``route`` is empty). Pure functions.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["PARTIAL_LEVELS", "StreamName", "parse_stream"]

#: Levels of the partial-book streams.
PARTIAL_LEVELS = (5, 10, 20)

_SPOT_KLINES = frozenset(
    "1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M".split()  # noqa: SIM905
)
_FUTURES_KLINES = _SPOT_KLINES - {"1s"}
_SYMBOL = re.compile(r"[A-Za-z0-9]+\Z")
_PAIR_CONTRACT = re.compile(r"[A-Za-z0-9]+_(perpetual|current_quarter|next_quarter)\Z")
_TIMEZONE = re.compile(r"\+(0[0-9]|1[0-4]):00\Z")

#: Streams the simulator produces; others are silent.
SERVED = frozenset(
    {"depth", "partial", "trade", "aggTrade", "bookTicker", "ticker", "miniTicker", "kline"}
)
_PUBLIC = frozenset({"depth", "partial", "bookTicker", "rpiDepth", "trade"})


@attrs.frozen(kw_only=True)
class StreamName:
    """A parsed, well-formed stream name.

    Attributes:
        symbol: The lower-case symbol part (empty for ``!...`` all-market streams).
        kind: ``depth`` (diff), ``partial``, ``trade``, ``aggTrade``,
            ``bookTicker``, ``ticker``, ``miniTicker``, ``kline``, or a kind
            the simulator does not produce (``markPrice``, ``forceOrder``...).
        interval_ms: Push interval of depth, partial and kline streams (0: per event).
        levels: Levels of a partial-book stream.
        interval: The kline interval name (``1m``).
        route: USDⓈ-M route (``public`` or ``market``); empty for spot.
    """

    symbol: str
    kind: str
    interval_ms: int = 0
    levels: int = 0
    interval: str = ""
    route: str = ""

    @property
    def served(self) -> bool:
        """Whether the simulator produces events for this stream (for a known symbol)."""
        return self.kind in SERVED and bool(self.symbol)


def parse_stream(market: str, name: str) -> StreamName | None:
    """The stream ``name`` of ``market`` (``spot`` or ``linear``), or None when malformed."""
    spot = market == "spot"
    parsed = _parse_all(spot, name) if name.startswith("!") else _parse_symbol(spot, name)
    if parsed is None or spot:
        return parsed
    route = "public" if parsed.kind in _PUBLIC else "market"
    return attrs.evolve(parsed, route=route)


def _parse_all(spot: bool, name: str) -> StreamName | None:
    if spot:
        known = {"!miniTicker@arr": "allMiniTicker", "!ticker@arr": "allTicker"}
        if re.fullmatch(r"!ticker_(1h|4h|1d)@arr", name):
            return StreamName(symbol="", kind="allRollingTicker")
    else:
        known = {
            "!bookTicker": "bookTicker",
            "!miniTicker@arr": "allMiniTicker",
            "!ticker@arr": "allTicker",
            "!markPrice@arr": "allMarkPrice",
            "!markPrice@arr@1s": "allMarkPrice",
            "!forceOrder@arr": "forceOrder",
            "!contractInfo": "contractInfo",
            "!assetIndex@arr": "assetIndex",
        }
    kind = known.get(name)
    return None if kind is None else StreamName(symbol="", kind=kind)


def _parse_symbol(spot: bool, name: str) -> StreamName | None:
    sym, _, rest = name.partition("@")
    if not rest:
        return None
    parts = rest.split("@")
    kind, suffix = parts[0], parts[1:]
    if kind.startswith("continuousKline_") and not spot:
        if _PAIR_CONTRACT.match(sym) and kind[16:] in _FUTURES_KLINES and not suffix:
            return StreamName(symbol=sym.lower(), kind="continuousKline", interval=kind[16:])
        return None
    if not _SYMBOL.match(sym):
        return None
    sym = sym.lower()
    if kind.startswith("kline_"):
        interval = kind[6:]
        if spot and len(suffix) == 1 and _TIMEZONE.match(suffix[0]) is not None:
            # Candles in another time zone: well formed, not produced.
            ok = interval in _SPOT_KLINES
            return StreamName(symbol=sym, kind="klineTimezone", interval=interval) if ok else None
        ok = not suffix and interval in (_SPOT_KLINES if spot else _FUTURES_KLINES)
        push = (1000 if interval == "1s" else 2000) if spot else 250
        return (
            StreamName(symbol=sym, kind="kline", interval=interval, interval_ms=push)
            if ok
            else None
        )
    if len(suffix) > 1:
        return None
    speed = suffix[0] if suffix else None
    default_ms = 1000 if spot else 250
    if kind == "depth":
        speeds = (
            {"0ms": 0, "100ms": 100, "1000ms": 1000}
            if spot
            else {"0ms": 0, "100ms": 100, "250ms": 250, "500ms": 500}
        )
        ms = default_ms if speed is None else speeds.get(speed)
        return None if ms is None else StreamName(symbol=sym, kind="depth", interval_ms=ms)
    if kind.startswith("depth") and kind[5:].isdigit():
        levels = int(kind[5:])
        speeds = (
            {"100ms": 100, "1000ms": 1000} if spot else {"100ms": 100, "250ms": 250, "500ms": 500}
        )
        ms = default_ms if speed is None else speeds.get(speed)
        if levels not in PARTIAL_LEVELS or ms is None:
            return None
        return StreamName(symbol=sym, kind="partial", interval_ms=ms, levels=levels)
    if speed is None and kind in ("trade", "aggTrade", "bookTicker", "ticker", "miniTicker"):
        return StreamName(symbol=sym, kind=kind)
    if spot:
        if speed is None and (kind == "avgPrice" or re.fullmatch(r"ticker_(1h|4h|1d)", kind)):
            return StreamName(symbol=sym, kind=kind)
        return None
    if kind == "markPrice" and speed in (None, "1s"):
        return StreamName(symbol=sym, kind="markPrice")
    if kind == "rpiDepth" and speed == "500ms":
        return StreamName(symbol=sym, kind="rpiDepth", interval_ms=500)
    if speed is None and kind in ("forceOrder", "compositeIndex", "assetIndex"):
        return StreamName(symbol=sym, kind=kind)
    return None
