"""Read the OKX captures under ../shared/fixtures for the OKX tests."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from connector.model import Instrument, Market
from connector.venues.common import SymbolMap
from connector.venues.okx import Event, build_symbol_map, decode_frame, parse_instruments
from tests.conftest import fixture_path

INSTRUMENTS = "cryptofeed/master/sample_data/OKX.0"
WS_CAPTURE = "cryptofeed/master/sample_data/OKX-dev.ws.1.0"
_TYPES = {"SPOT": Market.SPOT, "SWAP": Market.SWAP, "FUTURES": Market.FUTURES}


@functools.cache
def instruments() -> dict[Market, list[Instrument]]:
    """The first SPOT, SWAP and FUTURES answers of the 2022 REST capture."""
    out: dict[Market, list[Instrument]] = {}
    for line in fixture_path(INSTRUMENTS).read_text().splitlines():
        url, sep, rest = line.partition(" -> ")
        if not sep:
            continue
        inst_type = url.partition("instType=")[2].partition("&")[0]
        market = _TYPES.get(inst_type)
        if market is None or market in out:
            continue
        out[market] = parse_instruments(market, rest.partition(": ")[2])
    return out


def symbol_map() -> SymbolMap:
    return build_symbol_map(i for ins in instruments().values() for i in ins)


def ws_frames() -> Iterator[tuple[int, str]]:
    """Received frames of the 2022 public websocket capture: ``(ts_recv_ns, text)``."""
    for line in fixture_path(WS_CAPTURE).read_text().splitlines():
        if " <-> " in line or " <- " in line or ": " not in line:
            continue
        ts, _, data = line.partition(": ")
        yield int(float(ts) * 1e9), data


def ws_events() -> Iterator[Event]:
    """The websocket capture decoded in order with :func:`symbol_map`."""
    symbols = symbol_map()
    for ts, text in ws_frames():
        yield from decode_frame(text, symbols=symbols, ts_recv_ns=ts)
