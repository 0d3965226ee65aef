"""Binance signed requests (spot and USDⓈ-M): parameters, authentication, error bodies.

Sans-I/O: the front-ends pass the request and the venue's clock.

* Parameters (Binance spot rest-api.md "General API Information"): a
  SIGNED request may carry parameters in the query string, the form body, or
  both; "if a parameter sent in both the query string and request body, the
  query string parameter will be used". :func:`request_params` merges them
  that way; :class:`Params` reads them as the venue does (-1102 missing,
  -1100 illegal characters, -1111 too much precision for a DECIMAL).
* Authentication: :func:`authenticate` checks key, time window and signature
  on the bytes received (:func:`connector.sim.binance.auth.verify_rest`);
  :func:`authenticate_key` checks the key only (USER_STREAM / USER_DATA
  endpoints that take no signature).
* Errors: :class:`BinanceError` carries the venue's code, message and HTTP
  status; :meth:`BinanceError.response` is the ``{"code","msg"}`` answer and
  :meth:`BinanceError.body` the same body for websocket replies.
* :func:`signed_check` is a :data:`~connector.sim.rest.Check` for a
  :class:`~connector.sim.rest.RestChain`: it stores ``auth``
  (:class:`~connector.sim.accounts.Authenticated`) and ``params``
  (:class:`Params`) on the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from connector.sim.accounts.keys import Authenticated, AuthRejected, Keyring
from connector.sim.binance.auth import BinanceMarket, verify_api_key, verify_rest
from connector.sim.http import Request, Response, json_response
from connector.sim.rest import Check, RestCall

__all__ = [
    "BinanceError",
    "Params",
    "authenticate",
    "authenticate_key",
    "request_params",
    "signed_check",
]

_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_LONG = re.compile(r"^-?[0-9]{1,20}$")
_LONG_RANGE = r"^[0-9]{1,20}$"


class BinanceError(Exception):
    """A Binance error answer: ``{"code": code, "msg": msg}`` with an HTTP status.

    Args:
        code: The venue's (negative) code.
        msg: The venue's message.
        status: HTTP status of a REST answer (websocket replies carry it as ``status``).
    """

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status

    @classmethod
    def of(cls, rejected: AuthRejected) -> BinanceError:
        """The error of a verifier's rejection."""
        return cls(rejected.code, rejected.message, rejected.http_status)

    def body(self) -> dict[str, object]:
        """``{"code", "msg"}``."""
        return {"code": self.code, "msg": self.msg}

    def response(self, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """The REST answer."""
        return json_response(self.body(), status=self.status, headers=headers)


def mandatory(name: str) -> BinanceError:
    """-1102 for a missing or empty parameter."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal(name: str, legal: str) -> BinanceError:
    """-1100 for a parameter with characters outside its legal range."""
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def request_params(query_string: str, body: bytes) -> dict[str, str]:
    """The parameters of a request: the form body's, then the query string's over them."""
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    params.update(parse_qsl(query_string, keep_blank_values=True))
    return params


class Params(Mapping[str, str]):
    """The parameters of one request, read with the venue's checks.

    Every reader raises :class:`BinanceError` with the venue's code.
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def text(self, name: str) -> str | None:
        """The value, or None when absent or empty."""
        value = self._values.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        """The value; -1102 when absent or empty."""
        value = self.text(name)
        if value is None:
            raise mandatory(name)
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        """A DECIMAL parameter (plain digits with an optional fraction)."""
        raw = self.required(name) if required else self.text(name)
        if raw is None:
            return None
        if not _DECIMAL.fullmatch(raw):
            raise illegal(name, _DECIMAL_RANGE)
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern rules it out
            raise illegal(name, _DECIMAL_RANGE) from None

    def integer(self, name: str, *, required: bool = False) -> int | None:
        """A LONG / INT parameter."""
        raw = self.required(name) if required else self.text(name)
        if raw is None:
            return None
        if not _LONG.fullmatch(raw):
            raise illegal(name, _LONG_RANGE)
        return int(raw)

    def choice(
        self, name: str, allowed: tuple[str, ...], error: BinanceError, *, default: str | None
    ) -> str | None:
        """An ENUM parameter: one of ``allowed``, else ``error``; ``default`` when absent."""
        raw = self.text(name)
        if raw is None:
            return default
        if raw not in allowed:
            raise error
        return raw

    def boolean(self, name: str, *, default: bool) -> bool:
        """A BOOLEAN parameter (``true``/``false``, any case)."""
        raw = self.text(name)
        if raw is None:
            return default
        low = raw.lower()
        if low not in ("true", "false"):
            raise illegal(name, "true, false")
        return low == "true"


def authenticate(
    req: Request, keyring: Keyring, now_ns: int, market: BinanceMarket = "spot"
) -> tuple[Authenticated, Params]:
    """Verify a SIGNED request; its account and parameters.

    Raises:
        BinanceError: -2014/-2015 (HTTP 401), -1102, -1021, -1022, -1131.
    """
    decision = verify_rest(
        query_string=req.query_string,
        body=req.body,
        headers=req.headers,
        keyring=keyring,
        now_ns=now_ns,
        market=market,
    )
    if isinstance(decision, AuthRejected):
        raise BinanceError.of(decision)
    return decision, Params(request_params(req.query_string, req.body))


def authenticate_key(req: Request, keyring: Keyring) -> tuple[Authenticated, Params]:
    """Verify an API-key-only request (no signature); its account and parameters.

    Raises:
        BinanceError: -2014/-2015 (HTTP 401).
    """
    decision = verify_api_key(req.headers, keyring)
    if isinstance(decision, AuthRejected):
        raise BinanceError.of(decision)
    return decision, Params(request_params(req.query_string, req.body))


def signed_check(
    keyring: Callable[[], Keyring],
    now_ns: Callable[[], int],
    market: BinanceMarket = "spot",
    *,
    key_only: bool = False,
) -> Check:
    """A route check storing ``auth`` and ``params`` on the call, or the venue's refusal.

    Args:
        keyring: The venue's keys (read at each call).
        now_ns: The venue's clock.
        market: ``spot`` or ``usdm`` (the timestamp rule differs).
        key_only: Check the API key only (USER_STREAM endpoints).
    """

    def check(call: RestCall) -> Response | None:
        try:
            if key_only:
                auth, params = authenticate_key(call.request, keyring())
            else:
                auth, params = authenticate(call.request, keyring(), now_ns(), market)
        except BinanceError as err:
            return err.response()
        call.put("auth", auth)
        call.put("params", params)
        return None

    return check
