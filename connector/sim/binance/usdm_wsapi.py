"""Binance USDⓈ-M websocket API (ws-fapi) at ``/ws-fapi/v1`` on the futures port.

Requests ``{"id", "method", "params"}``; replies ``{"id", "status": 200,
"result": ..., "rateLimits": [...]}`` or ``{"id", "status": <http status>,
"error": {"code", "msg"}, "rateLimits": [...]}`` (websocket-api-general-info,
checked 2026-12-03). ``rateLimits`` carries REQUEST_WEIGHT (2400 per
minute) and the account's two ORDERS counters, which REST order entry shares.

Methods: ``order.place``, ``order.cancel``, ``order.modify``,
``order.status`` (the REST semantics of :class:`UsdmOrders`),
``session.logon`` (Ed25519 keys only, -4056 otherwise), ``session.status``,
``session.logout``, ``userDataStream.start`` / ``.ping`` / ``.stop`` (the
events still come on ``/private/...``), ``account.status`` /
``account.balance`` / ``account.position`` (as REST v2) and their ``v2/``
names (as REST v3). ``returnRateLimits: false`` leaves ``rateLimits`` out.
A signed request carries ``apiKey``, ``timestamp`` and ``signature`` over
its sorted params; after a ``session.logon`` the session's key signs nothing
more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from connector.sim.accounts.keys import AuthRejected, Keyring
from connector.sim.binance.auth import verify_session_logon, verify_ws_request
from connector.sim.binance.usdm_account import ListenKeys, UsdmAccounts
from connector.sim.binance.usdm_codes import UsdmError, mandatory
from connector.sim.binance.usdm_request import ws_params
from connector.sim.binance.usdm_trading import Result, UsdmOrders
from connector.sim.ratelimit import BinanceWeightLimiter, WsRefusal
from connector.sim.ws import ORDER_REPLIES, WsConnection

__all__ = ["WsApi"]

_enc = msgspec.json.Encoder()


class _Request(msgspec.Struct):
    id: msgspec.Raw = msgspec.Raw(b"null")
    method: str | None = None
    params: dict[str, msgspec.Raw] = {}


_decode = msgspec.json.Decoder(_Request).decode
_ORDER_METHODS = ("order.place", "order.cancel", "order.modify", "order.status")
_ORDER_ENTRY = frozenset(_ORDER_METHODS[:3])
"""Methods whose replies are order-entry replies to the fault plan (``ORDER_REPLIES``)."""
# ws-fapi account reads: the plain name answers as REST v2, ``v2/`` as REST v3.
_ACCOUNT_METHODS = (
    "account.status",
    "v2/account.status",
    "account.balance",
    "v2/account.balance",
    "account.position",
    "v2/account.position",
)


class WsApi:
    """The ws-fapi endpoint.

    Args:
        orders: The USDⓈ-M order operations (shared with REST).
        accounts: The USDⓈ-M account reads (shared with REST).
        keys: The listenKeys (shared with REST).
        keyring: The venue's API keys.
        now_ns: The venue clock in ns.
        limiter: The market's request-weight limiter (per IP, shared with REST).
    """

    def __init__(
        self,
        orders: UsdmOrders,
        accounts: UsdmAccounts,
        keys: ListenKeys,
        keyring: Keyring,
        now_ns: Callable[[], int],
        limiter: BinanceWeightLimiter,
    ) -> None:
        self.orders = orders
        self.accounts = accounts
        self.keys = keys
        self.keyring = keyring
        self.now_ns = now_ns
        self.requests = 0
        #: Requests of the order-entry methods (their replies are faultable).
        self.order_requests = 0
        self.limiter = limiter
        self._current: dict[str, object] = {}

    async def handler(self, conn: WsConnection) -> None:
        """One ws-fapi session."""
        while True:
            message = await conn.receive()
            if message is None:
                return
            conn.state.setdefault("client", conn.client)
            requests = self.order_requests
            reply = self.answer(conn.state, message)
            conn.send(reply, ORDER_REPLIES if self.order_requests > requests else "")

    def answer(self, session: dict[str, object], message: str | bytes) -> str:
        """The reply to one request of a session (``session`` keeps the logon)."""
        self.requests += 1
        self._current = session
        try:
            req = _decode(message)
        except (msgspec.DecodeError, msgspec.ValidationError):
            err = UsdmError(status=400, code=-1100, msg="Illegal characters found in a parameter.")
            return self._reply(None, err, None)
        req_id = bytes(req.id).decode()
        method = req.method or ""
        self.order_requests += method in _ORDER_ENTRY
        account = session.get("account")
        verdict = self.limiter.check(_str(session.get("client")) or "", _weight(method))
        if not verdict.allowed:
            return self._reply(req_id, self.limiter.ws_refusal(verdict), None)
        if method == "session.logon":
            decision = verify_session_logon(req.params, keyring=self.keyring, now_ns=self.now_ns())
            if isinstance(decision, AuthRejected):
                return self._reply(req_id, _rejected(decision), None)
            session["account"] = decision.account_id
            session["apiKey"] = decision.api_key
            return self._reply(req_id, self._session(session), decision.account_id)
        if method == "session.status":
            return self._reply(req_id, self._session(session), _str(account))
        if method == "session.logout":
            session.pop("account", None)
            session.pop("apiKey", None)
            return self._reply(req_id, self._session(session), None)
        if method.startswith("userDataStream."):
            return self._user_stream(req_id, method, req.params, session)
        if method not in _ORDER_METHODS + _ACCOUNT_METHODS:
            err = UsdmError(status=400, code=-1100, msg=f"Unknown method '{method}'.")
            return self._reply(req_id, err, _str(account))
        if "signature" in req.params or account is None:
            decision = verify_ws_request(req.params, keyring=self.keyring, now_ns=self.now_ns())
            if isinstance(decision, AuthRejected):
                return self._reply(req_id, _rejected(decision), _str(account))
            acting = decision.account_id
        else:
            acting = _str(account) or ""
        params = ws_params(req.params)
        if params.get("returnRateLimits") == "false":
            session["quiet"] = True
        result: Result
        if method in _ACCOUNT_METHODS:
            result = self._account(acting, method, params)
        elif method == "order.place":
            result = self.orders.place(acting, params)
        elif method == "order.cancel":
            result = self.orders.cancel(acting, params)
        elif method == "order.modify":
            result = self.orders.modify(acting, params)
        else:
            result = self.orders.query(acting, params)
        return self._reply(req_id, result, acting)

    def _account(self, account: str, method: str, params: Mapping[str, str]) -> Result:
        v3 = method.startswith("v2/")
        name = method.removeprefix("v2/")
        a = self.accounts
        if name == "account.status":
            return a.account(account, params, v2=not v3)
        if name == "account.balance":
            return a.balances(account, params)
        return a.position_risk(account, params, v2=not v3)

    def _user_stream(
        self,
        req_id: str | None,
        method: str,
        raw: Mapping[str, msgspec.Raw],
        session: dict[str, object],
    ) -> str:
        params = ws_params(raw)
        api_key = params.get("apiKey") or _str(session.get("apiKey"))
        if not api_key:
            return self._reply(req_id, mandatory("apiKey"), None)
        entry = self.keyring.find(api_key)
        if entry is None:
            err = UsdmError(
                status=401, code=-2015, msg="Invalid API-key, IP, or permissions for action."
            )
            return self._reply(req_id, err, None)
        account = entry.account_id
        result: Result
        if method == "userDataStream.start":
            result = {"listenKey": self.keys.create(account)}
        elif method == "userDataStream.ping":
            key = self.keys.keepalive(account)
            result = (
                {"listenKey": key}
                if key
                else UsdmError(status=400, code=-1125, msg="This listenKey does not exist.")
            )
        elif method == "userDataStream.stop":
            self.keys.close(account)
            result = {}
        else:
            result = UsdmError(status=400, code=-1100, msg=f"Unknown method '{method}'.")
        return self._reply(req_id, result, account)

    def _session(self, session: Mapping[str, object]) -> dict[str, object]:
        now_ms = self.now_ns() // 1_000_000
        return {
            "apiKey": session.get("apiKey"),
            "authorizedSince": now_ms if session.get("apiKey") else None,
            "connectedSince": now_ms,
            "returnRateLimits": True,
            "serverTime": now_ms,
        }

    def _rate_limits(self, account: str | None) -> list[dict[str, object]]:
        limits: list[dict[str, object]] = [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limiter.limit,
                "count": self.limiter.used(_str(self._current.get("client")) or ""),
            }
        ]
        if account is not None:
            limits += self.orders.counter.rate_limits(account)
        return limits

    def _reply(self, req_id: str | None, result: Result | WsRefusal, account: str | None) -> str:
        head = f'{{"id":{req_id or "null"},'
        if isinstance(result, (UsdmError, WsRefusal)):
            body: dict[str, object] = {"status": result.status, "error": result.body()}
        else:
            body = {"status": 200, "result": result}
        if not self._current.pop("quiet", False):
            body["rateLimits"] = self._rate_limits(account)
        return head + _enc.encode(body).decode()[1:]


def _rejected(r: AuthRejected) -> UsdmError:
    return UsdmError(status=r.http_status, code=r.code, msg=r.message)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _weight(method: str) -> int:
    """IP request weight of a method: ``order.place`` 0 (its order counters count it),
    every other 1 (``order.modify`` on the order counters too; New, Modify and Cancel
    Order, websocket API, checked 2026-12-06)."""
    return 0 if method == "order.place" else 1
