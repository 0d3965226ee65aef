"""``connector stream`` against the built-in simulator in its default (current-venue) mode.

Every configured symbol of every venue delivers book, trade and ticker events,
and every book ends valid: the drivers follow the venues as they are today
(Binance USDⓈ-M routed streams, OKX books aligned to a REST snapshot).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict

DURATION = 12
PROCESS_TIMEOUT = 60
VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")


def test_stream_delivers_books_trades_and_tickers_for_every_symbol_of_every_venue() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector", "stream", "--duration", str(DURATION)],
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )

    assert 0 == result.returncode, result.stderr[-3000:]
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    last_book_status: dict[tuple[str, str], str] = {}
    for line in result.stdout.splitlines():
        event = json.loads(line)
        kind, venue, *rest = event["topic"].split(".")
        if kind in ("orderbook", "trade", "ticker"):
            key = (venue, ".".join(rest))
            kinds[key].add(kind)
            if kind == "orderbook":
                last_book_status[key] = event["state"]["status"]
    expected = {(venue, symbol) for venue in VENUES for symbol in SYMBOLS}
    assert {key: {"orderbook", "trade", "ticker"} for key in expected} == {
        key: kinds[key] for key in expected
    }
    assert {key: "valid" for key in expected} == {key: last_book_status[key] for key in expected}
