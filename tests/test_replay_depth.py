"""``connector replay`` keeps a Binance book to the depth its capture was recorded with.

With ``book_depth`` below 1000 a live Binance book is known only down to its REST
snapshot's last level and resyncs when a side runs out of it; the replay must
keep to that same limit (the ``limit`` of each captured depth request), or it lists
levels the snapshot never held and ends on other books. Recorded against the
simulator over real loopback sockets.
"""

from __future__ import annotations

from pathlib import Path

import trio

from connector import Connector, sim
from connector.config import Config
from connector.model import BookLevel, Symbol
from connector.replay import replay_file
from tests.rig import book_configs

SYMBOLS = {
    Symbol.parse("BTC-USDT-SPOT"): ("spot", "BTCUSDT"),
    Symbol.parse("ETH-USDT-SPOT"): ("spot", "ETHUSDT"),
    Symbol.parse("BTC-USDT-PERP"): ("linear", "BTCUSDT"),
    Symbol.parse("ETH-USDT-PERP"): ("linear", "ETHUSDT"),
}
DEPTH = 10
TIMEOUT = 40


def _levels(levels: list[BookLevel]) -> list[list[str]]:
    return [[str(level.price), str(level.qty)] for level in levels]


async def test_replay_of_a_binance_capture_with_book_depth_5_ends_on_the_live_books(
    tmp_path: Path,
) -> None:
    path = tmp_path / "depth5.jsonl"
    live: dict[str, dict[str, object]] = {}
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), rate=50.0) as running:
            venues = book_configs(running, "binance", SYMBOLS, book_depth=5)
            hub = running.venue("binance")
            async with Connector(Config(venues=venues), record=path) as c:
                views = {symbol: c.order_book("binance", symbol) for symbol in SYMBOLS}

                def caught_up() -> bool:
                    return all(
                        view.valid and view.seq == running.update_id("binance", *SYMBOLS[symbol])
                        for symbol, view in views.items()
                    )

                async with c.subscribe("orderbook.binance.>", buffer=100_000) as updates:
                    while not all(view.valid for view in views.values()):
                        await updates.receive()
                    await trio.sleep(1.5)  # the flow moves each book past its 5 levels
                    hub.pause()
                    while not caught_up():
                        await updates.receive()
                for symbol, view in views.items():
                    live[str(symbol)] = {
                        "final_state": view.state.status.value,
                        "final_seq": view.seq,
                        "bids": _levels(view.bids(DEPTH)),
                        "asks": _levels(view.asks(DEPTH)),
                    }

    books = replay_file(path, depth=DEPTH).summary()["books"]

    assert isinstance(books, list)
    replayed = {
        str(book["symbol"]): {
            key: book[key] for key in ("final_state", "final_seq", "bids", "asks")
        }
        for book in books
    }
    assert live == replayed
