"""The simulated Binance pings its websocket clients, and drops those that never answer.

Binance sends a ping frame every 20 s on spot (the simulator's
``spot_ping_interval`` setting; shortened here) and disconnects a client that
sends nothing back for a minute (three intervals in the simulator). A raw
wsproto client sees the pings themselves; a trio-websocket client, which
answers pings on its own, stays connected while sending no message at all.
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import urlsplit

import trio
from trio_websocket import open_websocket_url
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request

from connector import sim

INTERVAL = 0.2
SETTINGS = {"binance": {"spot_ping_interval": INTERVAL}}


async def test_binance_pings_every_interval_and_drops_a_client_that_never_pongs() -> None:
    pings: list[float] = []
    closes: list[CloseConnection] = []
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), settings=SETTINGS, paused=True) as s:
            url = urlsplit(s.urls["binance"]["spot.ws"])
            assert url.hostname is not None and url.port is not None
            stream = await trio.open_tcp_stream(url.hostname, url.port)
            ws = WSConnection(ConnectionType.CLIENT)
            await stream.send_all(ws.send(Request(host=url.netloc, target="/ws")))
            accepted_at = None
            while True:
                try:
                    data = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    data = b""
                if not data:
                    break  # the server dropped the socket
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, AcceptConnection):
                        accepted_at = trio.current_time()
                    elif isinstance(event, Ping):
                        pings.append(trio.current_time())  # deliberately not answered
                    elif isinstance(event, CloseConnection):
                        closes.append(event)
            dropped_at = trio.current_time()
            await stream.aclose()

    assert accepted_at is not None
    assert len(pings) >= 3
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(gap >= INTERVAL * 0.75 for gap in gaps), gaps
    # Silence for three intervals ends the connection, without a close frame.
    assert 3 * INTERVAL * 0.9 <= dropped_at - accepted_at < 3 * INTERVAL + 2.0
    assert [] == closes


async def test_trio_websocket_client_answers_pings_and_stays_connected_while_silent() -> None:
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), settings=SETTINGS, paused=True) as s:
            url = s.urls["binance"]["spot.ws"] + "/ws"
            async with open_websocket_url(url) as ws:
                # Five intervals: well past the three after which a silent client is dropped.
                await trio.sleep(5 * INTERVAL)
                assert ws.closed is None
                await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 7}))
                reply = json.loads(await ws.get_message())

    assert {"result": [], "id": 7} == reply
