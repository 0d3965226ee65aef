"""Signed Bybit v5 REST: the ``X-BAPI-*`` check, parameters, per-UID order limits.

Every private route is registered through :meth:`SignedRest.get` /
:meth:`SignedRest.post`: the IP limit first, then the signature and time check
on the bytes received (:func:`connector.sim.bybit.auth.verify_rest`; 10003,
10004, 10002 with HTTP 200, as Bybit answers), then the route's per-UID limit
when it has one, then the handler with ``(account, params)``: the query of a
GET, the JSON object of a POST (anything else is 10001).

Order limits (Bybit v5 "Rate Limit", API rate limit rules for UTA, checked
2026-12-03): per UID, per endpoint, over a rolling second, counted per category:
create / cancel 10/s on linear, 20/s on spot; amend 10/s; cancel-all 10/s on
linear, 20/s on spot; the batch endpoints have their own quota and consume one
per order; ``order/realtime``, ``order/history``, ``execution/list`` 50/s (fact
sheet section 5); ``position/set-leverage``, ``account/fee-rate``,
``user/query-api`` 10/s. Each answer
carries ``X-Bapi-Limit``, ``X-Bapi-Limit-Status`` (remaining) and
``X-Bapi-Limit-Reset-Timestamp``; over the limit: retCode 10006 "Too many
visits!". REST and the websocket order API share the counters.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping

import msgspec

from connector.sim.accounts import AuthRejected
from connector.sim.bybit.auth import verify_rest
from connector.sim.bybit.wire import envelope, error_body
from connector.sim.http import Response, Router, json_response
from connector.sim.hub import SimVenue
from connector.sim.ratelimit import SlidingWindowCounter
from connector.sim.rest import Check, RestCall, RestChain

__all__ = ["ORDER_LIMITS", "OrderLimiter", "SignedHandler", "SignedRest", "UidVerdict"]

_dec = msgspec.json.Decoder()

#: Requests (orders, for batches) per second per UID: ``(path, category) -> limit``
#: (the rate-limit table's UTA2.0 Pro columns, BYDOCS ``rate-limit/rate-limit.mdx``).
ORDER_LIMITS: dict[tuple[str, str], int] = {
    ("/v5/order/create", "linear"): 10,
    ("/v5/order/create", "spot"): 20,
    ("/v5/order/amend", "linear"): 10,
    ("/v5/order/amend", "spot"): 10,
    ("/v5/order/cancel", "linear"): 10,
    ("/v5/order/cancel", "spot"): 20,
    ("/v5/order/cancel-all", "linear"): 10,
    ("/v5/order/cancel-all", "spot"): 20,
    ("/v5/order/create-batch", "linear"): 10,
    ("/v5/order/create-batch", "spot"): 20,
    ("/v5/order/amend-batch", "linear"): 10,
    ("/v5/order/amend-batch", "spot"): 20,
    ("/v5/order/cancel-batch", "linear"): 10,
    ("/v5/order/cancel-batch", "spot"): 20,
    ("/v5/order/realtime", ""): 50,
    ("/v5/order/history", ""): 50,
    ("/v5/execution/list", ""): 50,
    ("/v5/position/set-leverage", ""): 10,
    ("/v5/position/list", ""): 50,
    ("/v5/account/wallet-balance", ""): 50,
    ("/v5/account/fee-rate", ""): 5,
    ("/v5/user/query-api", ""): 10,
}

SignedHandler = Callable[[str, Mapping[str, object], RestCall], Awaitable[Response]]
"""``handler(account, params, call)``."""


class UidVerdict(msgspec.Struct, frozen=True):
    """One per-UID limit decision: allowed, and the ``X-Bapi-Limit*`` values."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> tuple[tuple[str, str], ...]:
        """The three ``X-Bapi-Limit*`` headers."""
        return (
            ("X-Bapi-Limit", str(self.limit)),
            ("X-Bapi-Limit-Status", str(self.remaining)),
            ("X-Bapi-Limit-Reset-Timestamp", str(self.reset_ms)),
        )


