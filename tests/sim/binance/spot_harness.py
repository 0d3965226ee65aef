"""A Binance spot trading front-end in memory: a venue, its routes, signed calls.

No sockets and no trio: requests go straight to the router's handlers (run
with :func:`trio.run` per call), so these tests stay fast. The WebSocket API
is driven through :class:`FakeConn`, which records what the session sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import trio

from connector.sim.accounts import DEFAULT_CREDENTIALS, AccountBook, AccountSpec
from connector.sim.binance.spot_orders import SpotTrading
from connector.sim.binance.spot_rest import SpotPrivateRest
from connector.sim.binance.spot_user import UserDataHub
from connector.sim.binance.spot_wsapi import SpotWsApi, _Session
from connector.sim.binance.wire import Listing
from connector.sim.http import Request, Router
from connector.sim.hub import SimVenue
from connector.sim.instruments import default_instruments
from connector.sim.ratelimit import BinanceWeightLimiter
from connector.sim.ws import ORDER_REPLIES

KEY = DEFAULT_CREDENTIALS["binance"].api_key
SECRET = DEFAULT_CREDENTIALS["binance"].secret


_REPLIES = ("", ORDER_REPLIES)
"""The streams replies go out on (order-entry replies are faultable, others never)."""


class FakeConn:
    """What a WebSocket API session needs of a connection; keeps every frame sent."""

    def __init__(self, client: str = "10.0.0.1") -> None:
        self.client = client
        self.closed = False
        self.frames: list[tuple[str, str]] = []

    def send(self, frame: str, stream: str = "") -> None:
        self.frames.append((stream, frame))

    def replies(self) -> list[dict[str, Any]]:
        return [json.loads(f) for s, f in self.frames if s in _REPLIES and '"status"' in f]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(f) for s, f in self.frames if "subscriptionId" in f and '"event"' in f]


def sign(params: dict[str, object], secret: str = SECRET) -> str:
    query = urlencode(params)
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={sig}"


def ws_sign(params: dict[str, object], secret: str = SECRET) -> dict[str, object]:
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return {**params, "signature": sig}


class Spot:
    """One simulated Binance with spot trading, reached in memory."""

    def __init__(self, accounts: AccountBook | None = None, seed: int = 5) -> None:
        self.venue = SimVenue(
            "binance",
            default_instruments(("binance",), ("BTC", "ETH")),
            seed=seed,
            accounts=accounts,
        )
        listings = {
            b.native_id: Listing(b) for b in self.venue.books.values() if b.market == "spot"
        }
        self.limiter = BinanceWeightLimiter(
            limit=6000,
            window=60.0,
            clock=lambda: self.venue.now_ms() / 1000,
            wall_ms=self.venue.now_ms,
        )
        self.trading = SpotTrading(self.venue, listings)
        self.users = UserDataHub(self.trading, self.venue.now_ms)
        self.stop_users = self.users.start()
        self.router = Router()
        SpotPrivateRest(self.trading, self.limiter).register(self.router)
        self.wsapi = SpotWsApi(self.venue, self.trading, self.users, self.limiter)

    @property
    def desk(self) -> Any:
        return self.venue.desk

    def touch(self, symbol: str = "BTCUSDT") -> tuple[Decimal, Decimal]:
        _, bids, asks = self.venue.book("spot", symbol).depth(1)
        return bids[0][0], asks[0][0]

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, object] | None = None,
        *,
        key: str = KEY,
        secret: str = SECRET,
        signed: bool = True,
        in_body: bool = False,
        timestamp: int | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        values = dict(params or {})
        if signed:
            values["timestamp"] = self.venue.now_ms() if timestamp is None else timestamp
            text = sign(values, secret)
        else:
            text = urlencode(values)
        query, body = ("", text.encode()) if in_body else (text, b"")
        handler = self.router.find(method, path)
        assert handler is not None, (method, path)
        req = Request(
            method=method,
            path=path,
            query=dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair),
            headers={"x-mbx-apikey": key},
            body=body,
            client="10.0.0.1",
            query_string=query,
        )
        resp = trio.run(handler, req)
        headers = {k.lower(): v for k, v in resp.headers}
        return resp.status, json.loads(resp.body) if resp.body else None, headers

    def session(self, conn: FakeConn | None = None) -> tuple[_Session, FakeConn]:
        fake = conn or FakeConn()
        return _Session(fake, self.venue.now_ms()), fake  # type: ignore[arg-type]

    def ws(self, session: _Session, req_id: object, method: str, params: dict[str, object]) -> Any:
        conn = session.conn
        before = len(conn.frames)
        self.wsapi.on_message(
            session, json.dumps({"id": req_id, "method": method, "params": params})
        )
        for stream, frame in conn.frames[before:]:
            value = json.loads(frame)
            if stream in _REPLIES and value.get("id") == req_id and "status" in value:
                return value
        raise AssertionError(f"no reply to {req_id}")


def ed25519_accounts() -> tuple[AccountBook, str, Any]:
    """The default account plus ``ed-user`` with an Ed25519 key: (book, api key, private key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from connector.sim.accounts import Credentials, default_accounts

    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    api_key = "Ed" + "x" * 62
    spec = AccountSpec(
        account_id="ed-user",
        venue="binance",
        credentials=Credentials(api_key=api_key, key_type="ed25519", public_key=public.decode()),
    )
    specs = [s for s in default_accounts() if s.venue == "binance"] + [spec]
    return AccountBook("binance", specs), api_key, private
