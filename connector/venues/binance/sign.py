"""Binance request signing (spot and USDⓈ-M): REST, the WebSocket API, ``session.logon``.

Sans-I/O: the time is an argument (``now_ns``, the venue's time from the
clock), and every function returns what to send. The facts, with sources, are
in ``docs/venues/binance.md`` ("Signing").

Two dialects (``../shared/venues-trading.md`` §9, trap 2):

- **REST** (``/api/v3``, ``/fapi/v1``): ``totalParams`` is the query string
  concatenated with the form body **with no separator**, exactly as both go on
  the wire, percent-encoded (spot rejects an unencoded non-ASCII payload with
  -1022 since 2026-01-15). ``signature`` goes last: at the end of the body when
  there is one, else of the query. The API key travels in ``X-MBX-APIKEY``.
- **WebSocket API** (``ws-api/v3``, ``ws-fapi/v1``): every parameter but
  ``signature``, ``apiKey`` included, sorted by name, ``k=v`` joined by ``&``,
  raw UTF-8 (not percent-encoded). ``session.logon`` takes Ed25519 keys only.

HMAC signatures are lowercase hex; RSA (PKCS#1 v1.5, SHA-256) and Ed25519
signatures are base64, percent-encoded when they go in a query or body.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from urllib.parse import quote

import attrs

from connector.errors import LocalError
from connector.model.credentials import KeyType
from connector.venues.signing import Signer, b64, require_key_type

__all__ = [
    "API_KEY_HEADER",
    "SESSION_LOGON",
    "SignedRequest",
    "api_key_headers",
    "encode_params",
    "rest_signature",
    "session_logon_params",
    "sign_rest",
    "timed_params",
    "ws_payload",
    "ws_signed_params",
]

API_KEY_HEADER = "X-MBX-APIKEY"
SESSION_LOGON = "session.logon"

_NS_PER_MS = 1_000_000

WsValue = str | int | bool


def _readonly(headers: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(headers))


@attrs.frozen(kw_only=True)
class SignedRequest:
    """A signed REST request, ready to send.

    Attributes:
        query: The query string to send (without ``?``; empty when none).
        body: The ``application/x-www-form-urlencoded`` body (empty when none).
        headers: The headers to add (``X-MBX-APIKEY``).
    """

    query: str
    body: str
    headers: Mapping[str, str] = attrs.field(repr=False, converter=_readonly)


def api_key_headers(signer: Signer) -> dict[str, str]:
    """The header of an API-key-only request (USER_STREAM, e.g. the USDⓈ-M listenKey)."""
    return {API_KEY_HEADER: signer.api_key}


def encode_params(params: Iterable[tuple[str, str]]) -> str:
    """Percent-encode parameters in the given order: ``k=v`` joined by ``&``.

    Names and values are UTF-8, every byte but the RFC 3986 unreserved
    characters (``A-Z a-z 0-9 - . _ ~``) written as ``%XX``: what the spot API
    signs since 2026-01-15.
    """
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


def timed_params(
    params: Iterable[tuple[str, str]], *, now_ns: int, recv_window_ms: int | None = None
) -> list[tuple[str, str]]:
    """``params`` followed by ``recvWindow`` (when given) and ``timestamp`` (ms).

    Binance takes ``recvWindow`` up to 60000 ms (5000 when absent) and refuses
    a ``timestamp`` 1 s or more ahead of its clock, or older than the window.
    """
    out = list(params)
    if recv_window_ms is not None:
        out.append(("recvWindow", str(recv_window_ms)))
    out.append(("timestamp", str(now_ns // _NS_PER_MS)))
    return out


def rest_signature(signer: Signer, total_params: bytes) -> str:
    """The signature of ``totalParams`` as Binance writes it: HMAC lowercase hex,
    RSA / Ed25519 standard base64 (not yet percent-encoded)."""
    raw = signer.sign(total_params)
    return raw.hex() if signer.key_type is KeyType.HMAC else b64(raw)


def _check_wire(part: str, name: str) -> None:
    if not all(33 <= ord(c) <= 126 for c in part):
        raise LocalError(
            f"binance REST {name} must be percent-encoded as sent on the wire"
            " (printable ASCII, no spaces): use encode_params"
        )


def sign_rest(signer: Signer, *, query: str = "", body: str = "") -> SignedRequest:
    """Sign a REST request whose parameters are already as they go on the wire.

    Args:
        signer: The credentials (HMAC, RSA or Ed25519).
        query: The query string as sent (without ``?``), ``timestamp`` included
            when the parameters travel in the query.
        body: The form body as sent, ``timestamp`` included when the
            parameters travel in the body.

    Returns:
        The query and body with ``signature`` appended to the last non-empty
        one, and the ``X-MBX-APIKEY`` header.

    Raises:
        LocalError: ``query`` or ``body`` is not percent-encoded (non-ASCII,
            spaces or control characters), which the venue would reject with -1022.
    """
    _check_wire(query, "query")
    _check_wire(body, "body")
    signature = quote(rest_signature(signer, (query + body).encode("ascii")), safe="")
    if body:
        body = f"{body}&signature={signature}"
    elif query:
        query = f"{query}&signature={signature}"
    else:
        query = f"signature={signature}"
    return SignedRequest(query=query, body=body, headers=api_key_headers(signer))


def _ws_text(value: WsValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ws_payload(params: Mapping[str, WsValue]) -> str:
    """The WebSocket API payload: every parameter but ``signature``, sorted by
    name, ``k=v`` joined by ``&``, values as they appear in the JSON request."""
    return "&".join(
        f"{name}={_ws_text(params[name])}" for name in sorted(params) if name != "signature"
    )


def ws_signed_params(
    signer: Signer,
    params: Mapping[str, WsValue],
    *,
    now_ns: int,
    recv_window_ms: int | None = None,
) -> dict[str, WsValue]:
    """The ``params`` of a signed WebSocket API request (``order.place``,
    ``userDataStream.subscribe.signature``, ...).

    Args:
        signer: The credentials (HMAC, RSA or Ed25519).
        params: The method's own parameters (DECIMAL values as strings, INT
            values as integers, as the request will carry them).
        now_ns: The venue's time now; sent as ``timestamp`` in ms.
        recv_window_ms: Sent as ``recvWindow`` when given.

    Returns:
        ``params`` plus ``apiKey``, ``timestamp``, ``recvWindow`` and ``signature``.
    """
    signed: dict[str, WsValue] = dict(params)
    signed["apiKey"] = signer.api_key
    if recv_window_ms is not None:
        signed["recvWindow"] = recv_window_ms
    signed["timestamp"] = now_ns // _NS_PER_MS
    signed.pop("signature", None)
    raw = signer.sign(ws_payload(signed).encode("utf-8"))
    signed["signature"] = raw.hex() if signer.key_type is KeyType.HMAC else b64(raw)
    return signed


def session_logon_params(
    signer: Signer, *, now_ns: int, recv_window_ms: int | None = None
) -> dict[str, WsValue]:
    """The ``params`` of ``session.logon``: authenticates the WebSocket API session.

    Raises:
        ConfigError: The key is not Ed25519 (the only kind Binance accepts here).
    """
    require_key_type(signer, "binance", frozenset({KeyType.ED25519}), SESSION_LOGON)
    return ws_signed_params(signer, {}, now_ns=now_ns, recv_window_ms=recv_window_ms)
