"""Websockets (RFC 6455) for the client side, sans-I/O: handshake and frames as bytes.

No I/O, clocks or randomness: the transport (:mod:`connector.net.ws_transport`)
passes in the handshake key and each frame's mask key, writes what the encoders
return and feeds :meth:`FrameDecoder.receive` what it reads. No extensions
(permessage-deflate) and no subprotocols: the venues' streams need neither.

The decoder is built for the common case, one whole unfragmented text frame
per read: it slices and decodes it with no per-frame object but the message.
A server that breaks the protocol yields a :class:`Violation` (the close code
to answer with: 1002 protocol error, 1007 text that is not UTF-8, 1009 a
message too big) after the messages that came before it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

import attrs

from connector.net.h1 import ResponseParser, encode_request, parse_head

__all__ = [
    "Event",
    "FrameDecoder",
    "Handshake",
    "Ping",
    "Pong",
    "Violation",
    "WsClose",
    "WsUrl",
    "accept_key",
    "encode_close",
    "encode_frame",
    "encode_message",
    "handshake_request",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_CONTROL = 125
_MAX_HEAD = 64 * 1024
"""Bytes of the handshake answer's head at most."""


@attrs.frozen(kw_only=True)
class WsClose:
    """How a websocket ended: the close code (1006: dropped without a close frame) and reason.

    Also what :class:`FrameDecoder` yields for the server's close frame (1005:
    one without a code).
    """

    code: int
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.code} {self.reason}".rstrip()


class Ping:
    """The server's ping; answer with a pong carrying the same payload."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


class Pong:
    """The answer to one of our pings."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload


@attrs.frozen
class Violation:
    """The server broke the protocol: close with this code and reason, read no further."""

    code: int
    reason: str


Event = str | bytes | Ping | Pong | WsClose | Violation
"""What :meth:`FrameDecoder.receive` yields: a text or binary message, or one of the others."""


def _closable(code: int) -> bool:
    """Whether a peer may send ``code`` in a close frame (RFC 6455 section 7.4)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


# -- handshake ----------------------------------------------------------------------


@attrs.frozen
class WsUrl:
    """Where a ``ws://`` or ``wss://`` URL points.

    Attributes:
        secure: ``wss://`` (TLS).
        host: The host name or address to connect to (and to check TLS against).
        port: The port (80 or 443 unless given).
        target: Path and query for the request line.
        authority: The ``Host`` header.
    """

    secure: bool
    host: str
    port: int
    target: str
    authority: str

    @classmethod
    def parse(cls, url: str) -> WsUrl:
        """Raises:
        ValueError: not a ``ws://`` or ``wss://`` URL with a host.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError(f"not a ws:// or wss:// URL: {url!r}")
        secure = parts.scheme == "wss"
        default = 443 if secure else 80
        port = parts.port or default
        host = parts.hostname
        name = f"[{host}]" if ":" in host else host
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = name if port == default else f"{name}:{port}"
        return cls(secure, host, port, target, authority)


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer ``key`` with."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


