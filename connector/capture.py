"""Capture files: what ``connector record`` writes and ``connector replay`` reads.

One JSON object per line (design.md section 5)::

    {"t": "recv"|"send"|"http"|"connect"|"disconnect", "conn": "<id>", "ts_ns": <int>,
     "venue": "...", "market": "...", "url": "...", "data": "<raw text>"}

A name ending in ``.zst`` is zstd-compressed. The reader also takes
cryptofeed's JSON Lines captures (``{"t", "conn", "ts", "addr"|"url", "data"}``,
``.jsonl`` or ``.jsonl.zst``; venue and market inferred from the URLs),
cryptofeed's older text captures (below) and hftbacktest's ``<ns> <json>``
lines (gzip), for which the venue and market must be given.

cryptofeed's text format (its ``sample_data/*.ws.*``, ``*.http.*`` and ``*.0``
files; timestamps are float seconds)::

    <ws url> <-> <ts>            connect (later received frames belong to this URL)
    <ws url> <- <ts>: <json>     a frame we sent
    <ts>: <json>                 a frame received
    <url> -> <ts>: <body>        a REST response
    configuration: <json>        cryptofeed's settings (skipped)
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, cast
from urllib.parse import parse_qs, urlsplit

import msgspec
import structlog
import zstandard

from connector.errors import ConfigError

__all__ = [
    "CaptureRecord",
    "CaptureWriter",
    "infer_venue_market",
    "read_capture",
    "read_capture_batches",
]

log = structlog.get_logger(__name__)


class CaptureRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One line of a capture: a frame, an HTTP body, or a connection change.

    A frozen ``msgspec.Struct``: the reader decodes a line of our own format
    straight into it in one typed pass (``data`` is unescaped once, into the
    text the venue sent, and decoded by the venue's parser only).
    """

    t: str
    conn: str
    ts_ns: int
    venue: str
    market: str
    url: str
    data: str

    def to_json(self) -> str:
        """The record as one line of JSON (no newline), fields in the order above."""
        return _encode(self).decode()


_encode = msgspec.json.Encoder().encode
_decode_records = msgspec.json.Decoder(CaptureRecord).decode_lines
_CHUNK = 1 << 20
"""Bytes of a capture read and decoded at a time (whole lines)."""


class CaptureWriter:
    """Appends records to a capture file (zstd when the name ends in ``.zst``).

    Writes are buffered; :meth:`close` flushes. Not thread-safe: one owner.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        raw = self.path.open("wb")
        self._raw = raw
        if self.path.name.endswith(".zst"):
            self._zst: zstandard.ZstdCompressionWriter | None = zstandard.ZstdCompressor(
                level=3
            ).stream_writer(raw)
            binary: IO[bytes] = self._zst
        else:
            self._zst = None
            binary = raw
        self._text = io.TextIOWrapper(binary, encoding="utf-8", write_through=False)
        self.records = 0

    def write(self, record: CaptureRecord) -> None:
        self._text.write(record.to_json())
        self._text.write("\n")
        self.records += 1

    def close(self) -> None:
        """Flush and close; closing twice is harmless, writing after it is an error."""
        if self._text.closed:
            return
        self._text.flush()
        if self._zst is not None:
            self._zst.flush(zstandard.FLUSH_FRAME)
        self._text.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@lru_cache(maxsize=1024)
def infer_venue_market(url: str) -> tuple[str, str]:
    """The venue and market a real venue URL belongs to; ``("", "")`` if unknown.

    OKX serves every market on one socket: its market is ``""`` and comes from
    each message's ``instId``. Answers are cached (a capture repeats a few URLs).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path
    if "binance" in host:
        linear = host.startswith(("fstream", "fapi", "dstream")) or "binancefuture" in host
        return "binance", "linear" if linear else "spot"
    if "bybit" in host:
        for market in ("spot", "linear", "inverse", "option"):
            if path.endswith("/" + market):
                return "bybit", market
        category = parse_qs(parts.query).get("category", [""])[0]
        return "bybit", category
    if "okx" in host or "okex" in host:
        inst_type = parse_qs(parts.query).get("instType", [""])[0].lower()
        return "okx", inst_type
    return "", ""


