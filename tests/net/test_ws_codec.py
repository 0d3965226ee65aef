"""The sans-I/O websocket codec: RFC 6455's examples, every protocol error, split reads."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.net.ws_codec import (
    FrameDecoder,
    Handshake,
    Ping,
    Pong,
    Violation,
    WsClose,
    WsUrl,
    accept_key,
    encode_close,
    encode_frame,
    encode_message,
    handshake_request,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
MASK = bytes.fromhex("37fa213d")


def server_frame(
    opcode: int, payload: bytes, *, fin: bool = True, first: int | None = None
) -> bytes:
    """An unmasked frame as a server sends it (written here from the RFC, not by the codec)."""
    byte0 = first if first is not None else (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes((byte0, n)) + payload
    if n < 65536:
        return bytes((byte0, 126)) + n.to_bytes(2, "big") + payload
    return bytes((byte0, 127)) + n.to_bytes(8, "big") + payload


def unmask(frame: bytes) -> tuple[int, bytes]:
    """A client frame's first byte and its unmasked payload, from the RFC's layout."""
    assert frame[1] & 0x80, "client frames are masked"
    n = frame[1] & 0x7F
    at = 2
    if n == 126:
        n, at = int.from_bytes(frame[2:4], "big"), 4
    elif n == 127:
        n, at = int.from_bytes(frame[2:10], "big"), 10
    mask, payload = frame[at : at + 4], frame[at + 4 :]
    assert n == len(payload)
    return frame[0], bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def answer(*lines: str, body: bytes = b"") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


ACCEPTED = (
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    f"Sec-WebSocket-Accept: {ACCEPT}",
)


# -- handshake ----------------------------------------------------------------------


def test_accept_key_is_the_rfc_example() -> None:
    assert ACCEPT == accept_key(KEY)


def test_request_asks_for_an_upgrade_with_the_key() -> None:
    url = WsUrl.parse("wss://stream.example.com:9443/ws/btcusdt@depth?x=1")
    request = handshake_request(url, KEY).decode()
    assert request.startswith("GET /ws/btcusdt@depth?x=1 HTTP/1.1\r\n")
    assert request.endswith("\r\n\r\n")
    for line in (
        "Host: stream.example.com:9443",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
    ):
        assert f"\r\n{line}\r\n" in request


def test_urls() -> None:
    assert WsUrl(True, "h", 443, "/", "h") == WsUrl.parse("wss://h")
    assert WsUrl(False, "::1", 8080, "/a?b", "[::1]:8080") == WsUrl.parse("ws://[::1]:8080/a?b")
    for bad in ("http://h/ws", "ws:///path", "h:80"):
        with pytest.raises(ValueError, match="not a ws:// or wss:// URL"):
            WsUrl.parse(bad)


def test_accepted_answer_in_pieces_keeps_the_bytes_after_it() -> None:
    data = answer(*ACCEPTED) + server_frame(1, b"first")
    handshake = Handshake(KEY)
    assert not handshake.receive(data[:10])
    assert handshake.receive(data[10:])
    assert 101 == handshake.status
    assert server_frame(1, b"first") == handshake.rest


def test_connection_header_may_list_more_tokens() -> None:
    lines = [*ACCEPTED[:2], "connection: keep-alive, upgrade", ACCEPTED[3]]
    assert Handshake(KEY).receive(answer(*lines))


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ((*ACCEPTED[:3], "Sec-WebSocket-Accept: wrong="), "does not answer our key"),
        ((*ACCEPTED[:3],), "does not answer our key"),
        ((ACCEPTED[0], "Upgrade: h2c", *ACCEPTED[2:]), "upgrades to 'h2c'"),
        ((ACCEPTED[0], ACCEPTED[1], ACCEPTED[3]), "Connection: None"),
        ((*ACCEPTED, "Sec-WebSocket-Extensions: permessage-deflate"), "we offered none"),
        (("SSH-2.0-OpenSSH",), "not an HTTP/1.1 status line"),
    ],
)
def test_a_bad_upgrade_is_an_error(lines: tuple[str, ...], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Handshake(KEY).receive(answer(*lines))


def test_refusal_brings_its_status_and_body() -> None:
    handshake = Handshake(KEY)
    head = answer("HTTP/1.1 404 Not Found", "Content-Length: 14", body=b"no such")
    assert not handshake.receive(head)
    assert handshake.receive(b" stream")
    assert (404, b"no such stream") == (handshake.status, handshake.body)


def test_refusal_cut_short_still_brings_its_status() -> None:
    handshake = Handshake(KEY)
    assert not handshake.receive(answer("HTTP/1.1 429 Too Many", "Content-Length: 99", body=b"x"))
    assert handshake.receive(b"")
    assert (429, b"x") == (handshake.status, handshake.body)


def test_closing_before_an_answer_is_an_error() -> None:
    handshake = Handshake(KEY)
    assert not handshake.receive(b"HTTP/1.1 101 Swi")
    with pytest.raises(ValueError, match="closed the connection before answering"):
        handshake.receive(b"")


# -- encoding -----------------------------------------------------------------------


def test_masked_hello_is_the_rfc_example() -> None:
    assert bytes.fromhex("8185 37fa213d 7f9f4d5158") == encode_frame(1, b"Hello", MASK)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_every_length_encoding_round_trips(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    frame = encode_message(payload, MASK)
    assert (0x82, payload) == unmask(frame)
    header = 2 if size < 126 else 4 if size < 65536 else 10
    assert header + 4 + size == len(frame)


@settings(deadline=None)  # a loaded machine stalls; nothing here is timed
@given(text=st.text(max_size=300), mask=st.binary(min_size=4, max_size=4))
def test_text_round_trips_under_any_mask(text: str, mask: bytes) -> None:
    assert (0x81, text.encode()) == unmask(encode_message(text, mask))


def test_close_frames() -> None:
    assert (0x88, b"\x03\xe8bye") == unmask(encode_close(1000, "bye", MASK))
    assert (0x88, b"") == unmask(encode_close(1005, "ignored", MASK))
    long = unmask(encode_close(4000, "é" * 100, MASK))[1]
    assert len(long) <= 125
    assert "é" * 61 == long[2:].decode()
    with pytest.raises(ValueError, match="close code 1006 may not be sent"):
        encode_close(1006, "", MASK)
    with pytest.raises(ValueError, match="4 bytes"):
        encode_frame(1, b"x", b"abc")


# -- decoding -----------------------------------------------------------------------


def test_the_rfc_examples_decode() -> None:
    decoder = FrameDecoder()
    data = (
        bytes.fromhex("810548656c6c6f")  # "Hello"
        + bytes.fromhex("010348656c 80026c6f")  # "Hel" + "lo"
        + bytes.fromhex("890548656c6c6f")  # ping "Hello"
        + bytes.fromhex("8a0548656c6c6f")  # pong "Hello"
        + bytes.fromhex("827e0100")
        + bytes(256)
        + bytes.fromhex("827f0000000000010000")
        + bytes(65536)
    )
    events = decoder.receive(data)
    assert ["Hello", "Hello"] == events[:2]
    assert isinstance(events[2], Ping) and b"Hello" == events[2].payload
    assert isinstance(events[3], Pong) and b"Hello" == events[3].payload
    assert [bytes(256), bytes(65536)] == events[4:]


def test_close_frame_ends_the_stream() -> None:
    decoder = FrameDecoder()
    data = (
        server_frame(1, b"last")
        + server_frame(8, (4001).to_bytes(2, "big") + "done ✓".encode())
        + server_frame(1, b"after")
    )
    assert ["last", WsClose(code=4001, reason="done ✓")] == decoder.receive(data)
    assert [] == decoder.receive(server_frame(1, b"more"))


def test_close_without_a_code_is_1005() -> None:
    assert [WsClose(code=1005)] == FrameDecoder().receive(server_frame(8, b""))


@pytest.mark.parametrize(
    ("data", "code", "reason"),
    [
        (bytes.fromhex("8185 37fa213d 7f9f4d5158"), 1002, "masked frame"),
        (server_frame(1, b"x", first=0xC1), 1002, "reserved bits"),
        (server_frame(3, b"x"), 1002, "unknown opcode 0x3"),
        (server_frame(11, b"x"), 1002, "unknown opcode 0xb"),
        (server_frame(9, b"x", fin=False), 1002, "fragmented control frame"),
        (server_frame(9, bytes(126)), 1002, "control frame of 126 bytes"),
        (server_frame(0, b"x"), 1002, "continuation frame with no message"),
        (server_frame(1, b"a", fin=False) + server_frame(2, b"b"), 1002, "new message before"),
        (server_frame(8, b"\x03"), 1002, "close frame of one byte"),
        (server_frame(8, (1005).to_bytes(2, "big")), 1002, "close code 1005"),
        (server_frame(8, (999).to_bytes(2, "big")), 1002, "close code 999"),
        (server_frame(8, b"\x03\xe8\xff"), 1007, "not UTF-8"),
        (server_frame(1, b"\xc3\x28"), 1007, "not UTF-8"),
        (server_frame(1, b"\xc3", fin=False) + server_frame(0, b"\x28"), 1007, "not UTF-8"),
        (bytes.fromhex("817f8000000000000000"), 1002, "top bit"),
    ],
)
def test_protocol_errors_come_after_the_messages_before_them(
    data: bytes, code: int, reason: str
) -> None:
    decoder = FrameDecoder()
    events = decoder.receive(server_frame(1, b"before") + data)
    assert "before" == events[0]
    assert 2 == len(events)
    violation = events[1]
    assert isinstance(violation, Violation)
    assert code == violation.code
    assert reason in violation.reason
    assert [] == decoder.receive(server_frame(1, b"after"))


def test_a_message_too_big_is_found_from_its_header() -> None:
    decoder = FrameDecoder(max_message_size=1000)
    header = bytes((0x81, 126)) + (1001).to_bytes(2, "big")
    [violation] = decoder.receive(header)  # the 1001 bytes themselves never came
    assert Violation(1009, "a message of over 1000 bytes (1001 so far)") == violation
    assert ["x" * 1000] == FrameDecoder(1000).receive(server_frame(1, b"x" * 1000))


def test_a_fragmented_message_too_big_in_total() -> None:
    decoder = FrameDecoder(max_message_size=10)
    events = decoder.receive(server_frame(2, b"12345", fin=False) + server_frame(0, b"123456"))
    assert [Violation(1009, "a message of over 10 bytes (11 so far)")] == events


def test_a_big_message_read_in_small_pieces() -> None:
    payload = bytes(range(256)) * 1000
    data = server_frame(2, payload) + server_frame(1, b"next")
    decoder = FrameDecoder()
    events = []
    for at in range(0, len(data), 1000):
        events += decoder.receive(data[at : at + 1000])
    assert [payload, "next"] == events


# -- any split of any stream --------------------------------------------------------

messages = st.lists(
    st.tuples(
        st.one_of(st.text(max_size=200), st.binary(max_size=300)),
        st.integers(min_value=1, max_value=4),  # fragments
        st.lists(st.binary(max_size=125), max_size=2),  # pings between the fragments
    ),
    max_size=6,
)


def _stream(spec: list[tuple[str | bytes, int, list[bytes]]]) -> tuple[bytes, list[object]]:
    """The bytes of the messages (fragmented, pings interleaved) and the events expected."""
    data = b""
    expected: list[object] = []
    for message, fragments, pings in spec:
        raw = message.encode() if isinstance(message, str) else message
        opcode = 1 if isinstance(message, str) else 2
        step = max(1, -(-len(raw) // fragments))
        pieces = [raw[i : i + step] for i in range(0, len(raw), step)] or [b""]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            data += server_frame(opcode if i == 0 else 0, piece, fin=last)
            if not last and pings:
                ping = pings[i % len(pings)]
                data += server_frame(9, ping)
                expected.append(("ping", ping))
        expected.append(message)
    return data, expected


def _decode(decoder: FrameDecoder, pieces: list[bytes]) -> list[object]:
    events: list[object] = []
    for piece in pieces:
        for event in decoder.receive(piece):
            events.append(("ping", event.payload) if isinstance(event, Ping) else event)
    return events


@settings(deadline=None)  # a loaded machine stalls; nothing here is timed
@given(spec=messages, cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=8))
def test_any_split_decodes_to_the_same_events(
    spec: list[tuple[str | bytes, int, list[bytes]]], cuts: list[int]
) -> None:
    data, expected = _stream(spec)
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    pieces = [data[a:b] for a, b in itertools.pairwise(points)]
    assert expected == _decode(FrameDecoder(), pieces)


@settings(deadline=None)  # a loaded machine stalls; nothing here is timed
@given(spec=messages)
def test_byte_by_byte_decodes_to_the_same_events(
    spec: list[tuple[str | bytes, int, list[bytes]]],
) -> None:
    data, expected = _stream(spec)
    assert expected == _decode(FrameDecoder(), [data[i : i + 1] for i in range(len(data))])
