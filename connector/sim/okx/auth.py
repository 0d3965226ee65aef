"""OKX v5 request verification, on the bytes received. Sans-I/O.

Rules (venues-trading.md 1.1, 1.2, 2.5, 6; OKX docs overview-rest-authentication,
overview-websocket-login, error codes):

* REST headers ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP``
  (ISO-8601 UTC with ms, ``2020-12-08T09:08:57.715Z``), ``OK-ACCESS-PASSPHRASE``.
  The signed string is ``timestamp + METHOD + requestPath + body``, where
  requestPath carries the raw query string (``/api/v5/account/balance?ccy=BTC``)
  and body is the raw body ("" for a GET); signature = base64 HMAC-SHA256.
  python-okx signs an empty ``{}`` body as "", so for a body of exactly ``{}``
  both are accepted.
* Errors, all HTTP 401: 50103/50104/50106/50107 a header is missing; 50112
  bad timestamp; 50102 timestamp more than 30 s from the server's time; 50111
  unknown key; 50105 wrong passphrase; 50113 bad signature.
* ``x-simulated-trading`` (``1`` demo, ``0`` live, or absent) is accepted:
  the simulator serves both environments.
* WebSocket ``login``: ``args[0] = {apiKey, passphrase, timestamp, sign}``,
  timestamp in Unix **seconds** (a string, or a JSON number as python-okx
  sends it); sign = base64 HMAC-SHA256 of ``timestamp +
  "GET" + "/users/self/verify"``; 30 s window (60006). 60004 bad timestamp,
  60005 unknown key, 60024 wrong passphrase, 60009 "Login failed." for a bad
  signature (the failure the fact sheet records), 60013 malformed args.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from connector.sim.accounts.keys import (
    AuthDecision,
    Authenticated,
    AuthRejected,
    KeyEntry,
    Keyring,
    hmac_matches,
    hmac_sha256,
)

__all__ = ["WINDOW_NS", "parse_timestamp", "rest_payload", "verify_rest", "verify_ws_login"]

WINDOW_NS = 30_000_000_000
"""Largest distance between a request's timestamp and the server's time."""


def _rest_error(code: int, message: str) -> AuthRejected:
    return AuthRejected(code=code, message=message, http_status=401)


_NO_KEY = _rest_error(50103, 'Request header "OK-ACCESS-KEY" cannot be empty.')
_NO_PASSPHRASE = _rest_error(50104, 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
_NO_SIGN = _rest_error(50106, 'Request header "OK-ACCESS-SIGN" cannot be empty.')
_NO_TIMESTAMP = _rest_error(50107, 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
_BAD_TIMESTAMP = _rest_error(50112, "Invalid OK-ACCESS-TIMESTAMP.")
_EXPIRED = _rest_error(50102, "Timestamp request expired.")
_BAD_KEY = _rest_error(50111, "Invalid OK-ACCESS-KEY.")
_BAD_PASSPHRASE = _rest_error(50105, 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
_BAD_SIGN = _rest_error(50113, "Invalid signature.")


def _ws_error(code: int, message: str) -> AuthRejected:
    return AuthRejected(code=code, message=message, http_status=200)


_WS_BAD_ARGS = _ws_error(60013, "Invalid args")
_WS_BAD_TIMESTAMP = _ws_error(60004, "Invalid timestamp")
_WS_EXPIRED = _ws_error(60006, "Timestamp request expired")
_WS_BAD_KEY = _ws_error(60005, "Invalid apiKey")
_WS_BAD_PASSPHRASE = _ws_error(60024, "Wrong passphrase")
_WS_LOGIN_FAILED = _ws_error(60009, "Login failed.")


def parse_timestamp(text: str) -> int | None:
    """Nanoseconds of an ``OK-ACCESS-TIMESTAMP`` (``2020-12-08T09:08:57.715Z``), or None."""
    if not text.endswith("Z") or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def rest_payload(
    *, timestamp: str, method: str, path: str, query_string: str, body: bytes
) -> bytes:
    """The string OKX signs for a REST request, from the texts received."""
    request_path = path + ("?" + query_string if query_string else "")
    prefix = (timestamp + method.upper()).encode() + request_path.encode("latin-1", "replace")
    return prefix + body


def verify_rest(
    *,
    method: str,
    path: str,
    query_string: str,
    body: bytes,
    headers: Mapping[str, str],
    keyring: Keyring,
    now_ns: int,
) -> AuthDecision:
    """Verify a private REST request as OKX v5 does.

    Args:
        method: HTTP method.
        path: URL path without the query string.
        query_string: The raw query string (no ``?``), as received.
        body: The raw body, as received.
        headers: Request headers, names lower-cased.
        keyring: The venue's keys.
        now_ns: The venue's clock.
    """
    api_key = headers.get("ok-access-key", "")
    passphrase = headers.get("ok-access-passphrase", "")
    sign = headers.get("ok-access-sign", "")
    timestamp = headers.get("ok-access-timestamp", "")
    for value, missing in (
        (api_key, _NO_KEY),
        (passphrase, _NO_PASSPHRASE),
        (sign, _NO_SIGN),
        (timestamp, _NO_TIMESTAMP),
    ):
        if not value:
            return missing
    stamp_ns = parse_timestamp(timestamp)
    if stamp_ns is None:
        return _BAD_TIMESTAMP
    if abs(now_ns - stamp_ns) > WINDOW_NS:
        return _EXPIRED
    entry = keyring.find(api_key)
    if entry is None:
        return _BAD_KEY
    if not hmac_matches(entry.credentials.passphrase, passphrase):
        return _BAD_PASSPHRASE
    bodies = [body, b""] if body.strip() == b"{}" else [body]
    for signed_body in bodies:
        payload = rest_payload(
            timestamp=timestamp,
            method=method,
            path=path,
            query_string=query_string,
            body=signed_body,
        )
        if _signed_by(entry, payload, sign):
            return Authenticated(account_id=entry.account_id, api_key=api_key)
    return _BAD_SIGN


def verify_ws_login(args: Sequence[object], *, keyring: Keyring, now_ns: int) -> AuthDecision:
    """Verify the ``args`` of a websocket ``login`` op (one account per connection)."""
    if len(args) != 1 or not isinstance(args[0], dict):
        return _WS_BAD_ARGS
    fields = args[0]
    stamp = fields.get("timestamp")
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        stamp = str(stamp)  # python-okx sends the seconds as a JSON number
    values = [fields.get("apiKey"), fields.get("passphrase"), stamp, fields.get("sign")]
    if not all(isinstance(v, str) and v for v in values):
        return _WS_BAD_ARGS
    api_key, passphrase, timestamp, sign = (str(v) for v in values)
    try:
        seconds = Decimal(timestamp)
    except InvalidOperation:
        return _WS_BAD_TIMESTAMP
    if not seconds.is_finite() or seconds < 0:
        return _WS_BAD_TIMESTAMP
    if abs(now_ns - int(seconds * 1_000_000_000)) > WINDOW_NS:
        return _WS_EXPIRED
    entry = keyring.find(api_key)
    if entry is None:
        return _WS_BAD_KEY
    if not hmac_matches(entry.credentials.passphrase, passphrase):
        return _WS_BAD_PASSPHRASE
    if not _signed_by(entry, (timestamp + "GET/users/self/verify").encode(), sign):
        return _WS_LOGIN_FAILED
    return Authenticated(account_id=entry.account_id, api_key=api_key)


def _signed_by(entry: KeyEntry, payload: bytes, sign: str) -> bool:
    if entry.credentials.key_type != "hmac":
        return False
    digest = hmac_sha256(entry.credentials.secret, payload)
    return hmac_matches(base64.b64encode(digest).decode(), sign)
