"""Binance USDⓈ-M requests: signed-request handling and order parameters. Sans-I/O.

Signed REST (``SIGNED`` endpoints): the key in ``X-MBX-APIKEY``, the
signature over the query string and the form body as received, checked by
:mod:`connector.sim.binance.signed` (shared with spot); parameters are the
form body's and the query string's together, the query string winning. ws-fapi
params are JSON: strings are taken as they are, numbers and booleans as
written (:func:`ws_params`).

Order parameters follow ``POST /fapi/v1/order`` (trade/rest-api/New-Order,
checked 2026-12-03): ``type`` LIMIT or MARKET (conditional types live in the
Algo service since 2025-12-09: -4120), ``timeInForce`` GTC, IOC, FOK or GTX
(post-only), ``positionSide`` BOTH (the simulator is in one-way mode:
LONG/SHORT -4061), ``reduceOnly``, ``newClientOrderId`` matching
``^[\\.A-Z\\:/a-z0-9_-]{1,36}$`` (longer: -4015), ``newOrderRespType`` ACK
(default) or RESULT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import attrs
import msgspec

from connector.model import OrderType, Side, TimeInForce
from connector.sim.accounts.keys import Keyring
from connector.sim.binance import signed
from connector.sim.binance import usdm_codes as codes
from connector.sim.binance.signed import BinanceError
from connector.sim.binance.usdm_codes import UsdmError, illegal, mandatory
from connector.sim.http import Request

__all__ = [
    "CLIENT_ID",
    "OrderRef",
    "PlaceRequest",
    "authenticate",
    "authenticate_key",
    "parse_decimal",
    "parse_order_ref",
    "parse_place",
    "request_params",
    "ws_params",
]

CLIENT_ID = re.compile(r"[\.A-Z\:/a-z0-9_-]{1,36}")
_CLIENT_ID_TEXT = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
_DECIMAL_TEXT = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_ALGO_TYPES = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
)
_TIFS = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
}


def _refused(err: BinanceError) -> UsdmError:
    return UsdmError(status=err.status, code=err.code, msg=err.msg)


def authenticate(req: Request, keyring: Keyring, now_ns: int) -> str | UsdmError:
    """The account of a SIGNED request, or the venue's refusal (-2014/-2015/-1021/-1022...).

    The check itself is :func:`connector.sim.binance.signed.authenticate` (USDⓈ-M timing).
    """
    try:
        auth, _params = signed.authenticate(req, keyring, now_ns, "usdm")
    except BinanceError as err:
        return _refused(err)
    return auth.account_id


def authenticate_key(req: Request, keyring: Keyring) -> str | UsdmError:
    """The account of a USER_STREAM request (key only: the listenKey endpoints)."""
    try:
        auth, _params = signed.authenticate_key(req, keyring)
    except BinanceError as err:
        return _refused(err)
    return auth.account_id


def request_params(req: Request) -> dict[str, str]:
    """A REST request's parameters: form body, then query string (which wins)."""
    return signed.request_params(req.query_string, req.body)


def ws_params(raw: Mapping[str, msgspec.Raw]) -> dict[str, str]:
    """ws-fapi params as text: JSON strings unescaped, other values as written."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        text = bytes(value).decode()
        if text.startswith('"'):
            decoded = msgspec.json.decode(text)
            out[name] = decoded if isinstance(decoded, str) else text
        else:
            out[name] = text
    return out


def parse_decimal(params: Mapping[str, str], name: str) -> Decimal | UsdmError | None:
    """A DECIMAL parameter (None when absent)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _DECIMAL.fullmatch(raw):
        return illegal(name, _DECIMAL_TEXT)
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern guards it
        return illegal(name, _DECIMAL_TEXT)


def _bool(params: Mapping[str, str], name: str) -> bool | UsdmError:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        return codes.bad_value(name)
    return raw == "true"


@attrs.frozen(kw_only=True)
class PlaceRequest:
    """A parsed new-order request."""

    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    client_order_id: str | None
    resp_type: str


