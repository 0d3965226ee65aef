from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConfigError, LocalError
from connector.model.credentials import Credentials, KeyType
from connector.venues.bybit.sign import (
    DEFAULT_RECV_WINDOW_MS,
    sign_rest,
    signature,
    ws_auth_args,
    ws_auth_frame,
)
from connector.venues.signing import Signer
from tests.conftest import fixture_path

MS = 1_000_000

# pybit's dummy test credentials (bybit-exchange/pybit tests/test_pybit.py).
KEY = "CFEJUGQEQPPHGOHGHM"
SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"
ED25519_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIE4rJ0goma1nbu1d8T1dp//0pe40jnf8tghwRhsSY4Bk\n"
    "-----END PRIVATE KEY-----\n"
)


def _hmac(key: str = KEY) -> Signer:
    return Signer.from_credentials(Credentials(api_key=key, api_secret=SECRET))


# --------------------------------------------------------------------------- shared vectors

_REST = re.compile(r"(?P<ts>\d{13})(?P<rest>.*)")


def _sign_vector(vector: dict[str, str]) -> str:
    rsa = vector["algorithm"].startswith("RSASSA")
    api_key = vector.get("key") or "test-key"
    signer = Signer.from_credentials(
        Credentials(
            api_key=api_key,
            api_secret=vector["secret"],
            key_type=KeyType.RSA if rsa else KeyType.HMAC,
        )
    )
    payload = vector["payload"]
    if "websocket" in vector["api"]:
        expires = int(payload.removeprefix("GET/realtime"))
        args = ws_auth_args(signer, expires_ns=expires * MS)
        assert [api_key, expires] == args[:2]
        return str(args[2])
    match = _REST.fullmatch(payload)
    assert match is not None
    prefix = f"{api_key}{DEFAULT_RECV_WINDOW_MS}"
    rest = match["rest"]
    assert rest.startswith(prefix), vector["id"]
    signed = rest.removeprefix(prefix)
    if "POST" in vector["api"]:
        headers = sign_rest(signer, method="POST", body=signed, now_ns=int(match["ts"]) * MS)
    else:
        headers = sign_rest(signer, method="GET", query=signed, now_ns=int(match["ts"]) * MS)
    assert match["ts"] == headers["X-BAPI-TIMESTAMP"]
    return headers["X-BAPI-SIGN"]


def test_bybit_sign_matches_every_shared_vector() -> None:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    vectors = [v for v in data["vectors"] if v["exchange"] == "bybit"]
    assert len(vectors) >= 5

    expected = {v["id"]: v["expected_signature"] for v in vectors}
    actual = {v["id"]: _sign_vector(v) for v in vectors}

    assert expected == actual


# --------------------------------------------------------------------------- hand-written cases


def test_bybit_get_signs_timestamp_key_window_and_query() -> None:
    # Payload layout and values from the v5 docs (guide.mdx); signature computed.
    headers = sign_rest(
        _hmac(),
        method="GET",
        query="category=option&symbol=BTC-29JUL22-25000-C",
        now_ns=1658384314791 * MS,
    )

    assert {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": "0bfc5f1d29d38ee7f4d451a9f265f4c3b5a57119d175917df05068384d7955c7",
        "X-BAPI-SIGN-TYPE": "2",
    } == headers


def test_bybit_post_signs_the_body_bytes_as_sent() -> None:
    # pybit serialises with json.dumps (a space after ':'); the bytes sent are what count.
    spaced = sign_rest(
        _hmac(), method="POST", body='{"category": "option"}', now_ns=1658385579423 * MS
    )
    compact = sign_rest(
        _hmac(), method="post", body=b'{"category":"option"}', now_ns=1658385579423 * MS
    )

    assert (
        "7da1f1187f9d354ada1258023a22d9aef67163261c0d42ad52bb27cc30a3fc0d"
        == (spaced["X-BAPI-SIGN"])
    )
    assert spaced["X-BAPI-SIGN"] != compact["X-BAPI-SIGN"]


def test_bybit_get_ignores_the_body_and_post_ignores_the_query() -> None:
    now = 1658384314791 * MS
    empty_get = sign_rest(_hmac(), method="GET", now_ns=now)

    assert (
        "bd5570327de98430a9956443fe706c174972db773aea5e50ce4b46ff3ea856bc"
        == (empty_get["X-BAPI-SIGN"])
    )
    assert empty_get == sign_rest(_hmac(), method="GET", body="{}", now_ns=now)
    assert sign_rest(_hmac(), method="POST", body="{}", now_ns=now) == sign_rest(
        _hmac(), method="POST", query="a=1", body="{}", now_ns=now
    )


def test_bybit_signs_the_receive_window_it_sends() -> None:
    now = 1658384314791 * MS
    default = sign_rest(_hmac(), method="GET", query="a=1", now_ns=now)
    wider = sign_rest(_hmac(), method="GET", query="a=1", now_ns=now, recv_window_ms=7500)

    assert "7500" == wider["X-BAPI-RECV-WINDOW"]
    assert signature(_hmac(), f"1658384314791{KEY}7500a=1".encode()) == wider["X-BAPI-SIGN"]
    assert default["X-BAPI-SIGN"] != wider["X-BAPI-SIGN"]


def test_bybit_ws_auth_signs_get_realtime_and_expires() -> None:
    # Computed: "GET/realtime" + expires (ms) from the v5 docs' websocket authentication page.
    frame = ws_auth_frame(_hmac(), expires_ns=1662350400000 * MS + 999_999, req_id="auth-1")

    assert {
        "op": "auth",
        "req_id": "auth-1",
        "args": [
            KEY,
            1662350400000,
            "06f9ae2e99920f9b2838bea70215b2b1f1e30ae7665078e97d0a8b76b47d1094",
        ],
    } == frame
    assert "req_id" not in ws_auth_frame(_hmac(), expires_ns=0)


def test_bybit_refuses_other_methods_and_ed25519_keys() -> None:
    with pytest.raises(LocalError, match="DELETE"):
        sign_rest(_hmac(), method="DELETE", now_ns=0)
    signer = Signer.from_credentials(
        Credentials(api_key=KEY, api_secret=ED25519_PEM, key_type=KeyType.ED25519)
    )
    with pytest.raises(ConfigError, match="hmac, rsa") as info:
        ws_auth_args(signer, expires_ns=0)

    assert "PRIVATE KEY" not in str(info.value)


@given(
    index=st.integers(0, 40),
    char=st.characters(min_codepoint=33, max_codepoint=126),
)
def test_bybit_one_byte_change_of_the_payload_changes_the_signature(index: int, char: str) -> None:
    query = "category=linear&symbol=BTCUSDT&orderLinkId=a1"
    changed = query[:index] + char + query[index + 1 :]

    def sign(q: str) -> str:
        return sign_rest(_hmac(), method="GET", query=q, now_ns=1658384314791 * MS)["X-BAPI-SIGN"]

    assert (sign(changed) == sign(query)) == (changed == query)