def read_capture(
    path: str | Path, *, venue: str | None = None, market: str | None = None
) -> Iterator[CaptureRecord]:
    """Yield the records of a capture file, in file order.

    Lines of our own format are decoded a chunk of whole lines at a time, each
    straight into a :class:`CaptureRecord` (one typed ``msgspec`` pass); a
    chunk with any other line (a foreign format, a header, a record without
    venue, market or URL, a bad line) is read line by line as before.

    Args:
        path: Our format, cryptofeed JSON Lines, or hftbacktest ``<ns> <json>``
            (plain, ``.gz`` or ``.zst``).
        venue: Overrides (or supplies, for hftbacktest) each record's venue.
        market: Likewise for the market.

    Raises:
        ConfigError: the file is missing or a line is not a capture record.
    """
    for batch in read_capture_batches(path, venue=venue, market=market):
        yield from batch


def read_capture_batches(
    path: str | Path, *, venue: str | None = None, market: str | None = None
) -> Iterator[list[CaptureRecord]]:
    """The records of :func:`read_capture`, a list per chunk of the file (about 1 MiB).

    For a reader that goes through every record (``connector replay``): a loop
    over each list costs less than a generator step per record.

    Raises:
        ConfigError: as :func:`read_capture`.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"capture file {str(path)!r} does not exist")
    if path.is_dir():
        raise ConfigError(f"capture file {str(path)!r} is a directory")
    batches = _batches(path)
    if venue is None and market is None:
        yield from batches
        return
    replace = msgspec.structs.replace
    for batch in batches:
        yield [
            replace(
                record,
                venue=venue if venue is not None else record.venue,
                market=market if market is not None else record.market,
            )
            for record in batch
        ]


def _batches(path: Path) -> Iterator[list[CaptureRecord]]:
    try:
        yield from _read_batches(path)
    except (zstandard.ZstdError, OSError, EOFError, UnicodeDecodeError) as exc:
        kind = (
            "zstd " if path.name.endswith(".zst") else "gzip " if path.name.endswith(".gz") else ""
        )
        raise ConfigError(
            f"{path}: not a {kind}capture file (JSON lines of UTF-8 text): {exc}"
        ) from None


def _read_batches(path: Path) -> Iterator[list[CaptureRecord]]:
    conn_urls: dict[str, str] = {}
    offset = 0  # bytes of the file before the current chunk
    number: int | None = None  # lines before it, counted once a chunk needs them
    with _open_binary(path) as stream:
        rest = b""
        while True:
            block = stream.read(_CHUNK)
            if not block:
                chunk, rest = rest, b""
                if chunk and offset and _torn(chunk, conn_urls, path):
                    return
            else:
                cut = block.rfind(b"\n")
                if cut < 0:
                    rest += block
                    continue
                chunk, rest = rest + block[: cut + 1], block[cut + 1 :]
            if not chunk:
                return
            batch = _decoded(chunk, conn_urls)
            if batch is None:
                # Line by line, naming a bad line by its number: the lines before
                # it are counted now (from the start of the file the first time).
                if number is None:
                    number = _lines_before(path, offset)
                batch = _parsed(chunk, conn_urls, path, number)
            if number is not None:
                number += chunk.count(b"\n")
            offset += len(chunk)
            if batch:
                yield batch


def _torn(line: bytes, conn_urls: dict[str, str], path: Path) -> bool:
    """Whether the file's last line, which has no newline, is cut short (a recording
    killed mid-write; lines came before it): it is then left out, with a warning, and
    what came before stays."""
    try:
        _parsed(line, dict(conn_urls), path, 0)
    except (ConfigError, UnicodeDecodeError):
        log.warning("capture.last_line_cut", path=str(path), length=len(line))
        return True
    return False


def _lines_before(path: Path, offset: int) -> int:
    """Lines in the first ``offset`` bytes of the file (uncompressed)."""
    lines = 0
    with _open_binary(path) as stream:
        while offset > 0:
            block = stream.read(min(offset, _CHUNK))
            if not block:
                break
            lines += block.count(b"\n")
            offset -= len(block)
    return lines


def _decoded(chunk: bytes, conn_urls: dict[str, str]) -> list[CaptureRecord] | None:
    """The records of a chunk of whole lines when every line is in our format; else None.

    One typed decode of the whole chunk (a record without URL, venue or market
    takes them from its connection's URL, as :func:`_parsed` does).
    """
    try:
        records = _decode_records(chunk)
    except (msgspec.DecodeError, ValueError):
        return None
    for k, record in enumerate(records):
        # Records of our format with a URL, a venue and a market (every record
        # `connector record` writes) stay as decoded; the loop only looks.
        if record.url and record.venue and record.market and record.t != "header":
            conn = record.conn
            if conn and conn not in conn_urls:
                conn_urls[conn] = record.url
            continue
        return records[:k] + list(_completed(records[k:], conn_urls))
    return records


def _parsed(
    chunk: bytes, conn_urls: dict[str, str], path: Path, number: int
) -> list[CaptureRecord]:
    """The records of the whole lines ``number + 1, ...`` of a file, line by line:
    every format is read, and a bad line is named."""
    out = []
    for offset, line in enumerate(chunk.decode("utf-8").split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        parsed = _parse_line(line, conn_urls, path, number + offset)
        if parsed is not None:
            out.append(parsed)
    return out


def _completed(records: list[CaptureRecord], conn_urls: dict[str, str]) -> Iterator[CaptureRecord]:
    """Records of our format, headers left out, each with its connection's URL, venue
    and market when it lacks them (inferred from the URL)."""
    for record in records:
        if record.t == "header":
            continue
        conn = record.conn
        url = record.url
        if url:
            if conn and conn not in conn_urls:
                conn_urls[conn] = url
            if record.venue and record.market:
                yield record
                continue
        else:
            url = conn_urls.get(conn, "")
        venue, market = infer_venue_market(url)
        yield msgspec.structs.replace(
            record, url=url, venue=record.venue or venue, market=record.market or market
        )


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)
        return cast(IO[bytes], reader)
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _parse_line(
    line: str, conn_urls: dict[str, str], path: Path, number: int
) -> CaptureRecord | None:
    if line[0] != "{":
        stamp, _, data = line.partition(" ")
        if "://" in stamp or stamp.endswith(":"):
            return _parse_text_line(line, conn_urls, path, number)
        # hftbacktest: "<local_ns> <json>"
        if not stamp.isdigit() or not data:
            raise ConfigError(f"{path}:{number}: not a capture record: {line[:80]!r}")
        return CaptureRecord(
            t="recv", conn="0", ts_ns=int(stamp), venue="", market="", url="", data=data
        )
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{number}: not JSON: {exc}") from None
    kind = obj.get("t")
    if kind == "header":
        return None
    if not isinstance(kind, str):
        raise ConfigError(f"{path}:{number}: capture record without a 't' field")
    conn = str(obj.get("conn", ""))
    url = obj.get("url") or obj.get("addr") or conn_urls.get(conn, "")
    if url and conn:
        conn_urls.setdefault(conn, url)
    if "ts_ns" in obj:
        ts_ns = int(obj["ts_ns"])
    else:
        ts_ns = round(float(obj.get("ts", 0)) * 1e9)
    inferred_venue, inferred_market = infer_venue_market(url)
    return CaptureRecord(
        t=kind,
        conn=conn,
        ts_ns=ts_ns,
        venue=obj.get("venue") or inferred_venue,
        market=obj.get("market") or inferred_market,
        url=url,
        data=obj.get("data") or "",
    )


_TEXT_CONN = "text"
_TEXT_KINDS = {"<->": "connect", "<-": "send", "->": "http"}


def _parse_text_line(
    line: str, conn_urls: dict[str, str], path: Path, number: int
) -> CaptureRecord | None:
    """One line of cryptofeed's text capture format (see the module docstring)."""
    if line.startswith("configuration: "):
        return None
    if line[0].isdigit():
        kind, url = "recv", conn_urls.get(_TEXT_CONN, "")
        stamp, _, data = line.partition(": ")
    else:
        url, _, rest = line.partition(" ")
        arrow, _, rest = rest.partition(" ")
        found = _TEXT_KINDS.get(arrow)
        if found is None:
            raise ConfigError(f"{path}:{number}: not a capture record: {line[:80]!r}")
        kind = found
        stamp, _, data = rest.partition(": ")
        if kind == "connect":
            conn_urls[_TEXT_CONN] = url  # a new connection: later frames are its
    try:
        ts_ns = round(float(stamp) * 1e9)
    except ValueError:
        raise ConfigError(f"{path}:{number}: bad timestamp {stamp[:40]!r}") from None
    if kind != "connect" and not data:
        raise ConfigError(f"{path}:{number}: not a capture record: {line[:80]!r}")
    venue, market = infer_venue_market(url)
    return CaptureRecord(
        t=kind,
        conn="http" if kind == "http" else _TEXT_CONN,
        ts_ns=ts_ns,
        venue=venue,
        market=market,
        url=url,
        data=data,
    )
