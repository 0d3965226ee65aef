from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, unquote

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConfigError, LocalError
from connector.model.credentials import Credentials, KeyType
from connector.venues.binance.sign import (
    API_KEY_HEADER,
    api_key_headers,
    encode_params,
    rest_signature,
    session_logon_params,
    sign_rest,
    timed_params,
    ws_payload,
    ws_signed_params,
)
from connector.venues.signing import Signer
from tests.conftest import fixture_path

MS = 1_000_000

# Binance spot docs (rest-api.md, web-socket-api.md): the example HMAC key pair.
DOCS_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOCS_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
# Binance USDⓈ-M docs (general-info, HMAC example).
USDM_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
# binance-connector-python 3.3.0 tests: the Ed25519 test key (PKCS#8).
ED25519_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIE4rJ0goma1nbu1d8T1dp//0pe40jnf8tghwRhsSY4Bk\n"
    "-----END PRIVATE KEY-----\n"
)

DOCS_ORDER = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
]


def _hmac(secret: str = DOCS_SECRET, key: str = DOCS_KEY) -> Signer:
    return Signer.from_credentials(Credentials(api_key=key, api_secret=secret))


def _ed25519(key: str = "ed-key") -> Signer:
    return Signer.from_credentials(
        Credentials(api_key=key, api_secret=ED25519_PEM, key_type=KeyType.ED25519)
    )


def _signature_param(wire: str) -> str:
    return unquote(dict(parse_qsl(wire, keep_blank_values=True))["signature"])


# --------------------------------------------------------------------------- shared vectors

_KEY_TYPES = {"HMAC": KeyType.HMAC, "RSASSA": KeyType.RSA, "Ed25519": KeyType.ED25519}


def _vector_signer(vector: dict[str, str], api_key: str) -> Signer:
    key_type = _KEY_TYPES[vector["algorithm"].split("-")[0].split("/")[0]]
    return Signer.from_credentials(
        Credentials(
            api_key=api_key,
            api_secret=vector["secret"],
            key_type=key_type,
            key_password=vector.get("secret_password"),
        )
    )


def _sign_vector(vector: dict[str, str]) -> str:
    payload = vector["payload"]
    if "WebSocket" in vector["api"]:
        pairs = (p.split("=", 1) for p in reversed(payload.split("&")))
        params: dict[str, str | int | bool] = {k: v for k, v in pairs}
        api_key = str(params.pop("apiKey"))
        now_ns = int(params.pop("timestamp")) * MS
        window = params.pop("recvWindow", None)
        signer = _vector_signer(vector, api_key)
        signed = ws_signed_params(
            signer,
            params,
            now_ns=now_ns,
            recv_window_ms=None if window is None else int(window),
        )
        assert payload == ws_payload(signed), vector["id"]
        return str(signed["signature"])
    signer = _vector_signer(vector, vector.get("key") or "test-key")
    if "query-plus-body" in vector["id"]:
        # Query up to timeInForce, the rest in the form body (the docs' mixed example).
        split = payload.index("quantity=")
        request = sign_rest(signer, query=payload[:split], body=payload[split:])
        assert payload[:split] == request.query
        return _signature_param(request.body)
    request = sign_rest(signer, query=payload)
    assert "" == request.body
    assert {API_KEY_HEADER: signer.api_key} == dict(request.headers)
    return _signature_param(request.query)


def test_binance_sign_matches_every_shared_vector() -> None:
    data = json.loads(fixture_path("signatures.json").read_text(encoding="utf-8"))
    vectors = [v for v in data["vectors"] if v["exchange"] == "binance"]
    assert len(vectors) >= 13

    expected = {v["id"]: v["expected_signature"] for v in vectors}
    actual = {v["id"]: _sign_vector(v) for v in vectors}

    assert expected == actual


# --------------------------------------------------------------------------- hand-written vectors
# The ones venues-trading.md 1.3 lists as missing, with their provenance.


