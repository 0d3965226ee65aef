"""A minimal signed USDⓈ-M client for the simulator's tests (HMAC, form bodies)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from trio_websocket import WebSocketConnection

from connector import sim
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.sim.binance.frontend import BinanceFrontend
from connector.sim.binance.usdm_routes import UsdmTrading

KEY = DEFAULT_CREDENTIALS["binance"]


def sign(query: str, secret: str = KEY.secret) -> str:
    """Hex HMAC-SHA256 of ``query``."""
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


def signed_query(params: dict[str, Any], secret: str = KEY.secret) -> str:
    """``params`` with ``timestamp`` and ``signature``, URL-encoded."""
    query = urlencode({**params, "timestamp": int(time.time() * 1000)})
    return f"{query}&signature={sign(query, secret)}"


async def call(
    s: sim.SimRun,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    secret: str = KEY.secret,
    api_key: str = KEY.api_key,
) -> httpx.Response:
    """A SIGNED request: POST/PUT in the form body, GET/DELETE in the query string."""
    base = s.urls["binance"]["linear.rest"]
    query = signed_query(params or {}, secret)
    headers = {"X-MBX-APIKEY": api_key}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        if method in ("POST", "PUT"):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return await client.request(method, path, content=query, headers=headers)
        return await client.request(method, f"{path}?{query}")


async def listen_key(s: sim.SimRun, method: str = "POST") -> httpx.Response:
    """A USER_STREAM request to ``/fapi/v1/listenKey`` (key header only)."""
    base = s.urls["binance"]["linear.rest"]
    async with httpx.AsyncClient(base_url=base) as client:
        return await client.request(
            method, "/fapi/v1/listenKey", headers={"X-MBX-APIKEY": KEY.api_key}
        )


def trading(s: sim.SimRun) -> UsdmTrading:
    """The USDⓈ-M trading side of the run's Binance front-end."""
    fe = s.frontends["binance"]
    assert isinstance(fe, BinanceFrontend)
    market = fe.markets["linear"].usdm
    assert market is not None
    return market


def touch(s: sim.SimRun, side: str) -> Decimal:
    """The best bid (``BUY``) or ask (``SELL``) of BTCUSDT now."""
    _uid, bids, asks = s.venues["binance"].book("linear", "BTCUSDT").depth(1)
    return bids[0][0] if side == "BUY" else asks[0][0]


async def next_event(ws: WebSocketConnection, kind: str | None = None) -> dict[str, Any]:
    """The next user-data event (of ``kind``), unwrapped from a combined-stream frame."""
    while True:
        frame = json.loads(await ws.get_message())
        event = frame.get("data", frame)
        if kind is None or event.get("e") == kind:
            return event  # type: ignore[no-any-return]
