"""The compat tests' simulator, in a process of its own (run as a script).

A venue is another machine: its replies never compete with the client for the
client's interpreter. (A simulator in a thread of the client's process answers
while the client's own threads wait for the interpreter lock, which opens
races in clients that register a callback after sending, as pybit does,
wider than any network would.)

Prints ``SimRun.urls`` as one JSON line once the simulator serves, then serves
until its standard input is closed (the fixture bounds the start-up and
kills the process if it does not stop).
"""

from __future__ import annotations

import json
import sys

import trio

from connector import sim


async def main() -> None:
    async with sim.run(venues=("binance", "bybit", "okx"), rate=100, seed=7) as s:
        # A market with a history, as a client meets the real venues: each
        # instrument trades through its book (several fills) before any test.
        for hub in s.venues.values():
            for market, native_id in list(hub.books):
                hub.move_market(market, native_id, 1)
        print(json.dumps(s.urls), flush=True)
        await trio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)


if __name__ == "__main__":
    trio.run(main)
