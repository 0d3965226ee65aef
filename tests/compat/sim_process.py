"""The compat tests' simulator, in a process of its own (run as a script).

A venue is another machine: its replies never compete with the client for the
client's interpreter (a simulator in a thread of the client's process answers
while the client's own threads wait for the interpreter lock), and it is a
network away: every venue answers :data:`LATENCY` after it was asked (the
simulator's ``latency`` setting). Real venues are tens of milliseconds away;
a client that files a request's callback only after sending the request, as
pybit does, relies on that.

Prints ``SimRun.urls`` as one JSON line once the simulator serves, then serves
until its standard input is closed (the fixture bounds the start-up and
kills the process if it does not stop).
"""

from __future__ import annotations

import json
import sys

import trio

from connector import sim

VENUES = ("binance", "bybit", "okx")

#: Seconds from a venue to its client (REST answers and websocket frames).
LATENCY = 0.02


async def main() -> None:
    settings = {venue: {"latency": LATENCY} for venue in VENUES}
    async with sim.run(venues=VENUES, rate=100, seed=7, settings=settings) as s:
        # A market with a history, as a client meets the real venues: each
        # instrument trades through its book (several fills) before any test.
        for hub in s.venues.values():
            for market, native_id in list(hub.books):
                hub.move_market(market, native_id, 1)
        print(json.dumps(s.urls), flush=True)
        await trio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)


if __name__ == "__main__":
    trio.run(main)
