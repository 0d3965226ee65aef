"""HTTP/1.1 for the REST clients, sans-I/O: request bytes out, response bytes in.

Only what a venue's REST API needs (RFC 9112): a request with a ``Content-Length``
body; a response framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or
the end of the connection; interim ``1xx`` answers skipped; ``gzip`` and
``deflate`` bodies decoded. No I/O, clocks or randomness: the connection pool
(:mod:`connector.net.pool`) feeds :class:`ResponseParser` what it reads and
writes what :func:`encode_request` makes. What is not HTTP/1.1 (or stops
mid-way) raises :class:`ValueError`; the pool reports it as a lost connection.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping

__all__ = ["Head", "ResponseParser", "decode_body", "encode_request", "parse_head"]

_MAX_HEAD = 64 * 1024
"""Bytes of status line and headers at most (a venue's are a few hundred)."""

_MAX_CHUNK_LINE = 4 * 1024

_SPLITS_LINE = re.compile(r"[ \r\n]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""A header name (RFC 9110 section 5.1: a token)."""
_NOT_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")
"""What a header value cannot carry: a control character but tab (RFC 9110 section 5.5),
or a character that is not Latin-1 (one byte on the wire)."""


class Head:
    """A response's status line and headers.

    Attributes:
        status: The status code.
        headers: Name (lower case) -> value; repeated names joined with ``", "``
            (as httpx's ``dict(response.headers)`` does).
        keep_alive: Whether the connection may carry another request afterwards.
    """

    __slots__ = ("headers", "keep_alive", "status")

    def __init__(self, status: int, headers: dict[str, str], keep_alive: bool) -> None:
        self.status = status
        self.headers = headers
        self.keep_alive = keep_alive


def encode_request(
    method: str, target: str, headers: Iterable[tuple[str, str]], body: bytes | None
) -> bytes:
    """The bytes of one request: ``target`` is the path and query (``/v5/order?x=1``).

    ``Content-Length`` is added for a body (and for an empty ``POST``/``PUT``, which
    some servers want); the caller gives ``Host`` and everything else.

    Raises:
        ValueError: the method or the target holds a character that would split
            the request (CR, LF, or a space), a header name is not a token, or a
            header value holds a control character or one that is not Latin-1.
            The message names the header, never its value: values carry API keys
            and passphrases.
    """
    if not method.isalpha() or _SPLITS_LINE.search(target):
        raise ValueError(f"not a request line: {method!r} {target!r}")
    lines = [f"{method} {target} HTTP/1.1"]
    for name, value in headers:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"not a header name: {name!r}")
        bad = _NOT_IN_VALUE.search(value)
        if bad is not None:
            raise ValueError(f"header {name}: {_unsendable(bad.group(), bad.start(), len(value))}")
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    lines.append("\r\n")
    head = "\r\n".join(lines).encode("latin-1")
    return head + body if body else head


def _unsendable(char: str, index: int, length: int) -> str:
    """What is wrong with a header value, without the value."""
    if char in "\r\n":
        what = "a line break"
    elif ord(char) > 0xFF:
        what = "a character that is not Latin-1"
    else:
        what = f"a control character (0x{ord(char):02x})"
    where = "at its end" if index == length - 1 else "at its start" if index == 0 else "inside"
    return f"the value has {what} {where} (value not shown)"


def decode_body(headers: Mapping[str, str], body: bytes) -> bytes:
    """``body`` without its ``Content-Encoding`` (gzip, deflate or identity).

    Raises:
        ValueError: an encoding other than those, or a body it does not decode.
    """
    encoding = headers.get("content-encoding", "").strip().lower()
    if not encoding or encoding == "identity" or not body:
        return body
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, wbits=16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, wbits=-zlib.MAX_WBITS)  # raw deflate
    except zlib.error as exc:
        raise ValueError(f"a {encoding} body that does not decode: {exc}") from exc
    raise ValueError(f"an unsupported content-encoding: {encoding!r}")


def parse_head(head: bytes | bytearray) -> tuple[str, int, dict[str, str]]:
    """A response's version, status and headers, from its status line and header
    lines (without the blank line that ends them).

    Headers: name (lower case) -> value; repeated names joined with ``", "``.

    Raises:
        ValueError: not an HTTP/1.x status line, or a malformed header line.
    """
    status_line, *lines = bytes(head).decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"not an HTTP/1.1 status line: {status_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise ValueError(f"not a header line: {line[:100]!r}")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return version, int(code), headers