def client_id_error(value: str, name: str) -> UsdmError | None:
    """-4015 for a too-long client order id, -1100 for one with other characters."""
    if len(value) > 36:
        return codes.CLIENT_ID_LENGTH
    if not CLIENT_ID.fullmatch(value):
        return illegal(name, _CLIENT_ID_TEXT)
    return None


def parse_place(
    params: Mapping[str, str], symbols: Mapping[str, object]
) -> PlaceRequest | UsdmError:
    """A new order's parameters in the venue's check order, or the first error."""
    symbol = params.get("symbol", "")
    if not symbol:
        return mandatory("symbol")
    if symbol not in symbols:
        return codes.INVALID_SYMBOL
    side_raw = params.get("side", "")
    if not side_raw:
        return mandatory("side")
    if side_raw not in ("BUY", "SELL"):
        return UsdmError(status=400, code=-1117, msg="Invalid side.")
    type_raw = params.get("type", "")
    if not type_raw:
        return mandatory("type")
    if type_raw in _ALGO_TYPES:
        return codes.ALGO_TYPE
    if type_raw not in ("LIMIT", "MARKET"):
        return UsdmError(status=400, code=-1116, msg="Invalid orderType.")
    position_side = params.get("positionSide", "BOTH")
    if position_side not in ("BOTH", "LONG", "SHORT"):
        return codes.bad_value("positionSide")
    if position_side != "BOTH":
        return codes.POSITION_SIDE
    reduce_only = _bool(params, "reduceOnly")
    if isinstance(reduce_only, UsdmError):
        return reduce_only
    qty = parse_decimal(params, "quantity")
    if isinstance(qty, UsdmError):
        return qty
    if qty is None:
        return mandatory("quantity")
    if qty <= 0:
        return UsdmError(status=400, code=-4003, msg="Quantity less than or equal to zero.")
    price = parse_decimal(params, "price")
    if isinstance(price, UsdmError):
        return price
    tif_raw = params.get("timeInForce")
    if type_raw == "LIMIT":
        if not tif_raw:
            return mandatory("timeInForce")
        if price is None:
            return mandatory("price")
        if price <= 0:
            return UsdmError(status=400, code=-4001, msg="Price less than or equal to zero.")
    else:
        if price is not None:
            msg = "Parameter 'price' sent when not required."
            return UsdmError(status=400, code=-1106, msg=msg)
        tif_raw = tif_raw or "GTC"
    tif = _TIFS.get(tif_raw or "")
    if tif is None:
        return UsdmError(status=400, code=-1115, msg="Invalid timeInForce.")
    client_id = params.get("newClientOrderId") or None
    if client_id is not None:
        bad = client_id_error(client_id, "newClientOrderId")
        if bad is not None:
            return bad
    resp_type = params.get("newOrderRespType", "ACK")
    if resp_type not in ("ACK", "RESULT"):
        return codes.bad_value("newOrderRespType")
    return PlaceRequest(
        symbol=symbol,
        side=Side.BUY if side_raw == "BUY" else Side.SELL,
        type=OrderType.LIMIT if type_raw == "LIMIT" else OrderType.MARKET,
        time_in_force=tif,
        qty=qty,
        price=price,
        reduce_only=reduce_only,
        client_order_id=client_id,
        resp_type=resp_type,
    )


@attrs.frozen(kw_only=True)
class OrderRef:
    """Which order a cancel, modify or query names: ``orderId`` or ``origClientOrderId``."""

    symbol: str
    order_id: str | None
    client_order_id: str | None


def parse_order_ref(
    params: Mapping[str, str], symbols: Mapping[str, object]
) -> OrderRef | UsdmError:
    """``symbol`` and ``orderId`` or ``origClientOrderId`` (one is mandatory)."""
    symbol = params.get("symbol", "")
    if not symbol:
        return mandatory("symbol")
    if symbol not in symbols:
        return codes.INVALID_SYMBOL
    order_id = params.get("orderId") or None
    client_id = params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        msg = "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        return UsdmError(status=400, code=-1102, msg=msg)
    if order_id is not None and not order_id.isdigit():
        return illegal("orderId", "^[0-9]{1,20}$")
    return OrderRef(symbol=symbol, order_id=order_id, client_order_id=client_id)
