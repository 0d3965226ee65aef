"""OKX v5 request verification against the signing vectors of ``signatures.json``.

Vectors ``okx-v5-ws-login*``, ``okx-v5-rest-get-docs-secret`` and the added
``okx-v5-rest-post-docs-secret`` (venues-trading.md 1.3); a one-byte change
must fail.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from connector.sim.accounts import Authenticated, AuthRejected, Credentials, Keyring
from connector.sim.accounts.keys import hmac_sha256
from connector.sim.okx.auth import parse_timestamp, verify_rest, verify_ws_login
from tests.conftest import fixture_path

KEY = "985d5b66-57ce-40fb-b714-afc0b9787083"
STAMP = "2020-12-08T09:08:57.715Z"
STAMP_NS = 1607418537715 * 1_000_000


def vector(vector_id: str) -> dict[str, Any]:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    return next(v for v in data["vectors"] if v["id"] == vector_id)


def keyring_of(secret: str, passphrase: str = "123456") -> Keyring:
    return Keyring([("alice", Credentials(api_key=KEY, secret=secret, passphrase=passphrase))])


def rest(
    keyring: Keyring,
    method: str,
    request_path: str,
    body: bytes,
    sign: str,
    *,
    now_ns: int = STAMP_NS,
    timestamp: str = STAMP,
    passphrase: str = "123456",
) -> object:
    path, _, query = request_path.partition("?")
    headers = {
        "ok-access-key": KEY,
        "ok-access-sign": sign,
        "ok-access-timestamp": timestamp,
        "ok-access-passphrase": passphrase,
        "x-simulated-trading": "1",
        "content-type": "application/json",
    }
    return verify_rest(
        method=method,
        path=path,
        query_string=query,
        body=body,
        headers=headers,
        keyring=keyring,
        now_ns=now_ns,
    )


def test_okx_rest_get_vector_and_one_byte_change() -> None:
    v = vector("okx-v5-rest-get-docs-secret")
    keyring = keyring_of(v["secret"])
    request_path = v["payload"].removeprefix(STAMP + "GET")

    assert Authenticated(account_id="alice", api_key=KEY) == rest(
        keyring, "GET", request_path, b"", v["expected_signature"]
    )
    assert AuthRejected(code=50113, message="Invalid signature.", http_status=401) == rest(
        keyring, "GET", request_path.replace("BTC", "BTD"), b"", v["expected_signature"]
    )


def test_okx_rest_post_vector_hashes_the_body_as_sent() -> None:
    v = vector("okx-v5-rest-post-docs-secret")
    keyring = keyring_of(v["secret"])
    body = v["payload"].removeprefix(STAMP + "POST/api/v5/trade/order").encode()
    spaced = json.dumps(json.loads(body)).encode()

    assert isinstance(
        rest(keyring, "POST", "/api/v5/trade/order", body, v["expected_signature"]), Authenticated
    )
    assert 50113 == getattr(
        rest(keyring, "POST", "/api/v5/trade/order", spaced, v["expected_signature"]), "code", 0
    )
    one_byte = body.replace(b'"2.15"', b'"2.16"')
    assert 50113 == getattr(
        rest(keyring, "POST", "/api/v5/trade/order", one_byte, v["expected_signature"]), "code", 0
    )


def test_okx_rest_accepts_an_empty_json_body_signed_as_nothing() -> None:
    secret = "22582BD0CFF14C41EDBF1AB98506286D"
    keyring = keyring_of(secret)
    sign = base64.b64encode(
        hmac_sha256(secret, (STAMP + "POST/api/v5/trade/cancel-all-after").encode())
    ).decode()

    assert isinstance(
        rest(keyring, "POST", "/api/v5/trade/cancel-all-after", b"{}", sign), Authenticated
    )
    assert 50113 == getattr(
        rest(keyring, "POST", "/api/v5/trade/cancel-all-after", b"{1}", sign), "code", 0
    )


@pytest.mark.parametrize(
    ("now_offset_ms", "code"),
    [(30_000, None), (-30_000, None), (30_001, 50102), (-30_001, 50102)],
)
def test_okx_rest_thirty_second_window(now_offset_ms: int, code: int | None) -> None:
    v = vector("okx-v5-rest-get-docs-secret")
    request_path = v["payload"].removeprefix(STAMP + "GET")
    decision = rest(
        keyring_of(v["secret"]),
        "GET",
        request_path,
        b"",
        v["expected_signature"],
        now_ns=STAMP_NS + now_offset_ms * 1_000_000,
    )

    if code is None:
        assert isinstance(decision, Authenticated)
    else:
        assert (
            AuthRejected(code=50102, message="Timestamp request expired.", http_status=401)
            == decision
        )


def test_okx_rest_header_key_and_passphrase_errors() -> None:
    v = vector("okx-v5-rest-get-docs-secret")
    keyring = keyring_of(v["secret"])
    path = "/api/v5/account/balance?ccy=BTC"
    sign = v["expected_signature"]
    other = Keyring([("bob", Credentials(api_key="other", secret="x", passphrase="p"))])

    assert 50105 == getattr(rest(keyring, "GET", path, b"", sign, passphrase="wrong"), "code", 0)
    assert 50111 == getattr(rest(other, "GET", path, b"", sign), "code", 0)
    assert 50112 == getattr(
        rest(keyring, "GET", path, b"", sign, timestamp="1607418537"), "code", 0
    )
    missing = verify_rest(
        method="GET",
        path="/api/v5/account/balance",
        query_string="",
        body=b"",
        headers={},
        keyring=keyring,
        now_ns=STAMP_NS,
    )
    assert (
        AuthRejected(
            code=50103, message='Request header "OK-ACCESS-KEY" cannot be empty.', http_status=401
        )
        == missing
    )


def test_okx_timestamp_parsing() -> None:
    assert STAMP_NS == parse_timestamp(STAMP)
    assert parse_timestamp("2020-12-08 09:08:57") is None
    assert parse_timestamp("yesterday") is None


@pytest.mark.parametrize("vector_id", ["okx-v5-ws-login", "okx-v5-ws-login-docs-secret"])
def test_okx_ws_login_vectors_and_one_byte_change(vector_id: str) -> None:
    v = vector(vector_id)
    keyring = keyring_of(v["secret"], v["passphrase"])
    timestamp = v["payload"].removesuffix("GET/users/self/verify")
    now_ns = int(timestamp) * 1_000_000_000
    args = {
        "apiKey": KEY,
        "passphrase": v["passphrase"],
        "timestamp": timestamp,
        "sign": v["expected_signature"],
    }

    ok = verify_ws_login([args], keyring=keyring, now_ns=now_ns)
    changed = verify_ws_login(
        [dict(args, timestamp=str(int(timestamp) + 1))], keyring=keyring, now_ns=now_ns
    )

    assert Authenticated(account_id="alice", api_key=KEY) == ok
    assert 60009 == getattr(changed, "code", 0)


def test_okx_ws_login_rules() -> None:
    v = vector("okx-v5-ws-login")
    keyring = keyring_of(v["secret"], v["passphrase"])
    args = {
        "apiKey": KEY,
        "passphrase": v["passphrase"],
        "timestamp": "1538054050",
        "sign": v["expected_signature"],
    }
    now_ns = 1538054050 * 1_000_000_000

    def code(a: list[object], at: int = now_ns) -> int:
        decision = verify_ws_login(a, keyring=keyring, now_ns=at)
        return getattr(decision, "code", 0)

    assert 0 == code([args], now_ns + 30_000_000_000)
    assert 60006 == code([args], now_ns + 30_000_000_001)
    assert 60006 == code([args], now_ns - 30_000_000_001)
    assert 60004 == code([dict(args, timestamp="soon")])
    assert 60005 == code([dict(args, apiKey="unknown")])
    assert 60024 == code([dict(args, passphrase="wrong")])
    assert 60013 == code([{"apiKey": KEY}])
    assert 60013 == code([])