def test_binance_rest_signs_usdm_docs_example() -> None:
    # Published in the USDⓈ-M docs (general-info, SIGNED Endpoint Examples, HMAC).
    params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "1"),
        ("price", "9000"),
        ("timeInForce", "GTC"),
    ]
    query = encode_params(timed_params(params, now_ns=1591702613943 * MS, recv_window_ms=5000))

    request = sign_rest(_hmac(USDM_SECRET), query=query)

    assert (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
        "&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    ) == request.query


def test_binance_rest_concatenates_usdm_query_and_body_without_separator() -> None:
    # Computed from the USDⓈ-M docs' mixed example. The docs print f9d0ae5e…66e36f2,
    # which only comes out with the stray space their shell line has before the timestamp.
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    signer = _hmac(USDM_SECRET)

    request = sign_rest(signer, query=query, body=body)
    docs_typo = rest_signature(signer, (query + body.replace("=1591", "= 1591")).encode())

    assert query == request.query
    assert (
        f"{body}&signature=30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
        == request.body
    )
    assert docs_typo.startswith("f9d0ae5e") and docs_typo.endswith("66e36f2")


def test_binance_rest_mixed_spot_docs_example_puts_signature_last_in_body() -> None:
    # Spot docs (before 2025-12-17), "Example 3: Mixed query string and request body".
    query = encode_params(DOCS_ORDER[:4])
    body = encode_params(
        timed_params(DOCS_ORDER[4:], now_ns=1499827319559 * MS, recv_window_ms=5000)
    )

    request = sign_rest(_hmac(), query=query, body=body)

    assert "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC" == request.query
    assert (
        "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        "&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    ) == request.body


def test_binance_wsapi_signs_user_data_stream_subscribe_signature() -> None:
    # Computed: the WS API rule over apiKey and timestamp only; the timestamp is the spot
    # docs' userDataStream.subscribe.signature example.
    signed = ws_signed_params(_hmac(), {}, now_ns=1747385641636 * MS)

    assert {
        "apiKey": DOCS_KEY,
        "timestamp": 1747385641636,
        "signature": "681110a6057ad58657af22f5640fab9dd17418834cdfccdc81be8b0f7b2cde3e",
    } == signed


# --------------------------------------------------------------------------- wire rules


def test_binance_encode_params_percent_encodes_non_ascii_like_the_docs() -> None:
    params = [("symbol", "１２３４５６"), *DOCS_ORDER[1:]]

    query = encode_params(timed_params(params, now_ns=1499827319559 * MS, recv_window_ms=5000))

    assert (
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
        "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    ) == query
    assert "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3" == (
        _signature_param(sign_rest(_hmac(), query=query).query)
    )


def test_binance_encode_params_encodes_reserved_characters_and_keeps_unreserved() -> None:
    assert "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&id=a-b_c.d~e%20f%2Bg" == encode_params(
        [("symbols", '["BTCUSDT","ETHUSDT"]'), ("id", "a-b_c.d~e f+g")]
    )


def test_binance_rest_refuses_a_payload_that_is_not_percent_encoded() -> None:
    with pytest.raises(LocalError, match="percent-encoded"):
        sign_rest(_hmac(), query="symbol=１２３&timestamp=1")
    with pytest.raises(LocalError, match="percent-encoded"):
        sign_rest(_hmac(), query="a=1", body="note=two words")


def test_binance_timed_params_append_recv_window_then_timestamp_in_ms() -> None:
    assert [("a", "1"), ("recvWindow", "60000"), ("timestamp", "1700000000123")] == timed_params(
        [("a", "1")], now_ns=1_700_000_000_123_999_999, recv_window_ms=60000
    )
    assert [("timestamp", "1")] == timed_params([], now_ns=1_999_999)


def test_binance_rest_without_parameters_sends_only_the_signature() -> None:
    request = sign_rest(_hmac())

    assert f"signature={rest_signature(_hmac(), b'')}" == request.query


def test_binance_rest_percent_encodes_a_base64_signature() -> None:
    query = encode_params(timed_params(DOCS_ORDER, now_ns=1499827319559 * MS))
    signer = _ed25519()

    request = sign_rest(signer, query=query)
    sent = request.query.rsplit("&signature=", 1)[1]

    assert not set("+/=") & set(sent)
    assert rest_signature(signer, query.encode()) == unquote(sent)
    assert 64 == len(base64.b64decode(unquote(sent)))


def test_binance_api_key_header_for_user_stream_requests() -> None:
    assert {"X-MBX-APIKEY": DOCS_KEY} == api_key_headers(_hmac())


def test_binance_wsapi_payload_sorts_names_and_writes_booleans_and_ints_as_json() -> None:
    params: dict[str, str | int | bool] = {
        "z": "1",
        "apiKey": "k",
        "flag": True,
        "off": False,
        "n": 7,
        "signature": "x",
    }

    assert "apiKey=k&flag=true&n=7&off=false&z=1" == ws_payload(params)


def test_binance_wsapi_replaces_a_stale_signature_and_signs_raw_utf8() -> None:
    signer = _hmac()
    params = {"symbol": "１２３４５６", "signature": "stale"}

    signed = ws_signed_params(signer, params, now_ns=1645423376532 * MS, recv_window_ms=5000)
    expected = rest_signature(
        signer,
        f"apiKey={DOCS_KEY}&recvWindow=5000&symbol=１２３４５６&timestamp=1645423376532".encode(),
    )

    assert expected == signed["signature"]
    assert {"symbol": "１２３４５６", "signature": "stale"} == params


def test_binance_session_logon_signs_with_ed25519() -> None:
    signer = _ed25519("logon-key")

    params = session_logon_params(signer, now_ns=1649729878532 * MS, recv_window_ms=5000)

    assert ["apiKey", "recvWindow", "signature", "timestamp"] == sorted(params)
    assert ("logon-key", 5000, 1649729878532) == (
        params["apiKey"],
        params["recvWindow"],
        params["timestamp"],
    )
    private = signer._key
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    private.public_key().verify(
        base64.b64decode(str(params["signature"])),
        b"apiKey=logon-key&recvWindow=5000&timestamp=1649729878532",
    )


def test_binance_session_logon_refuses_hmac_keys() -> None:
    with pytest.raises(ConfigError, match="ed25519") as info:
        session_logon_params(_hmac(), now_ns=0)

    assert DOCS_SECRET not in str(info.value)


def test_binance_signed_request_repr_hides_the_api_key() -> None:
    request = sign_rest(_hmac(), query="timestamp=1")

    assert DOCS_KEY not in repr(request)


# --------------------------------------------------------------------------- tampering

_PAYLOAD = encode_params(timed_params(DOCS_ORDER, now_ns=1499827319559 * MS, recv_window_ms=5000))
_SIGNERS = {
    "hmac": _hmac(),
    "ed25519": _ed25519(),
}


@pytest.mark.parametrize("kind", sorted(_SIGNERS))
@given(
    index=st.integers(0, len(_PAYLOAD) - 1), char=st.characters(min_codepoint=33, max_codepoint=126)
)
def test_binance_one_byte_change_of_the_payload_changes_the_signature(
    kind: str, index: int, char: str
) -> None:
    changed = _PAYLOAD[:index] + char + _PAYLOAD[index + 1 :]
    signer = _SIGNERS[kind]

    same = rest_signature(signer, changed.encode()) == rest_signature(signer, _PAYLOAD.encode())

    assert same == (changed == _PAYLOAD)
