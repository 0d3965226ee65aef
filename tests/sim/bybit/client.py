"""A minimal signed Bybit v5 client for the simulator's tests (independent of connector.venues)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
from trio_websocket import WebSocketConnection, open_websocket_url

from connector.sim.accounts import DEFAULT_CREDENTIALS

KEY = DEFAULT_CREDENTIALS["bybit"].api_key
SECRET = DEFAULT_CREDENTIALS["bybit"].secret


def sign(payload: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


class Signed:
    """Signed GET/POST over an httpx client, as pybit signs them."""

    def __init__(
        self, client: httpx.AsyncClient, key: str = KEY, secret: str = SECRET, skew_ms: int = 0
    ) -> None:
        self.client = client
        self.key = key
        self.secret = secret
        self.skew_ms = skew_ms

    def headers(self, payload: str, window: str = "5000") -> dict[str, str]:
        stamp = str(int(time.time() * 1000) + self.skew_ms)
        return {
            "X-BAPI-API-KEY": self.key,
            "X-BAPI-TIMESTAMP": stamp,
            "X-BAPI-RECV-WINDOW": window,
            "X-BAPI-SIGN": sign(stamp + self.key + window + payload, self.secret),
            "Content-Type": "application/json",
        }

    async def get(self, path: str, **params: Any) -> httpx.Response:
        query = urlencode(sorted(params.items()))
        return await self.client.get(
            path + ("?" + query if query else ""), headers=self.headers(query)
        )

    async def post(self, path: str, body: Mapping[str, Any] | str) -> httpx.Response:
        text = body if isinstance(body, str) else json.dumps(body)
        return await self.client.post(path, content=text.encode(), headers=self.headers(text))

    async def ok(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        """The ``result`` of a call that must succeed."""
        reply = await (self.get(path, **params) if method == "GET" else self.post(path, params))
        body: dict[str, Any] = reply.json()
        assert 0 == body["retCode"], body
        result: dict[str, Any] = body["result"]
        return result


def auth_args(key: str = KEY, secret: str = SECRET, ahead_ms: int = 10_000) -> list[Any]:
    expires = int(time.time() * 1000) + ahead_ms
    return [key, expires, sign(f"GET/realtime{expires}", secret)]


@asynccontextmanager
async def private_socket(base: str, *topics: str) -> AsyncIterator[WebSocketConnection]:
    """An authenticated ``/v5/private`` socket subscribed to ``topics``."""
    async with open_websocket_url(base.replace("http://", "ws://") + "/v5/private") as ws:
        await ws.send_message(json.dumps({"op": "auth", "args": auth_args()}))
        reply = json.loads(await ws.get_message())
        assert reply["success"] is True, reply
        if topics:
            await ws.send_message(json.dumps({"op": "subscribe", "args": list(topics)}))
            reply = json.loads(await ws.get_message())
            assert reply["success"] is True, reply
        yield ws
