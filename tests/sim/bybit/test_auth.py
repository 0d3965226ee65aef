"""Bybit v5 request verification against the signing vectors of ``signatures.json``.

Vectors ``bybit-v5-rest-*``, ``bybit-v5-rsa-get-docs-payload`` and the added
``bybit-v5-ws-auth`` (venues-trading.md 1.3); a one-byte change must fail.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from connector.sim.accounts import Authenticated, AuthRejected, Credentials, Keyring
from connector.sim.accounts.keys import hmac_sha256
from connector.sim.bybit.auth import verify_rest, verify_ws_auth
from tests.conftest import fixture_path

KEY = "CFEJUGQEQPPHGOHGHM"
SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"


def vector(vector_id: str) -> dict[str, Any]:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    return next(v for v in data["vectors"] if v["id"] == vector_id)


def credentials_of(v: dict[str, Any]) -> Credentials:
    if v["algorithm"].startswith("HMAC"):
        return Credentials(api_key=v.get("key") or KEY, secret=v["secret"])
    private = serialization.load_pem_private_key(v["secret"].encode(), password=None)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Credentials(api_key=v["key"], key_type="rsa", public_key=public.decode())


def request_of(v: dict[str, Any], creds: Credentials) -> tuple[str, str, str, bytes]:
    """(method, timestamp, query, body) of a vector: timestamp (13) + key + "5000" + rest."""
    payload: str = v["payload"]
    timestamp = payload[:13]
    rest = payload[13 + len(creds.api_key) + 4 :]
    if "POST" in v["api"]:
        return "POST", timestamp, "", rest.encode()
    return "GET", timestamp, rest, b""


def headers_of(creds: Credentials, timestamp: str, sign: str) -> dict[str, str]:
    return {
        "x-bapi-api-key": creds.api_key,
        "x-bapi-timestamp": timestamp,
        "x-bapi-sign": sign,
        "x-bapi-recv-window": "5000",
        "x-bapi-sign-type": "2",
    }


@pytest.mark.parametrize(
    "vector_id",
    [
        "bybit-v5-rest-get-docs-payload",
        "bybit-v5-rest-post-docs-payload",
        "bybit-v5-rest-get-empty-query",
        "bybit-v5-rsa-get-docs-payload",
    ],
)
def test_bybit_rest_verifier_accepts_vector_and_rejects_one_byte_change(vector_id: str) -> None:
    v = vector(vector_id)
    creds = credentials_of(v)
    keyring = Keyring([("alice", creds)])
    method, timestamp, query, body = request_of(v, creds)
    headers = headers_of(creds, timestamp, v["expected_signature"])
    now_ns = int(timestamp) * 1_000_000 + 1_000_000

    ok = verify_rest(
        method=method,
        query_string=query,
        body=body,
        headers=headers,
        keyring=keyring,
        now_ns=now_ns,
    )
    if body:
        body = body[:-2] + b"X" + body[-1:]
    elif query:
        query = query[:-1] + "D"
    else:
        headers = dict(headers, **{"x-bapi-recv-window": "5001"})
    bad = verify_rest(
        method=method,
        query_string=query,
        body=body,
        headers=headers,
        keyring=keyring,
        now_ns=now_ns,
    )

    assert Authenticated(account_id="alice", api_key=creds.api_key) == ok
    assert 10004 == getattr(bad, "code", 0)


def test_bybit_rest_hashes_the_body_as_sent_not_reserialised() -> None:
    keyring = Keyring([("alice", Credentials(api_key=KEY, secret=SECRET))])
    spaced = b'{"category": "linear", "symbol": "BTCUSDT"}'
    ts = "1700000000000"
    sign = hmac_sha256(SECRET, (ts + KEY + "5000").encode() + spaced).hex()
    compact = json.dumps(json.loads(spaced), separators=(",", ":")).encode()
    now_ns = int(ts) * 1_000_000

    def check(body: bytes) -> object:
        headers = headers_of(keyring.keys[KEY].credentials, ts, sign)
        return verify_rest(
            method="POST",
            query_string="",
            body=body,
            headers=headers,
            keyring=keyring,
            now_ns=now_ns,
        )

    assert isinstance(check(spaced), Authenticated)
    assert 10004 == getattr(check(compact), "code", 0)


NOW_MS = 1_700_000_000_000


def signed_get(ts: int, window: str | None, *, key: str = KEY, sign: str | None = None) -> object:
    keyring = Keyring([("alice", Credentials(api_key=KEY, secret=SECRET))])
    query = "category=linear&symbol=BTCUSDT"
    signed_window = window if window is not None else ""
    signature = sign or hmac_sha256(SECRET, f"{ts}{key}{signed_window}{query}".encode()).hex()
    headers = {"x-bapi-api-key": key, "x-bapi-timestamp": str(ts), "x-bapi-sign": signature}
    if window is not None:
        headers["x-bapi-recv-window"] = window
    return verify_rest(
        method="GET",
        query_string=query,
        body=b"",
        headers=headers,
        keyring=keyring,
        now_ns=NOW_MS * 1_000_000,
    )


@pytest.mark.parametrize(
    ("ts", "window", "accepted"),
    [
        (NOW_MS - 5000, "5000", True),
        (NOW_MS - 5001, "5000", False),
        (NOW_MS + 999, "5000", True),
        (NOW_MS + 1000, "5000", False),
        (NOW_MS - 20000, "20000", True),
        (NOW_MS - 5000, None, True),
        (NOW_MS - 5001, None, False),
    ],
)
def test_bybit_rest_time_window(ts: int, window: str | None, accepted: bool) -> None:
    decision = signed_get(ts, window)

    assert accepted == isinstance(decision, Authenticated)
    if not accepted:
        assert 10002 == getattr(decision, "code", 0)
        assert f"req_timestamp[{ts}],server_timestamp[{NOW_MS}]" in getattr(decision, "message", "")


def test_bybit_rest_unknown_key_and_bad_sign_codes() -> None:
    assert AuthRejected(code=10003, message="API key is invalid.", http_status=200) == signed_get(
        NOW_MS, "5000", key="NOSUCHKEY"
    )
    assert 10004 == getattr(signed_get(NOW_MS, "5000", sign="0" * 64), "code", 0)
    upper = (
        hmac_sha256(SECRET, f"{NOW_MS}{KEY}5000category=linear&symbol=BTCUSDT".encode())
        .hex()
        .upper()
    )
    assert 10004 == getattr(signed_get(NOW_MS, "5000", sign=upper), "code", 0)


def test_bybit_ws_auth_vector_and_rules() -> None:
    v = vector("bybit-v5-ws-auth")
    keyring = Keyring([("alice", Credentials(api_key=KEY, secret=v["secret"]))])
    expires = int(v["payload"].removeprefix("GET/realtime"))
    before = (expires - 1) * 1_000_000

    ok = verify_ws_auth([KEY, expires, v["expected_signature"]], keyring=keyring, now_ns=before)
    as_text = verify_ws_auth(
        [KEY, str(expires), v["expected_signature"]], keyring=keyring, now_ns=before
    )
    changed = verify_ws_auth(
        [KEY, expires + 1, v["expected_signature"]], keyring=keyring, now_ns=before
    )
    expired = verify_ws_auth(
        [KEY, expires, v["expected_signature"]], keyring=keyring, now_ns=expires * 1_000_000
    )
    unknown = verify_ws_auth(
        ["NOSUCHKEY", expires, v["expected_signature"]], keyring=keyring, now_ns=before
    )
    malformed = verify_ws_auth([KEY, expires], keyring=keyring, now_ns=before)

    assert Authenticated(account_id="alice", api_key=KEY) == ok
    assert ok == as_text
    assert 10004 == getattr(changed, "code", 0)
    assert "Params Error" == getattr(expired, "message", "")
    assert AuthRejected(code=10003, message="Invalid apikey", http_status=200) == unknown
    assert "Params Error" == getattr(malformed, "message", "")
