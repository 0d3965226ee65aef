"""Binance spot WebSocket API at ``/ws-api/v3`` (real: wss://ws-api.binance.com:443/ws-api/v3).

Requests ``{"id", "method", "params"}``; answers ``{"id", "status", "result"
| "error", "rateLimits"}`` (Binance spot web-socket-api.md, checked
2026-12-03). Served methods:

* ``ping``, ``time``;
* ``session.logon`` (Ed25519 keys only, -4056 otherwise), ``session.status``,
  ``session.logout``; after a logon, signed methods may omit ``apiKey`` and
  ``signature``;
* ``order.place``, ``order.cancel``, ``order.status``, ``order.cancelReplace``
  (a failed part: status 409 or 400 with ``error.data``),
  ``order.amend.keepPriority``, ``openOrders.status``, ``openOrders.cancelAll``,
  ``account.status``: the same checks, codes and
  result shapes as REST (:class:`~connector.sim.binance.spot_orders.SpotTrading`),
  sharing the account's order counts with REST;
* ``userDataStream.subscribe.signature`` (any key type; one subscription per
  account per connection, -2035 for a second), ``userDataStream.subscribe``
  (the logged-on account), ``userDataStream.unsubscribe`` (one
  ``subscriptionId`` or all; -2036 when none is active; each ends with
  ``eventStreamTerminated``), ``session.subscriptions``.

``rateLimits`` (unless ``returnRateLimits`` is false) carries the IP's
REQUEST_WEIGHT and, on order methods, the account's ORDERS counts. Signed
requests are verified on their raw JSON params (sorted ``k=v`` joined by
``&``, :func:`connector.sim.binance.auth.verify_ws_request`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import msgspec

from connector.sim.accounts import AuthRejected
from connector.sim.binance.auth import verify_session_logon, verify_ws_request
from connector.sim.binance.signed import BinanceError, Params
from connector.sim.binance.spot_account import account_json, account_uid
from connector.sim.binance.spot_orders import SpotTrading
from connector.sim.binance.spot_user import Subscription, UserDataHub
from connector.sim.hub import SimVenue
from connector.sim.ratelimit import BinanceWeightLimiter
from connector.sim.ws import ORDER_REPLIES, WsConnection

__all__ = ["SpotWsApi"]

_enc = msgspec.json.Encoder()


class _Request(msgspec.Struct):
    id: msgspec.Raw = msgspec.Raw(b"null")
    method: object = None
    params: dict[str, msgspec.Raw] = msgspec.field(default_factory=dict)


_WEIGHTS = {
    "ping": 1,
    "time": 1,
    "session.logon": 2,
    "session.status": 2,
    "session.logout": 2,
    "session.subscriptions": 2,
    "order.place": 0,
    "order.cancel": 0,
    "order.status": 4,
    "openOrders.status": 6,
    "openOrders.cancelAll": 0,
    "order.cancelReplace": 0,
    "order.amend.keepPriority": 4,
    "account.status": 20,
    "userDataStream.subscribe": 2,
    "userDataStream.subscribe.signature": 2,
    "userDataStream.unsubscribe": 2,
}
_SIGNED = frozenset(
    {
        "order.place",
        "order.cancel",
        "order.status",
        "openOrders.status",
        "openOrders.cancelAll",
        "order.cancelReplace",
        "order.amend.keepPriority",
        "account.status",
    }
)
_ORDER_METHODS = frozenset({"order.place", "order.cancelReplace"})
_ORDER_ENTRY = frozenset(
    {"order.place", "order.cancel", "order.cancelReplace", "order.amend.keepPriority"}
)
"""Methods whose replies are order-entry replies to the fault plan (``ORDER_REPLIES``)."""
_MAX_SUBSCRIPTIONS = 1000


def _text(raw: msgspec.Raw) -> str:
    """A JSON value as a parameter: strings unescaped, the rest as written."""
    data = bytes(raw)
    if data.startswith(b'"'):
        value = msgspec.json.decode(data)
        return value if isinstance(value, str) else str(value)
    return data.decode()


class _Session:
    """One WebSocket API connection."""

    def __init__(self, conn: WsConnection, now_ms: int) -> None:
        self.conn = conn
        self.connected_ms = now_ms
        self.account: str | None = None
        self.api_key: str | None = None
        self.logon_ms = 0
        self.subs: dict[int, Subscription] = {}
        self.sub_ids = itertools.count(0)


class SpotWsApi:
    """The spot WebSocket API.

    Args:
        venue: The venue hub.
        trading: Spot order entry (shared with REST).
        users: The user data fan-out.
        limiter: The spot request-weight limiter (shared with REST, per IP).
    """

    def __init__(
        self,
        venue: SimVenue,
        trading: SpotTrading,
        users: UserDataHub,
        limiter: BinanceWeightLimiter,
    ) -> None:
        self.venue = venue
        self.trading = trading
        self.users = users
        self.limiter = limiter
        self.requests = 0
        #: Requests of the order-entry methods (their replies are faultable).
        self.order_requests = 0
        methods: dict[str, Callable[[_Session, str | None, Params, bool], object]] = {
            "ping": lambda s, a, p, o: {},
            "time": lambda s, a, p, o: {"serverTime": self.venue.now_ms()},
            "order.place": lambda s, a, p, o: trading.place(_acct(a), p, self.venue.now_ms()),
            "order.cancel": lambda s, a, p, o: trading.cancel(_acct(a), p, self.venue.now_ms()),
            "order.status": lambda s, a, p, o: trading.query(_acct(a), p),
            "openOrders.status": lambda s, a, p, o: trading.open_orders(_acct(a), p),
            "openOrders.cancelAll": lambda s, a, p, o: trading.cancel_all(
                _acct(a), p, self.venue.now_ms()
            ),
            "order.cancelReplace": self._cancel_replace,
            "order.amend.keepPriority": lambda s, a, p, o: trading.amend_keep_priority(
                _acct(a), p, self.venue.now_ms()
            ),
            "account.status": self._account_status,
            "session.status": lambda s, a, p, o: self._session_status(s),
            "session.logout": self._logout,
            "session.subscriptions": lambda s, a, p, o: [
                {"subscriptionId": i} for i in sorted(s.subs)
            ],
            "userDataStream.subscribe": self._subscribe_session,
            "userDataStream.unsubscribe": self._unsubscribe,
        }
        self._methods = methods

    async def handler(self, conn: WsConnection) -> None:
        """One WebSocket API session."""
        session = _Session(conn, self.venue.now_ms())
        try:
            while (message := await conn.receive()) is not None:
                self.on_message(session, message)
        finally:
            for sub in list(session.subs.values()):
                self.users.remove(sub, terminated=False)

    def on_message(self, session: _Session, message: str | bytes) -> None:
        """Answer one request."""
        self.requests += 1
        conn = session.conn
        try:
            req = msgspec.json.decode(message, type=_Request)
        except (msgspec.DecodeError, msgspec.ValidationError):
            bad: dict[str, object] = {
                "id": None,
                "status": 400,
                "error": {"code": -1135, "msg": "Invalid JSON Request"},
            }
            conn.send(_enc.encode(bad).decode())
            return
        req_id: object = msgspec.json.decode(bytes(req.id))
        method = req.method if isinstance(req.method, str) else ""
        params = req.params
        return_limits = (
            _text(params["returnRateLimits"]) != "false" if params.get("returnRateLimits") else True
        )
        verdict = self.limiter.check(conn.client, _WEIGHTS.get(method, 1))
        limits: list[dict[str, object]] = [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.limiter.limit,
                "count": self.limiter.used(conn.client),
            }
        ]
        account: str | None = None
        try:
            if not verdict.allowed:
                reply: dict[str, object] = {
                    "id": req_id,
                    "status": verdict.status,
                    "error": self.limiter.ws_refusal(verdict).body(),
                }
            else:
                result, account = self._call(session, method, params)
                reply = {"id": req_id, "status": 200, "result": result}
        except _CancelReplaceFailed as failed:
            reply = {"id": req_id, "status": failed.status, "error": failed.body}
        except BinanceError as err:
            reply = {"id": req_id, "status": err.status, "error": err.body()}
        if method in _ORDER_METHODS and account is not None:
            for window, count in self.trading.limiter.counts(account, self.venue.now_ms()):
                limits.append(
                    {
                        "rateLimitType": "ORDERS",
                        "interval": window.interval,
                        "intervalNum": window.interval_num,
                        "limit": window.limit,
                        "count": count,
                    }
                )
        if return_limits:
            reply["rateLimits"] = limits
        entry = method in _ORDER_ENTRY
        self.order_requests += entry
        conn.send(_enc.encode(reply).decode(), ORDER_REPLIES if entry else "")

    def _call(
        self, session: _Session, method: str, raw: Mapping[str, msgspec.Raw]
    ) -> tuple[object, str | None]:
        keyring = self.venue.desk.keyring
        now_ns = self.venue.now_ns()
        params = Params({k: _text(v) for k, v in raw.items()})
        if method == "session.logon":
            decision = verify_session_logon(raw, keyring=keyring, now_ns=now_ns)
            if isinstance(decision, AuthRejected):
                raise BinanceError.of(decision)
            session.account = decision.account_id
            session.api_key = decision.api_key
            session.logon_ms = self.venue.now_ms()
            return self._session_status(session), decision.account_id
        if method == "userDataStream.subscribe.signature":
            decision = verify_ws_request(raw, keyring=keyring, now_ns=now_ns)
            if isinstance(decision, AuthRejected):
                raise BinanceError.of(decision)
            return self._subscribe(session, decision.account_id), decision.account_id
        account: str | None = None
        if method in _SIGNED:
            if session.account is not None and "signature" not in raw:
                account = session.account
            else:
                decision = verify_ws_request(raw, keyring=keyring, now_ns=now_ns)
                if isinstance(decision, AuthRejected):
                    raise BinanceError.of(decision)
                account = decision.account_id
        handler = self._methods.get(method)
        if handler is None:
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'method'.",
            )
        return handler(session, account, params, True), account

    # ------------------------------------------------------------ methods

    def _session_status(self, session: _Session) -> dict[str, object]:
        return {
            "apiKey": session.api_key,
            "authorizedSince": session.logon_ms or None,
            "connectedSince": session.connected_ms,
            "returnRateLimits": True,
            "serverTime": self.venue.now_ms(),
            "userDataStream": any(s.account == session.account for s in session.subs.values())
            if session.account
            else False,
        }

    def _logout(self, session: _Session, account: str | None, params: Params, _o: bool) -> object:
        if session.account is not None:
            for sid, sub in list(session.subs.items()):
                if sub.account == session.account:
                    del session.subs[sid]
                    self.users.remove(sub)
        session.account = None
        session.api_key = None
        session.logon_ms = 0
        return self._session_status(session)

    def _cancel_replace(
        self, session: _Session, account: str | None, params: Params, _o: bool
    ) -> object:
        status, body = self.trading.cancel_replace(_acct(account), params, self.venue.now_ms())
        if status != 200:
            raise _CancelReplaceFailed(status, body)
        return body

    def _account_status(
        self, session: _Session, account: str | None, params: Params, _o: bool
    ) -> object:
        acct = _acct(account)
        desk = self.venue.desk
        return account_json(
            desk.balances(acct),
            desk.fee_rates(acct, "spot"),
            account_uid(acct),
            self.venue.now_ms(),
            omit_zero=params.boolean("omitZeroBalances", default=False),
        )

    def _subscribe(self, session: _Session, account: str) -> dict[str, object]:
        if any(s.account == account for s in session.subs.values()):
            raise BinanceError(-2035, "User Data Stream subscription already active.")
        if len(session.subs) >= _MAX_SUBSCRIPTIONS:
            raise BinanceError(-1002, "Too many subscriptions.")
        sid = next(session.sub_ids)
        sub = Subscription(subscription_id=sid, account=account, conn=session.conn)
        session.subs[sid] = sub
        self.users.add(sub)
        return {"subscriptionId": sid}

    def _subscribe_session(
        self, session: _Session, account: str | None, params: Params, _o: bool
    ) -> object:
        if session.account is None:
            raise BinanceError(-1002, "You are not authorized to execute this request.", 401)
        return self._subscribe(session, session.account)

    def _unsubscribe(
        self, session: _Session, account: str | None, params: Params, _o: bool
    ) -> object:
        wanted = params.integer("subscriptionId")
        if wanted is None:
            targets = list(session.subs)
        else:
            targets = [wanted] if wanted in session.subs else []
        if not targets:
            raise BinanceError(-2036, "User Data Stream subscription not active.")
        for sid in targets:
            self.users.remove(session.subs.pop(sid))
        return {}


class _CancelReplaceFailed(Exception):
    """``order.cancelReplace`` with a failed part: its status and ``{code, msg, data}``."""

    def __init__(self, status: int, body: dict[str, object]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _acct(account: str | None) -> str:
    assert account is not None
    return account
