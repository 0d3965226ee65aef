from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConfigError
from connector.model.credentials import Credentials, KeyType
from connector.venues.okx.sign import (
    DEMO_HEADER,
    iso_timestamp,
    sign_rest,
    signature,
    ws_login_args,
    ws_login_frame,
)
from connector.venues.signing import Signer
from tests.conftest import fixture_path

MS = 1_000_000
S = 1_000_000_000

# OKX v5 docs: the example secretKey, apiKey and passphrase.
DOCS_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOCS_KEY = "985d5b66-57ce-40fb-b714-afc0b9787083"
DOCS_PASSPHRASE = "123456"
# 2020-12-08T09:08:57.715Z, the docs' REST timestamp example.
DOCS_REST_NS = 1607418537715 * MS


def _signer(secret: str = DOCS_SECRET, passphrase: str | None = DOCS_PASSPHRASE) -> Signer:
    return Signer.from_credentials(
        Credentials(api_key=DOCS_KEY, api_secret=secret, passphrase=passphrase)
    )


def _ns(iso: str) -> int:
    moment = dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return int(moment.timestamp()) * S + moment.microsecond * 1000


# --------------------------------------------------------------------------- shared vectors

_REST = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+Z)(?P<method>GET|POST)(?P<path>/[^{]*)(?P<body>.*)"
)


def _sign_vector(vector: dict[str, str]) -> str:
    signer = Signer.from_credentials(
        Credentials(
            api_key=vector.get("key") or "test-key",
            api_secret=vector["secret"],
            passphrase=vector.get("passphrase") or "test-passphrase",
        )
    )
    payload = vector["payload"]
    if "WebSocket" in vector["api"]:
        seconds = payload.removesuffix("GET/users/self/verify")
        args = ws_login_args(signer, now_ns=int(seconds) * S)
        assert seconds == args["timestamp"]
        return args["sign"]
    match = _REST.fullmatch(payload)
    assert match is not None, vector["id"]
    headers = sign_rest(
        signer,
        method=match["method"],
        request_path=match["path"],
        body=match["body"],
        now_ns=_ns(match["ts"]),
    )
    assert match["ts"] == headers["OK-ACCESS-TIMESTAMP"]
    return headers["OK-ACCESS-SIGN"]


def test_okx_sign_matches_every_shared_vector() -> None:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    vectors = [v for v in data["vectors"] if v["exchange"] == "okx"]
    assert len(vectors) >= 4

    expected = {v["id"]: v["expected_signature"] for v in vectors}
    actual = {v["id"]: _sign_vector(v) for v in vectors}

    assert expected == actual


# --------------------------------------------------------------------------- hand-written cases


def test_okx_iso_timestamp_is_utc_with_milliseconds() -> None:
    assert "2020-12-08T09:08:57.715Z" == iso_timestamp(DOCS_REST_NS + 999_999)
    assert "1970-01-01T00:00:00.000Z" == iso_timestamp(0)
    assert "2026-12-02T00:00:00.007Z" == iso_timestamp(_ns("2026-12-02T00:00:00.007Z"))


def test_okx_get_signs_the_path_with_its_query() -> None:
    # Computed: docs secretKey and REST prehash example.
    headers = sign_rest(
        _signer(), method="get", request_path="/api/v5/account/balance?ccy=BTC", now_ns=DOCS_REST_NS
    )

    assert {
        "OK-ACCESS-KEY": DOCS_KEY,
        "OK-ACCESS-SIGN": "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=",
        "OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z",
        "OK-ACCESS-PASSPHRASE": DOCS_PASSPHRASE,
    } == headers


def test_okx_post_signs_the_body_bytes_as_sent() -> None:
    # Computed: the docs' place-order example written compactly. PYOKX sends json.dumps
    # output (with spaces), which signs differently: the bytes sent are what count.
    body = (
        '{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy",'
        '"ordType":"limit","px":"2.15","sz":"2"}'
    )
    compact = sign_rest(
        _signer(), method="POST", request_path="/api/v5/trade/order", body=body, now_ns=DOCS_REST_NS
    )
    spaced = sign_rest(
        _signer(),
        method="POST",
        request_path="/api/v5/trade/order",
        body=json.dumps(json.loads(body)).encode(),
        now_ns=DOCS_REST_NS,
    )

    assert "dI6rrL9rXW/HdaPKJ/6LC1OgvH4/PYju6R3CqixMTNQ=" == compact["OK-ACCESS-SIGN"]
    assert compact["OK-ACCESS-SIGN"] != spaced["OK-ACCESS-SIGN"]


def test_okx_demo_header_is_added_and_not_signed() -> None:
    live = sign_rest(_signer(), method="GET", request_path="/api/v5/account/balance", now_ns=0)
    demo = sign_rest(
        _signer(), method="GET", request_path="/api/v5/account/balance", now_ns=0, demo=True
    )

    assert "1" == demo.pop(DEMO_HEADER)
    assert live == demo
    assert DEMO_HEADER not in live


def test_okx_ws_login_uses_unix_seconds() -> None:
    # Computed: docs secretKey, apiKey, passphrase and timestamp (the docs' own sign
    # 7L+zFQ+… is illustrative and does not reproduce).
    frame = ws_login_frame(_signer(), now_ns=1538054050 * S + 999_999_999)

    assert {
        "op": "login",
        "args": [
            {
                "apiKey": DOCS_KEY,
                "passphrase": DOCS_PASSPHRASE,
                "timestamp": "1538054050",
                "sign": "+LdIr8lkkvhr5hoA3g9TMC0+uQJ849ftAcocA/ouu4M=",
            }
        ],
    } == frame


def test_okx_refuses_missing_passphrase_and_non_hmac_keys() -> None:
    with pytest.raises(ConfigError, match="passphrase"):
        ws_login_args(_signer(passphrase=None), now_ns=0)
    ed25519 = Signer.from_credentials(
        Credentials(
            api_key=DOCS_KEY,
            api_secret=(
                "-----BEGIN PRIVATE KEY-----\n"
                "MC4CAQAwBQYDK2VwBCIEIE4rJ0goma1nbu1d8T1dp//0pe40jnf8tghwRhsSY4Bk\n"
                "-----END PRIVATE KEY-----\n"
            ),
            passphrase=DOCS_PASSPHRASE,
            key_type=KeyType.ED25519,
        )
    )
    with pytest.raises(ConfigError, match="accepts hmac keys") as info:
        sign_rest(ed25519, method="GET", request_path="/", now_ns=0)

    assert DOCS_PASSPHRASE not in str(info.value)


@given(index=st.integers(0, 30), char=st.characters(min_codepoint=33, max_codepoint=126))
def test_okx_one_byte_change_of_the_payload_changes_the_signature(index: int, char: str) -> None:
    payload = "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    changed = payload[:index] + char + payload[index + 1 :]

    same = signature(_signer(), changed.encode()) == signature(_signer(), payload.encode())

    assert same == (changed == payload)
