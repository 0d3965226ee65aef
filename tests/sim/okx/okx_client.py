"""A minimal signed OKX v5 client for the simulator's tests (written from the docs, not ours)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from connector.sim.accounts import DEFAULT_CREDENTIALS

CREDS = DEFAULT_CREDENTIALS["okx"]


def iso_now(skew_s: float = 0.0) -> str:
    moment = datetime.fromtimestamp(time.time() + skew_s, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class Okx:
    """``await okx.get(path, **params)`` / ``await okx.post(path, body)``: (status, JSON)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        key: str = CREDS.api_key,
        secret: str = CREDS.secret,
        passphrase: str = CREDS.passphrase or "",
        skew_s: float = 0.0,
    ) -> None:
        self.client = client
        self.key, self.secret, self.passphrase, self.skew_s = key, secret, passphrase, skew_s

    def headers(self, method: str, path: str, body: str) -> dict[str, str]:
        stamp = iso_now(self.skew_s)
        return {
            "OK-ACCESS-KEY": self.key,
            "OK-ACCESS-SIGN": sign(self.secret, stamp + method + path + body),
            "OK-ACCESS-TIMESTAMP": stamp,
            "OK-ACCESS-PASSPHRASE": self.passphrase,
            "Content-Type": "application/json",
            "x-simulated-trading": "1",
        }

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        full = path + ("?" + urlencode(params) if params else "")
        reply = await self.client.get(full, headers=self.headers("GET", full, ""))
        return reply.status_code, reply.json()

    async def post(
        self, path: str, body: Any, extra: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        text = json.dumps(body)
        headers = {**self.headers("POST", path, text), **(extra or {})}
        reply = await self.client.post(path, content=text, headers=headers)
        return reply.status_code, reply.json()


def ws_login_args(skew_s: float = 0.0, *, passphrase: str | None = None) -> dict[str, Any]:
    stamp = str(int(time.time() + skew_s))
    return {
        "op": "login",
        "args": [
            {
                "apiKey": CREDS.api_key,
                "passphrase": CREDS.passphrase if passphrase is None else passphrase,
                "timestamp": stamp,
                "sign": sign(CREDS.secret, stamp + "GET/users/self/verify"),
            }
        ],
    }
