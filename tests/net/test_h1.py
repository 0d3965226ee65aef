"""The sans-I/O HTTP/1.1 request encoder and response parser (connector.net.h1)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from connector.net.h1 import ResponseParser, decode_body, encode_request


def parse(*pieces: bytes, head_request: bool = False) -> ResponseParser:
    parser = ResponseParser(head_request=head_request)
    for piece in pieces:
        parser.receive(piece)
    return parser


def test_request_has_its_line_headers_and_a_content_length_for_the_body() -> None:
    data = encode_request("POST", "/v5/order/create", [("Host", "h:1"), ("X-A", "b")], b"{}")
    assert (
        b"POST /v5/order/create HTTP/1.1\r\nHost: h:1\r\nX-A: b\r\nContent-Length: 2\r\n\r\n{}"
        == data
    )


def test_get_without_a_body_has_no_content_length_and_empty_post_has_zero() -> None:
    assert b"GET /a?b=1 HTTP/1.1\r\nHost: h\r\n\r\n" == encode_request(
        "GET", "/a?b=1", [("Host", "h")], None
    )
    assert encode_request("POST", "/a", [], None).endswith(b"Content-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/a b", []),
        ("GET", "/a\r\nX: y", []),
        ("GE T", "/", []),
        ("GET", "/", [("X-A", "v\r\nInjected: 1")]),
        ("GET", "/", [("Bad Name", "v")]),
    ],
)
def test_request_refuses_characters_that_would_split_it(
    method: str, target: str, headers: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError):
        encode_request(method, target, headers, None)


def test_content_length_body_split_over_reads() -> None:
    parser = ResponseParser()
    parser.receive(b"HTTP/1.1 200 OK\r\nContent-Le")
    assert parser.head is None
    parser.receive(b"ngth: 5\r\nX-Bapi-Limit-Status: 9\r\n\r\nhe")
    assert parser.head is not None and not parser.done
    assert (200, "9") == (parser.head.status, parser.head.headers["x-bapi-limit-status"])
    parser.receive(b"llo")
    assert (True, b"hello", True, 0) == (
        parser.done,
        parser.body,
        parser.head.keep_alive,
        parser.pending,
    )


def test_chunked_body_with_extensions_and_trailers_byte_by_byte() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;name=v\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n"
    )
    parser = ResponseParser()
    for i in range(len(raw)):
        assert not parser.done
        parser.receive(raw[i : i + 1])
    assert parser.done
    assert b"Wikipedia in\r\n\r\nchunks." == parser.body


def test_body_without_length_runs_to_the_close_and_the_connection_is_not_kept() -> None:
    parser = parse(b"HTTP/1.1 200 OK\r\n\r\nsome", b" body")
    assert not parser.done
    parser.receive(b"")
    assert parser.head is not None
    assert (True, b"some body", False) == (parser.done, parser.body, parser.head.keep_alive)


def test_connection_close_and_http_1_0_are_not_kept_alive() -> None:
    closing = parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    old = parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    kept = parse(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    assert closing.head is not None and old.head is not None and kept.head is not None
    assert (False, False, True) == (
        closing.head.keep_alive,
        old.head.keep_alive,
        kept.head.keep_alive,
    )


def test_interim_100_continue_is_skipped() -> None:
    parser = parse(
        b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"
    )
    assert parser.head is not None
    assert (201, b"x") == (parser.head.status, parser.body)


def test_no_body_for_head_204_and_304() -> None:
    for raw, head in [
        (b"HTTP/1.1 204 No Content\r\n\r\n", False),
        (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", True),
    ]:
        parser = parse(raw, head_request=head)
        assert (True, b"") == (parser.done, parser.body)


def test_repeated_headers_are_joined_and_names_lower_cased() -> None:
    parser = parse(b"HTTP/1.1 200 OK\r\nSet-X: a\r\nset-x:  b \r\nContent-Length: 0\r\n\r\n")
    assert parser.head is not None
    assert {"set-x": "a, b", "content-length": "0"} == parser.head.headers


def test_bytes_past_the_answer_are_counted_as_pending() -> None:
    parser = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA")
    assert (True, b"x", 5) == (parser.done, parser.body, parser.pending)


@pytest.mark.parametrize(
    "pieces",
    [
        [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", b""],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", b""],
        [b"HTTP/1.1 200 OK\r\n", b""],
        [b""],
        [b"SSH-2.0-OpenSSH\r\n\r\n"],
        [b"HTTP/1.1 2x0 OK\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY"],
    ],
)
def test_broken_or_truncated_answers_raise_value_error(pieces: list[bytes]) -> None:
    with pytest.raises(ValueError):
        parse(*pieces)


def test_oversized_head_raises() -> None:
    with pytest.raises(ValueError):
        parse(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000)


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    text = b'{"retCode":0}' * 20
    assert text == decode_body({"content-encoding": "gzip"}, gzip.compress(text))
    assert text == decode_body({"content-encoding": "deflate"}, zlib.compress(text))
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert text == decode_body({"content-encoding": "deflate"}, raw.compress(text) + raw.flush())
    assert text == decode_body({}, text)
    with pytest.raises(ValueError):
        decode_body({"content-encoding": "br"}, b"x")
    with pytest.raises(ValueError):
        decode_body({"content-encoding": "gzip"}, b"not gzip")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("key-that-is-secret\n", "a line break at its end"),
        ("key-that\r\n-is-secret", "a line break inside"),
        ("\x00key-that-is-secret", "a control character (0x00) at its start"),
        ("key-that-is-secret\x7f", "a control character (0x7f) at its end"),
        ("key-that-is-secret€", "a character that is not Latin-1 at its end"),
    ],
)
def test_a_header_value_that_cannot_be_sent_is_refused_naming_the_header_not_the_value(
    value: str, problem: str
) -> None:
    with pytest.raises(ValueError) as info:
        encode_request("POST", "/fapi/v1/listenKey", [("X-MBX-APIKEY", value)], None)

    message = str(info.value)
    assert f"header X-MBX-APIKEY: the value has {problem} (value not shown)" == message
    assert "secret" not in message and "key-that" not in message
