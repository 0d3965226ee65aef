"""Bybit v5 request signing: REST headers and the private-websocket ``auth`` op.

Sans-I/O: the time is an argument (``now_ns``, the venue's time from the
clock). The facts, with sources, are in ``docs/venues/bybit.md`` ("Signing").

- **REST**: the signed string is ``timestamp + apiKey + recvWindow +
  payload``, where the payload is the query string as sent for a GET and the
  JSON body as sent for a POST (never a re-serialisation: Bybit hashes the
  bytes it receives). Timestamp and receive window (both ms) travel in
  ``X-BAPI-TIMESTAMP`` and ``X-BAPI-RECV-WINDOW`` and must equal what was
  signed. The venue accepts ``server_time - recv_window <= timestamp <
  server_time + 1000``.
- **Websocket** (``/v5/private``, ``/v5/trade``): ``{"op": "auth", "args":
  [apiKey, expires, signature]}`` where ``expires`` is a deadline in ms (in the
  future) and the signed string is ``"GET/realtime" + expires``.

HMAC signatures are lowercase hex, RSA (PKCS#1 v1.5, SHA-256) ones base64.
Bybit has no Ed25519 keys.
"""

from __future__ import annotations

from connector.errors import LocalError
from connector.model.credentials import KeyType
from connector.venues.signing import Signer, b64, require_key_type

__all__ = [
    "DEFAULT_RECV_WINDOW_MS",
    "sign_rest",
    "signature",
    "ws_auth_args",
    "ws_auth_frame",
]

DEFAULT_RECV_WINDOW_MS = 5000

_NS_PER_MS = 1_000_000
_KEYS = frozenset({KeyType.HMAC, KeyType.RSA})


def signature(signer: Signer, payload: bytes) -> str:
    """The signature as Bybit writes it: HMAC lowercase hex, RSA base64.

    Raises:
        ConfigError: The key is Ed25519, which Bybit does not accept.
    """
    require_key_type(signer, "bybit", _KEYS, "signing")
    raw = signer.sign(payload)
    return raw.hex() if signer.key_type is KeyType.HMAC else b64(raw)


def sign_rest(
    signer: Signer,
    *,
    method: str,
    query: str = "",
    body: str | bytes = b"",
    now_ns: int,
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
) -> dict[str, str]:
    """The authentication headers of one v5 REST request.

    Args:
        signer: The credentials (HMAC or RSA).
        method: ``GET`` (the query is signed) or ``POST`` (the body is signed).
        query: The query string exactly as sent, without ``?`` (GET).
        body: The JSON body exactly as sent (POST).
        now_ns: The venue's time now; sent as ``X-BAPI-TIMESTAMP`` in ms.
        recv_window_ms: Sent as ``X-BAPI-RECV-WINDOW``.

    Returns:
        ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW``,
        ``X-BAPI-SIGN`` and ``X-BAPI-SIGN-TYPE: 2`` (what pybit sends).

    Raises:
        LocalError: ``method`` is neither GET nor POST (v5 uses only those).
        ConfigError: The key is Ed25519.
    """
    verb = method.upper()
    if verb == "GET":
        payload = query.encode("utf-8")
    elif verb == "POST":
        payload = body.encode("utf-8") if isinstance(body, str) else body
    else:
        raise LocalError(f"bybit v5 signs GET and POST requests, not {method!r}")
    timestamp = str(now_ns // _NS_PER_MS)
    window = str(recv_window_ms)
    prefix = f"{timestamp}{signer.api_key}{window}".encode()
    return {
        "X-BAPI-API-KEY": signer.api_key,
        "X-BAPI-TIMESTAMP": timestamp,
        "X-BAPI-RECV-WINDOW": window,
        "X-BAPI-SIGN": signature(signer, prefix + payload),
        "X-BAPI-SIGN-TYPE": "2",
    }


def ws_auth_args(signer: Signer, *, expires_ns: int) -> list[str | int]:
    """The ``args`` of the websocket ``auth`` op: ``[apiKey, expires_ms, signature]``.

    Args:
        signer: The credentials (HMAC or RSA).
        expires_ns: When the authentication request expires (venue time, in
            the future: typically now plus a few seconds); sent in ms.
    """
    expires = expires_ns // _NS_PER_MS
    return [signer.api_key, expires, signature(signer, f"GET/realtime{expires}".encode())]


def ws_auth_frame(
    signer: Signer, *, expires_ns: int, req_id: str | None = None
) -> dict[str, object]:
    """The whole ``auth`` frame, ``{"op": "auth", "args": [...]}`` (plus ``req_id``)."""
    frame: dict[str, object] = {"op": "auth", "args": ws_auth_args(signer, expires_ns=expires_ns)}
    if req_id is not None:
        frame["req_id"] = req_id
    return frame
