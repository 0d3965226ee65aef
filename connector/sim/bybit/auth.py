"""Bybit v5 request verification, on the bytes received. Sans-I/O.

Rules (venues-trading.md 1.1, 1.2; Bybit docs v5/guide.mdx "Authentication",
v5/websocket/wss-authentication.mdx):

* REST headers ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-SIGN``,
  ``X-BAPI-RECV-WINDOW`` (ms, default 5000). The signed string is
  ``timestamp + apiKey + recvWindow + rest``, where ``rest`` is the raw query
  string of a GET and the raw body of a POST, and ``recvWindow`` is the
  header's text as sent (when the header is absent, a signature over "" or
  over "5000" is accepted). HMAC keys: lowercase hex HMAC-SHA256; RSA keys:
  base64 RSA-SHA256.
* Time: accepted when ``server_time - recv_window <= timestamp < server_time +
  1000``, else 10002. 10003: unknown key; 10004: bad signature. Bybit answers
  these with HTTP 200 and the code in ``retCode``.
* WebSocket ``{"op":"auth","args":[apiKey, expires, signature]}``: signature
  = HMAC-SHA256 hex of ``"GET/realtime" + expires``; ``expires`` (ms) must be
  in the future ("Params Error" otherwise, as Bybit answers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.sim.accounts.keys import (
    AuthDecision,
    Authenticated,
    AuthRejected,
    KeyEntry,
    Keyring,
    hmac_matches,
    hmac_sha256,
    verify_public_key,
)

__all__ = ["INVALID_KEY", "INVALID_SIGN", "rest_payload", "verify_rest", "verify_ws_auth"]

INVALID_KEY = AuthRejected(code=10003, message="API key is invalid.", http_status=200)
INVALID_SIGN = AuthRejected(
    code=10004,
    message="Error sign, please check your signature generation algorithm.",
    http_status=200,
)
_WS_INVALID_KEY = AuthRejected(code=10003, message="Invalid apikey", http_status=200)
_WS_PARAMS = AuthRejected(code=10001, message="Params Error", http_status=200)
_WS_INVALID_SIGN = AuthRejected(code=10004, message="Invalid sign", http_status=200)
_MISSING_PARAMS = AuthRejected(code=10001, message="Request parameter error", http_status=200)

_DEFAULT_RECV_WINDOW = "5000"
_AHEAD_MS = 1000


def rest_payload(
    *, method: str, timestamp: str, api_key: str, recv_window: str, query_string: str, body: bytes
) -> bytes:
    """The string Bybit signs for a REST request, from the texts received."""
    rest = query_string.encode("latin-1", "replace") if method.upper() == "GET" else body
    return (timestamp + api_key + recv_window).encode() + rest


def verify_rest(
    *,
    method: str,
    query_string: str,
    body: bytes,
    headers: Mapping[str, str],
    keyring: Keyring,
    now_ns: int,
) -> AuthDecision:
    """Verify a private REST request as Bybit v5 does.

    Args:
        method: HTTP method.
        query_string: The raw query string (no ``?``), as received.
        body: The raw body, as received.
        headers: Request headers, names lower-cased.
        keyring: The venue's keys.
        now_ns: The venue's clock.
    """
    api_key = headers.get("x-bapi-api-key", "")
    entry = keyring.find(api_key) if api_key else None
    if entry is None:
        return INVALID_KEY
    timestamp = headers.get("x-bapi-timestamp", "")
    sign = headers.get("x-bapi-sign", "")
    window_header = headers.get("x-bapi-recv-window")
    window = window_header if window_header is not None else _DEFAULT_RECV_WINDOW
    if not timestamp.isdigit() or not window.isdigit() or not sign:
        return _MISSING_PARAMS
    now_ms = now_ns // 1_000_000
    stamp = int(timestamp)
    if not now_ms - int(window) <= stamp < now_ms + _AHEAD_MS:
        return AuthRejected(
            code=10002,
            message=(
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{stamp}],server_timestamp[{now_ms}],recv_window[{window}]"
            ),
            http_status=200,
        )
    signed = [window] if window_header is not None else ["", _DEFAULT_RECV_WINDOW]
    for recv_window in signed:
        payload = rest_payload(
            method=method,
            timestamp=timestamp,
            api_key=api_key,
            recv_window=recv_window,
            query_string=query_string,
            body=body,
        )
        if _signed_by(entry, payload, sign):
            return Authenticated(account_id=entry.account_id, api_key=api_key)
    return INVALID_SIGN


def verify_ws_auth(args: Sequence[object], *, keyring: Keyring, now_ns: int) -> AuthDecision:
    """Verify the ``args`` of a websocket ``auth`` op (private stream or ``/v5/trade``)."""
    if len(args) != 3 or not all(isinstance(a, (str, int)) for a in args):
        return _WS_PARAMS
    api_key, expires, sign = (str(a) for a in args)
    if isinstance(args[1], bool) or not expires.isdigit():
        return _WS_PARAMS
    entry = keyring.find(api_key)
    if entry is None:
        return _WS_INVALID_KEY
    if int(expires) <= now_ns // 1_000_000:
        return _WS_PARAMS
    if not _signed_by(entry, b"GET/realtime" + expires.encode(), sign):
        return _WS_INVALID_SIGN
    return Authenticated(account_id=entry.account_id, api_key=api_key)


def _signed_by(entry: KeyEntry, payload: bytes, sign: str) -> bool:
    credentials = entry.credentials
    if credentials.key_type == "hmac":
        return hmac_matches(hmac_sha256(credentials.secret, payload).hex(), sign)
    return verify_public_key(credentials, payload, sign)
