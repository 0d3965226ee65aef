"""Binance request verification against the published and computed signing vectors.

Vectors: ``../shared/fixtures/signatures.json`` (venues-trading.md 1.3 lists
them, including the ones added there: ``binance-usdm-rest-hmac*`` and
``binance-wsapi-uds-subscribe-signature-hmac``). Each is checked as a request
would arrive, and a copy with one byte of the payload changed must fail.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from connector.sim.accounts import Authenticated, AuthRejected, Credentials, Keyring
from connector.sim.accounts.keys import hmac_sha256
from connector.sim.binance.auth import (
    verify_api_key,
    verify_rest,
    verify_session_logon,
    verify_ws_request,
)
from tests.conftest import fixture_path

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
REST_IDS = [
    "binance-rest-hmac-ascii",
    "binance-rest-hmac-nonascii-percent-encoded",
    "binance-rest-hmac-query-plus-body",
    "binance-usdm-rest-hmac",
    "binance-usdm-rest-hmac-query-plus-body",
    "binance-rsa-pkcs8",
    "binance-rsa-pkcs8-encrypted",
    "binance-ed25519",
    "binance-ed25519-order-payload",
]
WS_IDS = [
    "binance-wsapi-hmac-ascii",
    "binance-wsapi-hmac-nonascii-utf8",
    "binance-wsapi-uds-subscribe-signature-hmac",
    "binance-rsa-wsapi-payload",
]


def vector(vector_id: str) -> dict[str, Any]:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    return next(v for v in data["vectors"] if v["id"] == vector_id)


def credentials_of(v: dict[str, Any]) -> Credentials:
    algorithm = v["algorithm"]
    if algorithm.startswith("HMAC"):
        return Credentials(api_key=v.get("key") or API_KEY, secret=v["secret"])
    password = v.get("secret_password")
    private = serialization.load_pem_private_key(
        v["secret"].encode(), password=password.encode() if password else None
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_type = "ed25519" if algorithm.startswith("Ed25519") else "rsa"
    return Credentials(api_key=API_KEY, key_type=key_type, public_key=public.decode())


def timestamp_ms(payload: str) -> int:
    return int(dict(parse_qsl(payload.replace("GTCquantity", "GTC&quantity")))["timestamp"])


def split(payload: str) -> tuple[str, str]:
    """Query string and body of a vector (the mixed ones put quantity=... in the body)."""
    if "GTCquantity=" in payload:
        cut = payload.index("quantity=")
        return payload[:cut], payload[cut:]
    return payload, ""


def rest_request(payload: str, signature: str) -> tuple[str, bytes]:
    query, body = split(payload)
    sig = "signature=" + quote(signature, safe="")
    if body:
        return query, (body + "&" + sig).encode()
    return query + "&" + sig, b""


def one_byte_changed(payload: str) -> str:
    """The payload with its last byte changed (a digit stays a digit, a letter a letter)."""
    last = payload[-1]
    changed = str((int(last) + 1) % 10) if last.isdigit() else chr(ord(last) ^ 1)
    return payload[:-1] + changed


@pytest.mark.parametrize("vector_id", REST_IDS)
def test_binance_rest_verifier_accepts_vector_and_rejects_one_byte_change(vector_id: str) -> None:
    v = vector(vector_id)
    creds = credentials_of(v)
    keyring = Keyring([("alice", creds)])
    now_ns = timestamp_ms(v["payload"]) * 1_000_000 + 1_000_000
    market = "usdm" if "usdm" in vector_id else "spot"

    query, body = rest_request(v["payload"], v["expected_signature"])
    headers = {"x-mbx-apikey": creds.api_key}
    ok = verify_rest(
        query_string=query,
        body=body,
        headers=headers,
        keyring=keyring,
        now_ns=now_ns,
        market=market,
    )
    query2, body2 = rest_request(one_byte_changed(v["payload"]), v["expected_signature"])
    bad = verify_rest(
        query_string=query2,
        body=body2,
        headers=headers,
        keyring=keyring,
        now_ns=now_ns,
        market=market,
    )

    assert Authenticated(account_id="alice", api_key=creds.api_key) == ok
    assert AuthRejected(code=-1022, message="Signature for this request is not valid.") == bad


def test_binance_rest_rejects_a_signature_over_the_decoded_payload() -> None:
    v = vector("binance-rest-hmac-nonascii-percent-encoded")
    keyring = Keyring([("alice", credentials_of(v))])
    decoded = unquote(v["payload"])
    signature = hmac_sha256(v["secret"], decoded.encode()).hex()

    decision = verify_rest(
        query_string=v["payload"] + "&signature=" + signature,
        body=b"",
        headers={"x-mbx-apikey": API_KEY},
        keyring=keyring,
        now_ns=1499827319559 * 1_000_000,
    )

    assert -1022 == getattr(decision, "code", None)


def test_binance_rest_hmac_signature_is_case_insensitive() -> None:
    v = vector("binance-rest-hmac-ascii")
    keyring = Keyring([("alice", credentials_of(v))])
    query = v["payload"] + "&signature=" + v["expected_signature"].upper()

    decision = verify_rest(
        query_string=query,
        body=b"",
        headers={"x-mbx-apikey": API_KEY},
        keyring=keyring,
        now_ns=1499827319559 * 1_000_000,
    )

    assert isinstance(decision, Authenticated)


def signed_query(secret: str, params: str) -> str:
    return params + "&signature=" + hmac_sha256(secret, params.encode()).hex()


SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
KEYRING = Keyring([("alice", Credentials(api_key=API_KEY, secret=SECRET))])
NOW_MS = 1_700_000_000_000


def rest_at(params: str, *, now_ms: int = NOW_MS, api_key: str = API_KEY) -> object:
    return verify_rest(
        query_string=signed_query(SECRET, params),
        body=b"",
        headers={"x-mbx-apikey": api_key} if api_key else {},
        keyring=KEYRING,
        now_ns=now_ms * 1_000_000,
    )


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        (
            f"symbol=BTCUSDT&timestamp={NOW_MS - 5001}",
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        (
            f"symbol=BTCUSDT&recvWindow=1000&timestamp={NOW_MS - 1001}",
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        (
            f"symbol=BTCUSDT&timestamp={NOW_MS + 1000}",
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
        (
            f"symbol=BTCUSDT&recvWindow=60001&timestamp={NOW_MS}",
            -1131,
            "recvWindow must be less than 60000",
        ),
        (
            "symbol=BTCUSDT",
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ),
    ],
)
def test_binance_rest_time_window_rules(params: str, code: int, message: str) -> None:
    assert AuthRejected(code=code, message=message) == rest_at(params)


@pytest.mark.parametrize(
    "params",
    [
        f"symbol=BTCUSDT&timestamp={NOW_MS - 5000}",
        f"symbol=BTCUSDT&timestamp={NOW_MS + 999}",
        f"symbol=BTCUSDT&recvWindow=60000&timestamp={NOW_MS - 60000}",
        f"symbol=BTCUSDT&recvWindow=1000.5&timestamp={NOW_MS - 1000}",
        f"symbol=BTCUSDT&timestamp={NOW_MS * 1000 - 4_999_999}",
    ],
)
def test_binance_rest_accepts_the_edges_of_the_window(params: str) -> None:
    assert isinstance(rest_at(params), Authenticated)


def test_binance_rest_key_errors_are_401() -> None:
    params = f"symbol=BTCUSDT&timestamp={NOW_MS}"
    unknown = rest_at(params, api_key="A" * 64)
    malformed = rest_at(params, api_key="not-a-key")
    missing = rest_at(params, api_key="")

    assert (-2015, 401) == (getattr(unknown, "code", 0), getattr(unknown, "http_status", 0))
    assert (-2014, 401) == (getattr(malformed, "code", 0), getattr(malformed, "http_status", 0))
    assert -2014 == getattr(missing, "code", 0)
    assert isinstance(verify_api_key({"x-mbx-apikey": API_KEY}, KEYRING), Authenticated)
    assert -2015 == getattr(verify_api_key({"x-mbx-apikey": "B" * 64}, KEYRING), "code", 0)


def test_binance_rest_without_signature_is_a_missing_parameter() -> None:
    decision = verify_rest(
        query_string=f"timestamp={NOW_MS}",
        body=b"",
        headers={"x-mbx-apikey": API_KEY},
        keyring=KEYRING,
        now_ns=NOW_MS * 1_000_000,
    )

    assert -1102 == getattr(decision, "code", 0)


def ws_params(
    payload: str, signature: str, *, numeric: tuple[str, ...] = ("recvWindow", "timestamp")
) -> dict[str, msgspec.Raw]:
    params: dict[str, msgspec.Raw] = {}
    for name, value in (item.split("=", 1) for item in payload.split("&")):
        text = value if name in numeric else json.dumps(value, ensure_ascii=True)
        params[name] = msgspec.Raw(text.encode())
    params["signature"] = msgspec.Raw(json.dumps(signature).encode())
    return params


@pytest.mark.parametrize("vector_id", WS_IDS)
def test_binance_ws_api_verifier_accepts_vector_and_rejects_one_byte_change(vector_id: str) -> None:
    v = vector(vector_id)
    creds = credentials_of(v)
    keyring = Keyring([("alice", creds)])
    now_ns = timestamp_ms(v["payload"]) * 1_000_000 + 1_000_000

    ok = verify_ws_request(
        ws_params(v["payload"], v["expected_signature"]), keyring=keyring, now_ns=now_ns
    )
    changed = one_byte_changed(v["payload"])
    bad = verify_ws_request(
        ws_params(changed, v["expected_signature"]), keyring=keyring, now_ns=now_ns
    )

    assert Authenticated(account_id="alice", api_key=creds.api_key) == ok
    assert -1022 == getattr(bad, "code", 0)


def test_binance_ws_api_keeps_numbers_as_the_client_wrote_them() -> None:
    payload = f"apiKey={API_KEY}&price=52000.00&timestamp={NOW_MS}"
    signature = hmac_sha256(SECRET, payload.encode()).hex()
    as_number = ws_params(payload, signature, numeric=("price", "timestamp"))
    reformatted = dict(as_number, price=msgspec.Raw(b"52000.0"))

    assert isinstance(
        verify_ws_request(as_number, keyring=KEYRING, now_ns=NOW_MS * 1_000_000), Authenticated
    )
    assert -1022 == getattr(
        verify_ws_request(reformatted, keyring=KEYRING, now_ns=NOW_MS * 1_000_000), "code", 0
    )


def test_binance_session_logon_takes_ed25519_keys_only() -> None:
    v = vector("binance-ed25519")
    private = serialization.load_pem_private_key(v["secret"].encode(), password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    ed_creds = credentials_of(v)
    keyring = Keyring([("alice", ed_creds), ("bob", Credentials(api_key="C" * 64, secret=SECRET))])
    payload = f"apiKey={API_KEY}&timestamp={NOW_MS}"
    signature = base64.b64encode(private.sign(payload.encode())).decode()
    hmac_payload = f"apiKey={'C' * 64}&timestamp={NOW_MS}"
    hmac_signature = hmac_sha256(SECRET, hmac_payload.encode()).hex()
    now_ns = NOW_MS * 1_000_000

    ok = verify_session_logon(ws_params(payload, signature), keyring=keyring, now_ns=now_ns)
    tampered = verify_session_logon(
        ws_params(payload, signature[:-3] + "AA="), keyring=keyring, now_ns=now_ns
    )
    with_hmac = verify_session_logon(
        ws_params(hmac_payload, hmac_signature), keyring=keyring, now_ns=now_ns
    )

    assert Authenticated(account_id="alice", api_key=API_KEY) == ok
    assert -1022 == getattr(tampered, "code", 0)
    assert isinstance(with_hmac, AuthRejected)
