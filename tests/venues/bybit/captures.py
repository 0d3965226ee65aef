"""Read the Bybit captures under ../shared/fixtures for the Bybit tests."""

from __future__ import annotations

import collections
import functools
import io
import json
from collections.abc import Iterator
from pathlib import Path

import attrs
import zstandard

from connector.model import Instrument, Market
from connector.venues.bybit import (
    Event,
    StreamState,
    build_symbol_map,
    decode_frame,
    parse_instruments,
)
from connector.venues.common import SymbolMap
from tests.conftest import fixture_path

V3_CAPTURE = "cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst"


@attrs.frozen
class Frame:
    conn: str
    market: Market
    ts_recv_ns: int
    data: str


@attrs.frozen
class Capture:
    instruments: dict[Market, list[Instrument]]
    frames: tuple[Frame, ...]

    @property
    def symbols(self) -> SymbolMap:
        return build_symbol_map(i for ins in self.instruments.values() for i in ins)

    def events(self) -> Iterator[tuple[Frame, Event]]:
        """Every frame decoded in order, each connection with its own stream state."""
        symbols = self.symbols
        states: dict[str, StreamState] = collections.defaultdict(StreamState)
        for frame in self.frames:
            for event in decode_frame(
                frame.data,
                market=frame.market,
                symbols=symbols,
                ts_recv_ns=frame.ts_recv_ns,
                state=states[frame.conn],
            ):
                yield frame, event


@functools.cache
def load_v3() -> Capture:
    """The 2026 linear + spot capture: instruments-info answers and received frames."""
    path = fixture_path(V3_CAPTURE)
    with path.open("rb") as fh:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh)).read()
    instruments: dict[Market, list[Instrument]] = {}
    markets: dict[str, Market] = {}
    frames: list[Frame] = []
    for line in text.splitlines():
        record = json.loads(line)
        kind = record["t"]
        if kind == "http":
            market = Market.LINEAR if "category=linear" in record["url"] else Market.SPOT
            instruments[market] = parse_instruments(market, record["data"])
        elif kind == "connect":
            url = record["addr"]
            markets[record["conn"]] = Market.LINEAR if url.endswith("/linear") else Market.SPOT
        elif kind == "recv":
            conn = record["conn"]
            frames.append(Frame(conn, markets[conn], int(record["ts"] * 1e9), record["data"]))
    return Capture(instruments, tuple(frames))


def v1_frames(relative: str) -> Iterator[tuple[int, str]]:
    """Received frames of a cryptofeed v1 capture: ``(ts_recv_ns, text)``."""
    path: Path = fixture_path(relative)
    for line in path.read_text().splitlines():
        if " <-> " in line or " <- " in line or ": " not in line:
            continue
        ts, _, data = line.partition(": ")
        yield int(float(ts) * 1e9), data
