"""``connector stream`` against the built-in simulator in its default (current-venue) mode.

Every configured symbol of every venue delivers book, trade and ticker events,
and every book ends valid: the drivers follow the venues as they are today
(Binance USDⓈ-M routed streams, OKX books aligned to a REST snapshot).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from pathlib import Path

DURATION = 12
"""The longest run; the test stops the command (Ctrl-C) as soon as it has seen enough."""
PROCESS_TIMEOUT = 60
VALID_UPDATES = 5
"""Book updates each book must publish while valid before the command is stopped, so
that a book losing its sync on later changes (not only on its first) is seen."""
VENUES = ("binance", "bybit", "okx")
SYMBOLS = ("BTC-USDT-SPOT", "ETH-USDT-SPOT", "BTC-USDT-PERP", "ETH-USDT-PERP")


def test_stream_delivers_books_trades_and_tickers_for_every_symbol_of_every_venue(
    tmp_path: Path,
) -> None:
    expected = {(venue, symbol) for venue in VENUES for symbol in SYMBOLS}
    kinds: dict[tuple[str, str], set[str]] = defaultdict(set)
    last_book_status: dict[tuple[str, str], str] = {}
    valid_updates: Counter[tuple[str, str]] = Counter()

    def enough() -> bool:
        return all(
            {"orderbook", "trade", "ticker"} == kinds[key]
            and "valid" == last_book_status[key]
            and valid_updates[key] >= VALID_UPDATES
            for key in expected
        )

    with (tmp_path / "stderr.log").open("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "connector", "stream", "--duration", str(DURATION)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        watchdog = threading.Timer(PROCESS_TIMEOUT, proc.kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            stopping = False
            for line in proc.stdout:
                event = json.loads(line)
                kind, venue, *rest = event["topic"].split(".")
                if kind in ("orderbook", "trade", "ticker"):
                    key = (venue, ".".join(rest))
                    kinds[key].add(kind)
                    if kind == "orderbook":
                        last_book_status[key] = event["state"]["status"]
                        valid_updates[key] += "valid" == event["state"]["status"]
                if not stopping and enough():
                    # Ctrl-C: the command stops as at the end of its duration, and
                    # what it prints until then is read (and checked) too.
                    proc.send_signal(signal.SIGINT)
                    stopping = True
            code = proc.wait(timeout=PROCESS_TIMEOUT)
        finally:
            watchdog.cancel()
            proc.kill()
            proc.wait()
        err.seek(0)
        assert 0 == code, err.read()[-3000:]

    assert {key: {"orderbook", "trade", "ticker"} for key in expected} == {
        key: kinds[key] for key in expected
    }
    assert {key: "valid" for key in expected} == {key: last_book_status[key] for key in expected}
