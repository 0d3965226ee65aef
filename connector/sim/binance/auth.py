"""Binance request verification (spot and USDⓈ-M), on the bytes received. Sans-I/O.

Rules (venues-trading.md 1.1, 1.2; Binance spot docs rest-api.md "SIGNED
endpoint security", "Timing security", web-socket-api.md "SIGNED request
security"; USDⓈ-M general-info):

* REST: the key is the ``X-MBX-APIKEY`` header. The signed payload
  (``totalParams``) is the query string **as received** concatenated, with no
  separator, to the form body as received, with the ``signature`` parameter
  taken out. Because the bytes received are percent-encoded, a client that
  signed the decoded text fails (-1022), as spot enforces since 2026-01-15.
  HMAC keys: hex HMAC-SHA256, case-insensitive. RSA and Ed25519 keys: base64
  (URL-encoded in the request).
* Time: ``timestamp`` (ms; spot also accepts µs, 16 digits) and
  ``recvWindow`` (default 5000, at most 60000, up to 3 decimals): rejected
  with -1021 if ``timestamp >= serverTime + 1000`` or
  ``serverTime - timestamp > recvWindow``.
* Keys: a missing or malformed unknown key gives -2014, a well-formed unknown
  key -2015, both HTTP 401.
* WebSocket API: the payload is every param but ``signature``, sorted by
  name, ``k=v`` joined with ``&``, raw UTF-8 (JSON strings unescaped, other
  JSON values as written). ``session.logon`` takes Ed25519 keys only.

Check order (what a request with several faults is told): key, mandatory
parameters, recvWindow, time window, signature.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Literal
from urllib.parse import parse_qsl, unquote_plus

import msgspec

from connector.sim.accounts.keys import (
    AuthDecision,
    Authenticated,
    AuthRejected,
    Keyring,
    hmac_matches,
    hmac_sha256,
    verify_public_key,
)

__all__ = [
    "BAD_KEY_FORMAT",
    "BAD_SIGNATURE",
    "REJECTED_KEY",
    "rest_payload",
    "verify_api_key",
    "verify_rest",
    "verify_session_logon",
    "verify_ws_request",
    "ws_payload",
]

BinanceMarket = Literal["spot", "usdm"]

BAD_KEY_FORMAT = AuthRejected(code=-2014, message="API-key format invalid.", http_status=401)
REJECTED_KEY = AuthRejected(
    code=-2015, message="Invalid API-key, IP, or permissions for action.", http_status=401
)
BAD_SIGNATURE = AuthRejected(code=-1022, message="Signature for this request is not valid.")
_TOO_OLD = AuthRejected(
    code=-1021, message="Timestamp for this request is outside of the recvWindow."
)
_AHEAD = AuthRejected(
    code=-1021, message="Timestamp for this request was 1000ms ahead of the server's time."
)
_BAD_RECV_WINDOW = AuthRejected(code=-1131, message="recvWindow must be less than 60000")
_HMAC_ON_LOGON = AuthRejected(code=-4056, message="HMAC_SHA256 API key is not supported.")

_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{64}")
_DEFAULT_RECV_WINDOW_MS = Decimal(5000)
_MAX_RECV_WINDOW_MS = Decimal(60000)
_AHEAD_NS = 1_000_000_000


def _mandatory(name: str) -> AuthRejected:
    return AuthRejected(
        code=-1102,
        message=f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def rest_payload(query_string: str, body: bytes) -> tuple[bytes, str]:
    """``(totalParams, signature)`` of a REST request, from the bytes received.

    The ``signature`` parameter is cut out of whichever part carries it; the
    rest is kept byte for byte. The signature comes back as sent (still
    URL-encoded); "" when there is none.
    """
    signature = ""
    parts: list[bytes] = []
    for raw in (query_string.encode("latin-1", "replace"), body):
        kept = []
        for item in raw.split(b"&") if raw else []:
            if item.split(b"=", 1)[0] == b"signature":
                signature = item.partition(b"=")[2].decode("latin-1")
            else:
                kept.append(item)
        parts.append(b"&".join(kept))
    return parts[0] + parts[1], signature


def ws_payload(params: Mapping[str, msgspec.Raw]) -> tuple[bytes, str]:
    """``(payload, signature)`` of a WebSocket API request from its raw JSON params."""
    signature = ""
    items: list[str] = []
    for name in sorted(params):
        text = _raw_text(params[name])
        if name == "signature":
            signature = text
        else:
            items.append(f"{name}={text}")
    return "&".join(items).encode(), signature


def verify_api_key(headers: Mapping[str, str], keyring: Keyring) -> AuthDecision:
    """Endpoints that need the key only (USER_STREAM: the USDⓈ-M ``listenKey``).

    Args:
        headers: Request headers, names lower-cased.
        keyring: The venue's keys.
    """
    return _find_key(headers.get("x-mbx-apikey", ""), keyring)


def verify_rest(
    *,
    query_string: str,
    body: bytes,
    headers: Mapping[str, str],
    keyring: Keyring,
    now_ns: int,
    market: BinanceMarket = "spot",
) -> AuthDecision:
    """Verify a SIGNED REST request as Binance does.

    Args:
        query_string: The raw query string (no ``?``), as received.
        body: The raw form body, as received.
        headers: Request headers, names lower-cased.
        keyring: The venue's keys.
        now_ns: The venue's clock.
        market: ``spot`` (accepts µs timestamps) or ``usdm``.
    """
    found = _find_key(headers.get("x-mbx-apikey", ""), keyring)
    if isinstance(found, AuthRejected):
        return found
    payload, signature = rest_payload(query_string, body)
    params = dict(parse_qsl(body.decode("utf-8", "replace")))
    params.update(parse_qsl(query_string))  # the query string wins, as on Binance
    timing = _check_time(params.get("timestamp"), params.get("recvWindow"), now_ns, market)
    if timing is not None:
        return timing
    if not signature:
        return _mandatory("signature")
    return _check_signature(found, keyring, payload, unquote_plus(signature))


def verify_ws_request(
    params: Mapping[str, msgspec.Raw], *, keyring: Keyring, now_ns: int
) -> AuthDecision:
    """Verify a SIGNED WebSocket API request (``order.place``,
    ``userDataStream.subscribe.signature``...) from its raw ``params``.

    Decode the frame with ``params: dict[str, msgspec.Raw]`` so numbers keep
    the text the client wrote.
    """
    api_key = _raw_text(params["apiKey"]) if "apiKey" in params else ""
    if not api_key:
        return _mandatory("apiKey")
    found = _find_key(api_key, keyring)
    if isinstance(found, AuthRejected):
        return found
    timestamp = _raw_text(params["timestamp"]) if "timestamp" in params else None
    window = _raw_text(params["recvWindow"]) if "recvWindow" in params else None
    timing = _check_time(timestamp, window, now_ns, "spot")
    if timing is not None:
        return timing
    payload, signature = ws_payload(params)
    if not signature:
        return _mandatory("signature")
    return _check_signature(found, keyring, payload, signature)


def verify_session_logon(
    params: Mapping[str, msgspec.Raw], *, keyring: Keyring, now_ns: int
) -> AuthDecision:
    """Verify ``session.logon``: as :func:`verify_ws_request`, Ed25519 keys only."""
    decision = verify_ws_request(params, keyring=keyring, now_ns=now_ns)
    if isinstance(decision, Authenticated):
        entry = keyring.find(decision.api_key)
        if entry is None or entry.credentials.key_type != "ed25519":
            return _HMAC_ON_LOGON
    return decision


def _find_key(api_key: str, keyring: Keyring) -> Authenticated | AuthRejected:
    entry = keyring.find(api_key) if api_key else None
    if entry is None:
        return REJECTED_KEY if _KEY_FORMAT.fullmatch(api_key) else BAD_KEY_FORMAT
    return Authenticated(account_id=entry.account_id, api_key=api_key)


def _check_time(
    timestamp: str | None, recv_window: str | None, now_ns: int, market: BinanceMarket
) -> AuthRejected | None:
    if not timestamp or not timestamp.isdigit():
        return _mandatory("timestamp")
    try:
        window_ms = _DEFAULT_RECV_WINDOW_MS if recv_window is None else Decimal(recv_window)
    except InvalidOperation:
        return _mandatory("recvWindow")
    if not window_ms.is_finite() or window_ms <= 0 or window_ms.as_tuple().exponent < -3:  # type: ignore[operator]
        return _mandatory("recvWindow")
    if window_ms > _MAX_RECV_WINDOW_MS:
        return _BAD_RECV_WINDOW
    stamp = int(timestamp)
    stamp_ns = stamp * 1_000 if market == "spot" and len(timestamp) >= 16 else stamp * 1_000_000
    if stamp_ns >= now_ns + _AHEAD_NS:
        return _AHEAD
    if now_ns - stamp_ns > int(window_ms * 1_000_000):
        return _TOO_OLD
    return None


def _check_signature(
    found: Authenticated, keyring: Keyring, payload: bytes, signature: str
) -> AuthDecision:
    entry = keyring.find(found.api_key)
    assert entry is not None
    credentials = entry.credentials
    if credentials.key_type == "hmac":
        expected = hmac_sha256(credentials.secret, payload).hex()
        ok = hmac_matches(expected, signature.lower())
    else:
        ok = verify_public_key(credentials, payload, signature)
    return found if ok else BAD_SIGNATURE


def _raw_text(raw: msgspec.Raw) -> str:
    """A JSON value as it goes into the payload: strings unescaped, the rest as written."""
    text = bytes(raw).decode()
    if text.startswith('"'):
        value = msgspec.json.decode(text)
        assert isinstance(value, str)
        return value
    return text
