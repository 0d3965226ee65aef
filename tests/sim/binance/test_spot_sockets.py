"""Binance spot trading over real sockets: the WebSocket API route and signed REST together.

The in-memory tests (test_spot_orders.py, test_spot_wsapi.py) cover the rules;
this one checks the wiring in the front-end: ``/ws-api/v3`` on the spot port,
signed REST on the same port, events of a REST order on the WebSocket API
subscription, and the user data listener of a running simulator.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from connector import sim
from tests.sim.binance.spot_harness import KEY, sign, ws_sign


async def request(
    ws: WebSocketConnection, req_id: str, method: str, params: dict[str, Any], seen: list[Any]
) -> Any:
    """The reply to one request; events that come first (they may) go to ``seen``."""
    await ws.send_message(json.dumps({"id": req_id, "method": method, "params": params}))
    while True:
        frame = json.loads(await ws.get_message())
        if frame.get("id") == req_id:
            return frame
        seen.append(frame)


async def next_report(ws: WebSocketConnection, seen: list[Any]) -> Any:
    while True:
        frame = seen.pop(0) if seen else json.loads(await ws.get_message())
        if frame.get("event", {}).get("e") == "executionReport":
            return frame


async def test_rest_order_events_reach_the_websocket_api_subscription() -> None:
    with trio.fail_after(30):
        async with sim.run(venues=("binance",), rate=50, seed=11) as s:
            hub = s.venue("binance")
            base = s.urls["binance"]["spot.rest"]
            url = s.urls["binance"]["spot.ws"] + "/ws-api/v3"
            seen: list[Any] = []
            async with open_websocket_url(url) as ws, httpx.AsyncClient() as http:
                reply = await request(
                    ws,
                    "sub",
                    "userDataStream.subscribe.signature",
                    ws_sign({"apiKey": KEY, "timestamp": hub.now_ms()}),
                    seen,
                )
                assert reply["status"] == 200 and reply["result"] == {"subscriptionId": 0}
                _, bids, _ = hub.book("spot", "BTCUSDT").depth(1)
                query = sign(
                    {
                        "symbol": "BTCUSDT",
                        "side": "BUY",
                        "type": "LIMIT",
                        "timeInForce": "GTC",
                        "quantity": "0.001",
                        "price": str(bids[0][0] - 200),
                        "timestamp": hub.now_ms(),
                    }
                )
                resp = await http.post(
                    f"{base}/api/v3/order?{query}", headers={"X-MBX-APIKEY": KEY}
                )
                assert resp.status_code == 200, resp.text
                assert resp.headers["x-mbx-order-count-10s"] == "1"
                assert "x-mbx-used-weight-1m" in resp.headers
                order_id = resp.json()["orderId"]
                new = await next_report(ws, seen)
                assert new["subscriptionId"] == 0
                assert (new["event"]["i"], new["event"]["x"]) == (order_id, "NEW")
                cancel = await request(
                    ws,
                    "cx",
                    "order.cancel",
                    ws_sign(
                        {
                            "apiKey": KEY,
                            "symbol": "BTCUSDT",
                            "orderId": order_id,
                            "timestamp": hub.now_ms(),
                        }
                    ),
                    seen,
                )
                assert cancel["status"] == 200 and cancel["result"]["status"] == "CANCELED"
                done = await next_report(ws, seen)
                assert (done["event"]["i"], done["event"]["X"]) == (order_id, "CANCELED")
            truth = hub.desk.order("binance-demo", "spot", "BTCUSDT", order_id=str(order_id))
            assert truth is not None and truth.state.name == "CANCELED"


async def test_a_drop_fault_on_user_data_loses_one_event() -> None:
    """User data frames pass the fault plan under the stream name ``userData``."""
    plan = sim.FaultPlan().drop(1.0, venue="binance", stream="userData", max_count=1)
    with trio.fail_after(30):
        async with sim.run(venues=("binance",), rate=50, seed=12, faults=plan) as s:
            hub = s.venue("binance")
            base = s.urls["binance"]["spot.rest"]
            seen: list[Any] = []
            url = s.urls["binance"]["spot.ws"] + "/ws-api/v3"
            async with open_websocket_url(url) as ws, httpx.AsyncClient() as http:
                sub = ws_sign({"apiKey": KEY, "timestamp": hub.now_ms()})
                await request(ws, "sub", "userDataStream.subscribe.signature", sub, seen)
                _, bids, _ = hub.book("spot", "BTCUSDT").depth(1)
                params = {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.001",
                    "price": str(bids[0][0] - 200),
                }
                headers = {"X-MBX-APIKEY": KEY}
                placed = await http.post(
                    f"{base}/api/v3/order?{sign({**params, 'timestamp': hub.now_ms()})}",
                    headers=headers,
                )
                order_id = placed.json()["orderId"]
                cancel = {"symbol": "BTCUSDT", "orderId": order_id, "timestamp": hub.now_ms()}
                await http.delete(f"{base}/api/v3/order?{sign(cancel)}", headers=headers)
                report = await next_report(ws, seen)
                # The NEW report was dropped: the first one to arrive is the cancel.
                assert (report["event"]["i"], report["event"]["x"]) == (order_id, "CANCELED")
            assert s.injector.statistics().injected.get("drop", 0) == 1