class ResponseParser:
    """Reads one response to one request from the bytes of a connection.

    Feed it with :meth:`receive` (``b""`` when the peer closed) until
    :attr:`done`; :attr:`head` is set as soon as the status line and headers are
    in (the moment the wire time of the answer is taken).

    Args:
        head_request: The request was a ``HEAD`` (its answer has no body).
    """

    def __init__(self, *, head_request: bool = False) -> None:
        self._head_request = head_request
        self._buffer = bytearray()
        self._body = bytearray()
        self.head: Head | None = None
        self.done = False
        self._mode = ""  # "length", "chunked", "close" once the head is in
        self._left = 0  # length: bytes still to come; chunked: of the current chunk
        self._chunk_state = "size"  # size, data, crlf, trailer
        self._closed = False

    @property
    def body(self) -> bytes:
        """The body as received (still content-encoded); complete once :attr:`done`."""
        return bytes(self._body)

    @property
    def pending(self) -> int:
        """Bytes received past the end of the response (a server may not send any)."""
        return len(self._buffer)

    def receive(self, data: bytes | bytearray) -> None:
        """Take the next bytes read from the connection (``b""``: the peer closed it).

        Raises:
            ValueError: not an HTTP/1.1 response, or the connection closed
                before the response was complete.
        """
        if self.done:
            self._buffer += data
            return
        if not data:
            self._closed = True
        self._buffer += data
        while not self.done:
            if self.head is None:
                if not self._read_head():
                    break
            elif not self._read_body():
                break
        if self._closed and not self.done:
            if self.head is None:
                raise ValueError("the connection closed before a response came")
            raise ValueError("the connection closed in the middle of the response body")

    # -- head -------------------------------------------------------------------

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise ValueError(f"response headers longer than {_MAX_HEAD} bytes")
            return False
        version, status, headers = parse_head(self._buffer[:end])
        del self._buffer[: end + 4]
        if 100 <= status < 200:
            return True  # interim (100 Continue, 103 Early Hints): the real answer follows
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.1":
            keep_alive = "close" not in connection
        else:
            keep_alive = "keep-alive" in connection
        encoding = headers.get("transfer-encoding", "").lower()
        if self._head_request or status in (204, 304):
            self._mode, self._left = "length", 0
        elif encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                raise ValueError(f"an unsupported transfer-encoding: {encoding!r}")
            self._mode = "chunked"
        elif "content-length" in headers:
            length = headers["content-length"].split(",")[0].strip()
            if not length.isdigit():
                raise ValueError(f"not a content-length: {headers['content-length']!r}")
            self._mode, self._left = "length", int(length)
        else:
            self._mode, keep_alive = "close", False  # the body runs to the end
        self.head = Head(status, headers, keep_alive)
        if self._mode == "length" and self._left == 0:
            self.done = True
        return True

    # -- body -------------------------------------------------------------------

    def _read_body(self) -> bool:
        if self._mode == "length":
            take = min(self._left, len(self._buffer))
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._left -= take
            self.done = self._left == 0
            return False
        if self._mode == "close":
            self._body += self._buffer
            self._buffer.clear()
            self.done = self._closed
            return False
        return self._read_chunk()

    def _read_chunk(self) -> bool:
        """One step of chunked decoding; ``False`` when more bytes are needed."""
        if self._chunk_state in ("size", "trailer"):
            end = self._buffer.find(b"\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_CHUNK_LINE:
                    raise ValueError("a chunk-size or trailer line too long")
                return False
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 2]
            if self._chunk_state == "trailer":
                if not line:
                    self.done = True
                return True
            size = line.split(b";", 1)[0].strip()
            try:
                self._left = int(size, 16)
            except ValueError:
                raise ValueError(f"not a chunk size: {line[:40]!r}") from None
            self._chunk_state = "data" if self._left else "trailer"
            return True
        if self._chunk_state == "data":
            take = min(self._left, len(self._buffer))
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._left -= take
            if self._left:
                return False
            self._chunk_state = "crlf"
            return True
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != b"\r\n":
            raise ValueError("a chunk not followed by CRLF")
        del self._buffer[:2]
        self._chunk_state = "size"
        return True