def handshake_request(url: WsUrl, key: str, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """The opening handshake's request; ``key`` is 16 random bytes, base64-encoded."""
    return encode_request(
        "GET",
        url.target,
        [
            ("Host", url.authority),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
            *headers,
        ],
        None,
    )


class Handshake:
    """Reads the server's answer to the opening handshake sent with ``key``.

    Feed it with :meth:`receive` until it returns ``True``; then
    :attr:`status` 101 means accepted (:attr:`rest` holds the bytes that
    followed the answer: the first frames), any other status refused
    (:attr:`body` holds what the server said, for the error message).
    """

    def __init__(self, key: str) -> None:
        self._accept = accept_key(key)
        self._buffer = bytearray()
        self._refusal: ResponseParser | None = None
        self.status = 0
        self.body = b""
        self.rest = b""

    def receive(self, data: bytes | bytearray) -> bool:
        """Take the next bytes read (``b""``: the server closed); ``True`` once the answer is in.

        Raises:
            ValueError: not an HTTP answer, a ``101`` that does not upgrade to
                this websocket, or the connection closed before a status came.
        """
        if self._refusal is not None:
            return self._refused(data)
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if not data:
                raise ValueError("the server closed the connection before answering")
            if len(self._buffer) > _MAX_HEAD:
                raise ValueError(f"an answer head longer than {_MAX_HEAD} bytes")
            return False
        _, status, headers = parse_head(self._buffer[:end])
        if status != 101:
            self._refusal = ResponseParser()
            data, self._buffer = bytes(self._buffer), bytearray()
            return self._refused(data)
        self._check_upgrade(headers)
        self.status = status
        self.rest = bytes(self._buffer[end + 4 :])
        return True

    def _refused(self, data: bytes | bytearray) -> bool:
        parser = self._refusal
        assert parser is not None
        try:
            parser.receive(data)
        except ValueError:
            if parser.head is None or data:
                raise
            # Closed in the middle of the body: what came is enough to report.
        if parser.head is not None:
            self.status = parser.head.status
        if parser.done or not data:
            self.body = parser.body
            return True
        return False

    def _check_upgrade(self, headers: dict[str, str]) -> None:
        upgrade = headers.get("upgrade", "")
        if upgrade.lower() != "websocket":
            raise ValueError(f"a 101 answer that upgrades to {upgrade!r}, not to websocket")
        tokens = [t.strip().lower() for t in headers.get("connection", "").split(",")]
        if "upgrade" not in tokens:
            raise ValueError(f"a 101 answer with Connection: {headers.get('connection')!r}")
        accept = headers.get("sec-websocket-accept")
        if accept != self._accept:
            raise ValueError(
                f"Sec-WebSocket-Accept {accept!r} does not answer our key "
                f"(expected {self._accept!r})"
            )
        for name in ("sec-websocket-extensions", "sec-websocket-protocol"):
            if name in headers:
                raise ValueError(f"the server chose {name} {headers[name]!r}; we offered none")


# -- frames -------------------------------------------------------------------------


def _masked(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if not n:
        return payload
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, mask: bytes, *, fin: bool = True) -> bytes:
    """One client frame (masked with the 4-byte ``mask``, which should be random)."""
    if len(mask) != 4:
        raise ValueError(f"a mask key is 4 bytes, not {len(mask)}")
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 0x10000:
        head = bytes((first, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 0xFF)) + n.to_bytes(8, "big")
    return head + mask + _masked(payload, mask)


def encode_message(message: str | bytes, mask: bytes) -> bytes:
    """One unfragmented message: text for ``str``, binary for ``bytes``."""
    if isinstance(message, str):
        return encode_frame(OP_TEXT, message.encode(), mask)
    return encode_frame(OP_BINARY, bytes(message), mask)


def encode_close(code: int, reason: str, mask: bytes) -> bytes:
    """A close frame; code 1005 (the server's close had none) gives an empty one.

    The reason is cut to the 123 bytes a close frame has room for.

    Raises:
        ValueError: a code no endpoint may send.
    """
    if code == 1005:
        return encode_frame(OP_CLOSE, b"", mask)
    if not _closable(code):
        raise ValueError(f"close code {code} may not be sent")
    text = reason.encode()[:123].decode(errors="ignore").encode()
    return encode_frame(OP_CLOSE, code.to_bytes(2, "big") + text, mask)


def _text(payload: bytes) -> str | Violation:
    try:
        return payload.decode()
    except UnicodeDecodeError as exc:
        return Violation(1007, f"a text message that is not UTF-8 ({exc.reason})")


class FrameDecoder:
    """Turns the bytes a server sends into messages and control frames.

    Args:
        max_message_size: A message (all its fragments) longer than this is
            a :class:`Violation` with code 1009, found from the frame's header
            before its payload is read.
    """

    def __init__(self, max_message_size: int = 16 * 1024 * 1024) -> None:
        self._max = max_message_size
        self._buffer = bytearray()
        self._need = 0  # bytes the buffer must hold before its next frame is whole
        self._opcode = 0  # of the fragmented message in progress; 0: none
        self._parts: list[bytes] = []
        self._size = 0  # bytes of the fragmented message so far
        self._ended = False

    def receive(self, data: bytes) -> list[Event]:
        """The events completed by ``data``, in order (nothing after a close or a violation)."""
        if self._ended:
            return []
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._need:
                return []
            data = bytes(buffer)
            buffer.clear()
        events: list[Event] = []
        end = len(data)
        pos = need = 0
        while end - pos >= 2:
            first = data[pos]
            second = data[pos + 1]
            length = second & 0x7F
            start = pos + 2
            if length > 125:
                start += 2 if length == 126 else 8
                if start > end:
                    break
                length = int.from_bytes(data[pos + 2 : start], "big")
            if (
                (first != 0x81 and first != 0x82)
                or second & 0x80
                or self._opcode
                or length > self._max
            ):
                violation = self._check(first, second, length)
                if violation is not None:
                    return self._end(events, violation)
            stop = start + length
            if stop > end:
                need = stop - pos
                break
            payload = data[start:stop]
            pos = stop
            if first == 0x81:
                text = _text(payload)
                if isinstance(text, Violation):
                    return self._end(events, text)
                events.append(text)
            elif first == 0x82:
                events.append(payload)
            elif self._frame(first, payload, events):
                self._ended = True
                return events
        if pos < end:
            buffer += data[pos:]
        self._need = need  # 0: the header is not whole yet, look again at the next bytes
        return events

    def _end(self, events: list[Event], violation: Violation) -> list[Event]:
        """``events`` closed by ``violation``: nothing is decoded after it."""
        self._ended = True
        events.append(violation)
        return events

    def _check(self, first: int, second: int, length: int) -> Violation | None:
        """What the protocol forbids in a frame header, if anything."""
        if second & 0x80:
            return Violation(1002, "a masked frame from the server")
        if first & 0x70:
            return Violation(1002, "reserved bits set (no extension was agreed)")
        if length >> 63:
            return Violation(1002, "a 64-bit length with its top bit set")
        opcode = first & 0x0F
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                return Violation(1002, f"unknown opcode {opcode:#x}")
            if not first & 0x80:
                return Violation(1002, "a fragmented control frame")
            if length > _MAX_CONTROL:
                return Violation(1002, f"a control frame of {length} bytes (at most 125)")
            return None
        if opcode > OP_BINARY:
            return Violation(1002, f"unknown opcode {opcode:#x}")
        if opcode == OP_CONTINUATION and not self._opcode:
            return Violation(1002, "a continuation frame with no message to continue")
        if opcode != OP_CONTINUATION and self._opcode:
            return Violation(1002, "a new message before the fragmented one ended")
        if self._size + length > self._max:
            return Violation(
                1009, f"a message of over {self._max} bytes ({self._size + length} so far)"
            )
        return None

    def _frame(self, first: int, payload: bytes, events: list[Event]) -> bool:
        """Everything but a whole message in one frame; ``True`` after a close or a violation."""
        opcode = first & 0x0F
        if opcode == OP_PING:
            events.append(Ping(payload))
        elif opcode == OP_PONG:
            events.append(Pong(payload))
        elif opcode == OP_CLOSE:
            events.append(_close(payload))
            return True
        else:
            if opcode != OP_CONTINUATION:
                self._opcode = opcode
            self._parts.append(payload)
            self._size += len(payload)
            if first & 0x80:
                whole = b"".join(self._parts)
                message = _text(whole) if self._opcode == OP_TEXT else whole
                events.append(message)
                self._opcode, self._parts, self._size = 0, [], 0
                return isinstance(message, Violation)
        return False


def _close(payload: bytes) -> WsClose | Violation:
    if not payload:
        return WsClose(code=1005)
    if len(payload) == 1:
        return Violation(1002, "a close frame of one byte")
    code = int.from_bytes(payload[:2], "big")
    if not _closable(code):
        return Violation(1002, f"close code {code}, which no endpoint may send")
    reason = _text(payload[2:])
    if isinstance(reason, Violation):
        return reason
    return WsClose(code=code, reason=reason)