class OrderLimiter:
    """Rolling one-second windows per (UID, endpoint, category); batches cost one per order.

    Counts in :class:`~connector.sim.ratelimit.SlidingWindowCounter` (10 ms
    steps). ``X-Bapi-Limit-Reset-Timestamp`` is when the quota frees up again
    after a refusal, otherwise the current time (as documented).

    Args:
        now_ms: The venue clock (ms).
        limits: Overrides of :data:`ORDER_LIMITS`.
    """

    def __init__(
        self, now_ms: Callable[[], int], limits: Mapping[tuple[str, str], int] | None = None
    ) -> None:
        self.now_ms = now_ms
        self.limits = {**ORDER_LIMITS, **(limits or {})}
        self.counter = SlidingWindowCounter({"1s": 1.0}, resolution=100)
        #: Requests refused with 10006 so far.
        self.refused = 0

    def limited(self, path: str, category: str) -> bool:
        """Whether ``path`` has a per-UID limit."""
        return (path, category) in self.limits or (path, "") in self.limits

    def hit(self, uid: str, path: str, category: str, cost: int = 1) -> UidVerdict:
        """Count ``cost`` against the UID's quota of ``path`` in ``category``."""
        key_category = category if (path, category) in self.limits else ""
        limit = self.limits.get((path, key_category), 10)
        now_ms = self.now_ms()
        now = now_ms / 1000
        subject = (uid, path, key_category)
        if self.counter.would_exceed(subject, now, {"1s": limit}, cost) is not None:
            self.counter.refused("1s")
            self.refused += 1
            wait = self.counter.retry_after(subject, now, "1s", limit)
            reset = now_ms + math.ceil(wait * 1000)
            return UidVerdict(allowed=False, limit=limit, remaining=0, reset_ms=reset)
        used = self.counter.add(subject, now, cost)["1s"]
        return UidVerdict(allowed=True, limit=limit, remaining=limit - used, reset_ms=now_ms)


class SignedRest:
    """Registers private routes behind the venue's checks and ``X-BAPI-*`` auth.

    Args:
        venue: The Bybit hub (clock and keyring).
        chain: The venue's REST chain (the IP limit).
        limiter: The per-UID order limiter (shared with the websocket order API).
    """

    def __init__(self, venue: SimVenue, chain: RestChain, limiter: OrderLimiter) -> None:
        self.venue = venue
        self.chain = chain
        self.limiter = limiter
        self.auth_failures = 0

    def _auth(self, call: RestCall) -> Response | None:
        req = call.request
        verdict = verify_rest(
            method=req.method,
            query_string=req.query_string,
            body=req.body,
            headers=req.headers,
            keyring=self.venue.desk.keyring,
            now_ns=self.venue.now_ns(),
        )
        if isinstance(verdict, AuthRejected):
            self.auth_failures += 1
            body = error_body(verdict.code, verdict.message, self.venue.now_ms())
            return json_response(body, status=verdict.http_status)
        call.put("account", verdict.account_id)
        if req.method == "GET":
            call.put("params", dict(req.query))
            return None
        try:
            params = _dec.decode(req.body) if req.body.strip() else {}
        except msgspec.DecodeError:
            params = None
        if not isinstance(params, dict):
            return self._error(10001, "Request parameter error: the body is not a JSON object")
        call.put("params", params)
        return None

    def _error(self, code: int, message: str) -> Response:
        return json_response(error_body(code, message, self.venue.now_ms()))

    def ok(self, result: object, ext: object | None = None) -> Response:
        """The success envelope (``retExtInfo`` when given)."""
        body = envelope(result, self.venue.now_ms())
        if ext is not None:
            body["retExtInfo"] = ext
        return json_response(body)

    def answer(self, code: int, message: str, result: object) -> Response:
        """A reply with ``retCode`` (the success envelope when 0)."""
        if code == 0:
            return self.ok(result)
        return self._error(code, message)

    def _limit(self, path: str, cost: Callable[[Mapping[str, object]], int] | None) -> Check:
        def check(call: RestCall) -> Response | None:
            params = call.get("params", dict)
            category = str(params.get("category", ""))
            if not self.limiter.limited(path, category):
                return None
            n = cost(params) if cost is not None else 1
            verdict = self.limiter.hit(call.get("account", str), path, category, max(n, 1))
            call.headers = verdict.headers()
            if verdict.allowed:
                return None
            return self._error(10006, "Too many visits!")

        return check

    def _register(
        self,
        method: str,
        router: Router,
        path: str,
        handler: SignedHandler,
        cost: Callable[[Mapping[str, object]], int] | None,
    ) -> None:
        async def run(call: RestCall) -> Response:
            return await handler(call.get("account", str), call.get("params", dict), call)

        register = self.chain.get if method == "GET" else self.chain.post
        register(router, path, run, self._auth, self._limit(path, cost))

    def get(self, router: Router, path: str, handler: SignedHandler) -> None:
        """A signed GET route."""
        self._register("GET", router, path, handler, None)

    def post(
        self,
        router: Router,
        path: str,
        handler: SignedHandler,
        cost: Callable[[Mapping[str, object]], int] | None = None,
    ) -> None:
        """A signed POST route (``cost``: orders a batch request counts as)."""
        self._register("POST", router, path, handler, cost)


def int_param(params: Mapping[str, object], name: str, default: int, top: int) -> int | None:
    """An integer parameter clamped to ``1..top`` (None when malformed)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        return None
    return max(1, min(value, top))
