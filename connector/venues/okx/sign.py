"""OKX v5 request signing: REST headers and the private-websocket ``login`` op.

Sans-I/O: the time is an argument (``now_ns``, the venue's time from the
clock). The facts, with sources, are in ``docs/venues/okx.md`` ("Signing").

- **REST**: the signed string is ``timestamp + METHOD + requestPath + body``,
  where ``timestamp`` is ISO-8601 UTC with milliseconds
  (``2020-12-08T09:08:57.715Z``), ``requestPath`` carries the query for a GET
  (``/api/v5/account/balance?ccy=BTC``) and ``body`` is the JSON body exactly
  as sent (empty for a GET). Headers: ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``,
  ``OK-ACCESS-TIMESTAMP``, ``OK-ACCESS-PASSPHRASE``; demo trading adds
  ``x-simulated-trading: 1``, which is not signed. OKX refuses a timestamp
  more than 30 s from its clock (50102).
- **Websocket** (``/ws/v5/private``, ``/ws/v5/business``): ``{"op": "login",
  "args": [{"apiKey", "passphrase", "timestamp", "sign"}]}`` where
  ``timestamp`` is Unix **seconds** as a string and the signed string is
  ``timestamp + "GET" + "/users/self/verify"``.

Signatures are HMAC-SHA256, base64. OKX keys are HMAC only.
"""

from __future__ import annotations

import datetime as dt

from connector.errors import ConfigError
from connector.model.credentials import KeyType
from connector.venues.signing import Signer, b64, require_key_type

__all__ = [
    "DEMO_HEADER",
    "iso_timestamp",
    "sign_rest",
    "signature",
    "ws_login_args",
    "ws_login_frame",
]

DEMO_HEADER = "x-simulated-trading"

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_KEYS = frozenset({KeyType.HMAC})
_VERIFY_PATH = "/users/self/verify"


def iso_timestamp(now_ns: int) -> str:
    """``now_ns`` as OKX's REST timestamp: ISO-8601 UTC with milliseconds and ``Z``."""
    ms = now_ns // _NS_PER_MS
    moment = _EPOCH + dt.timedelta(milliseconds=ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def signature(signer: Signer, payload: bytes) -> str:
    """Base64 HMAC-SHA256 of ``payload``.

    Raises:
        ConfigError: The key is not HMAC.
    """
    require_key_type(signer, "okx", _KEYS, "signing")
    return b64(signer.sign(payload))


def _passphrase(signer: Signer) -> str:
    passphrase = signer.credentials.passphrase
    if not passphrase:
        raise ConfigError("okx credentials need the passphrase chosen when the key was created")
    return passphrase


def sign_rest(
    signer: Signer,
    *,
    method: str,
    request_path: str,
    body: str | bytes = b"",
    now_ns: int,
    demo: bool = False,
) -> dict[str, str]:
    """The authentication headers of one v5 REST request.

    Args:
        signer: HMAC credentials with a passphrase.
        method: The HTTP method (signed in upper case).
        request_path: The path as sent, with ``?`` and the query for a GET.
        body: The JSON body exactly as sent (empty for a GET).
        now_ns: The venue's time now; sent as ``OK-ACCESS-TIMESTAMP``.
        demo: Add ``x-simulated-trading: 1`` (demo trading; not signed).

    Returns:
        ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP``,
        ``OK-ACCESS-PASSPHRASE`` (and the demo header).

    Raises:
        ConfigError: The key is not HMAC, or there is no passphrase.
    """
    passphrase = _passphrase(signer)
    timestamp = iso_timestamp(now_ns)
    raw_body = body.encode("utf-8") if isinstance(body, str) else body
    prehash = f"{timestamp}{method.upper()}{request_path}".encode() + raw_body
    headers = {
        "OK-ACCESS-KEY": signer.api_key,
        "OK-ACCESS-SIGN": signature(signer, prehash),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": passphrase,
    }
    if demo:
        headers[DEMO_HEADER] = "1"
    return headers


def ws_login_args(signer: Signer, *, now_ns: int) -> dict[str, str]:
    """The one element of the websocket ``login`` op's ``args``.

    Args:
        signer: HMAC credentials with a passphrase.
        now_ns: The venue's time now; sent in whole seconds. The login
            expires 30 s after it (60006).

    Raises:
        ConfigError: The key is not HMAC, or there is no passphrase.
    """
    passphrase = _passphrase(signer)
    timestamp = str(now_ns // _NS_PER_S)
    return {
        "apiKey": signer.api_key,
        "passphrase": passphrase,
        "timestamp": timestamp,
        "sign": signature(signer, f"{timestamp}GET{_VERIFY_PATH}".encode()),
    }


def ws_login_frame(signer: Signer, *, now_ns: int) -> dict[str, object]:
    """The whole ``login`` frame: ``{"op": "login", "args": [ws_login_args(...)]}``."""
    return {"op": "login", "args": [ws_login_args(signer, now_ns=now_ns)]}
