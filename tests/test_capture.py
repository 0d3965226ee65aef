"""Capture files: our own format both ways, and the foreign formats replay reads."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import zstandard

from connector.capture import CaptureRecord, CaptureWriter, infer_venue_market, read_capture
from connector.errors import ConfigError
from tests.conftest import fixture_path

RECORDS = [
    CaptureRecord(
        t="connect",
        conn="binance-spot-0",
        ts_ns=1,
        venue="binance",
        market="spot",
        url="ws://127.0.0.1:9000/stream?streams=btcusdt@depth@100ms",
        data="",
    ),
    CaptureRecord(
        t="recv",
        conn="binance-spot-0",
        ts_ns=2,
        venue="binance",
        market="spot",
        url="ws://127.0.0.1:9000/stream?streams=btcusdt@depth@100ms",
        data='{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","s":"BTCUSDT"}}',
    ),
    CaptureRecord(
        t="http",
        conn="binance-spot-rest",
        ts_ns=3,
        venue="binance",
        market="spot",
        url="http://127.0.0.1:9001/api/v3/depth?symbol=BTCUSDT&limit=1000",
        data='{"lastUpdateId":7,"bids":[["1.0","2"]],"asks":[]}',
    ),
    CaptureRecord(
        t="send",
        conn="okx-spot-0",
        ts_ns=4,
        venue="okx",
        market="spot",
        url="ws://127.0.0.1:9002/ws/v5/public",
        data='{"op":"subscribe","args":[{"channel":"books","instId":"BTC-USDT"}]}\u00e9',
    ),
    CaptureRecord(
        t="disconnect",
        conn="okx-spot-0",
        ts_ns=5,
        venue="okx",
        market="spot",
        url="ws://127.0.0.1:9002/ws/v5/public",
        data="1006 abnormal closure",
    ),
]


@pytest.mark.parametrize("name", ["capture.jsonl", "capture.jsonl.zst"])
def test_writer_then_reader_round_trips_every_record(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with CaptureWriter(path) as writer:
        for record in RECORDS:
            writer.write(record)

    assert len(RECORDS) == writer.records
    assert RECORDS == list(read_capture(path))


def test_zst_capture_is_compressed_and_plain_capture_is_text(tmp_path: Path) -> None:
    plain, packed = tmp_path / "c.jsonl", tmp_path / "c.jsonl.zst"
    for path in (plain, packed):
        with CaptureWriter(path) as writer:
            for _ in range(200):
                for record in RECORDS:
                    writer.write(record)

    assert plain.read_text(encoding="utf-8").startswith('{"t":"connect"')
    assert packed.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd magic number
    assert packed.stat().st_size < plain.stat().st_size / 10


def test_reader_overrides_venue_and_market_when_given(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path) as writer:
        writer.write(RECORDS[1])

    (record,) = read_capture(path, venue="bybit", market="linear")

    assert ("bybit", "linear", RECORDS[1].data) == (record.venue, record.market, record.data)


def test_cryptofeed_v3_jsonl_zst_infers_venue_and_market_from_the_urls() -> None:
    records = list(read_capture(fixture_path("cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst")))

    counts = collections.Counter((r.t, r.venue, r.market) for r in records)

    assert {
        ("http", "bybit", "linear"): 1,
        ("http", "bybit", "spot"): 1,
        ("connect", "bybit", "linear"): 1,
        ("connect", "bybit", "spot"): 1,
        ("send", "bybit", "linear"): 8,
        ("send", "bybit", "spot"): 3,
        ("recv", "bybit", "linear"): 1312,
        ("recv", "bybit", "spot"): 374,
    } == dict(counts)


def test_cryptofeed_v3_recv_records_inherit_their_connections_url() -> None:
    records = list(read_capture(fixture_path("cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst")))

    urls = {(r.conn, r.url) for r in records if r.t == "recv"}

    assert {
        ("BYBIT.ws.2", "wss://stream.bybit.com/v5/public/linear"),
        ("BYBIT.ws.3", "wss://stream.bybit.com/v5/public/spot"),
    } == urls
    first = next(r for r in records if r.t == "recv")
    assert 1786310819 == first.ts_ns // 1_000_000_000  # float seconds became ns


def test_hftbacktest_gz_lines_read_with_the_venue_and_market_given() -> None:
    path = fixture_path("hftbacktest/examples/spot/btcusdt_20240808.gz")

    records = list(read_capture(path, venue="binance", market="spot"))

    assert 41249 == len(records)
    assert {("recv", "binance", "spot", "")} == {(r.t, r.venue, r.market, r.url) for r in records}
    assert 1 == sum(r.data.startswith('{"lastUpdateId"') for r in records)
    assert all(r.ts_ns > 1_700_000_000 * 10**9 for r in records)


def test_cryptofeed_text_capture_reads_connect_and_received_frames() -> None:
    records = list(read_capture(fixture_path("cryptofeed/master/sample_data/OKX-dev.ws.1.0")))

    assert "connect" == records[0].t
    assert (
        {("recv", "okx", "wss://ws.okx.com:8443/ws/v5/public")}
        == {  # the 2022 port
            (r.t, r.venue, r.url) for r in records[1:]
        }
    )
    assert 309 == len(records) - 1
    assert records[1].data.startswith('{"event":"subscribe"')
    assert 1652459225503749120 == pytest.approx(records[1].ts_ns, abs=1000)


def test_cryptofeed_text_capture_reads_rest_lines_and_skips_the_configuration() -> None:
    (record,) = read_capture(fixture_path("cryptofeed/master/sample_data/BINANCE.0"))

    assert ("http", "binance", "spot") == (record.t, record.venue, record.market)
    assert "https://api.binance.com/api/v3/exchangeInfo" == record.url
    assert record.data.startswith('{"timezone":"UTC"')


def test_cryptofeed_text_capture_reads_sent_frames(tmp_path: Path) -> None:
    path = tmp_path / "BINANCE.ws.1.0"
    url = "wss://fstream.binance.com/stream?streams=btcusdt@depth"
    path.write_text(
        f'{url} <-> 1.5\n{url} <- 2.25: {{"method":"SUBSCRIBE"}}\n3.0: {{"a":1}}\n',
        encoding="utf-8",
    )

    records = list(read_capture(path))

    assert [
        ("connect", 1_500_000_000, "", "linear"),
        ("send", 2_250_000_000, '{"method":"SUBSCRIBE"}', "linear"),
        ("recv", 3_000_000_000, '{"a":1}', "linear"),
    ] == [(r.t, r.ts_ns, r.data, r.market) for r in records]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("wss://stream.binance.com:9443/stream?streams=btcusdt@depth", ("binance", "spot")),
        ("https://api.binance.com/api/v3/depth?symbol=BTCUSDT", ("binance", "spot")),
        ("wss://fstream.binance.com/stream?streams=btcusdt@depth", ("binance", "linear")),
        ("https://fapi.binance.com/fapi/v1/depth?symbol=BTCUSDT", ("binance", "linear")),
        ("wss://fstream.binancefuture.com/stream", ("binance", "linear")),
        ("wss://stream.bybit.com/v5/public/linear", ("bybit", "linear")),
        ("wss://stream.bybit.com/v5/public/spot", ("bybit", "spot")),
        ("https://api.bybit.com/v5/market/instruments-info?&category=linear", ("bybit", "linear")),
        ("wss://ws.okx.com/ws/v5/public", ("okx", "")),
        ("wss://ws.okx.com:8443/ws/v5/public", ("okx", "")),  # older captures' port
        ("https://www.okx.com/api/v5/public/instruments?instType=SWAP", ("okx", "swap")),
        ("ws://127.0.0.1:9000/ws", ("", "")),
        ("", ("", "")),
    ],
)
def test_infer_venue_market_from_real_venue_urls(url: str, expected: tuple[str, str]) -> None:
    assert expected == infer_venue_market(url)


def test_reading_a_missing_file_raises_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"

    with pytest.raises(ConfigError, match=r"nope\.jsonl"):
        list(read_capture(path))


@pytest.mark.parametrize(
    "bad",
    ['{"t":"recv","conn":"0","data":"x"', '{"conn":"0","data":"x"}', "hello world", "12ab {}"],
)
def test_a_bad_line_raises_config_error_naming_file_and_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "broken.jsonl"
    with CaptureWriter(path) as writer:
        writer.write(RECORDS[0])
        writer.write(RECORDS[1])
    with path.open("a", encoding="utf-8") as fh:
        fh.write(bad + "\n")

    with pytest.raises(ConfigError, match=r"broken\.jsonl:3"):
        list(read_capture(path))


@pytest.mark.parametrize("name", ["capture.jsonl", "capture.jsonl.zst"])
def test_a_last_line_cut_short_is_left_out_and_the_rest_read(tmp_path: Path, name: str) -> None:
    # A recording killed mid-write ends in part of a line, without its newline.
    whole = tmp_path / ("whole-" + name)
    with CaptureWriter(whole) as writer:
        for record in RECORDS:
            writer.write(record)
    text = (
        b"".join(zstandard.ZstdDecompressor().read_to_iter(whole.read_bytes()))
        if (name.endswith(".zst"))
        else whole.read_bytes()
    )
    cut = text[: text.rindex(b"\n", 0, len(text) - 1) + 12]  # 11 bytes of the last line
    path = tmp_path / name
    path.write_bytes(zstandard.ZstdCompressor().compress(cut) if name.endswith(".zst") else cut)

    assert RECORDS[:-1] == list(read_capture(path))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("random.bin", bytes(range(256)) * 4, r"random\.bin: not a capture file"),
        ("plain.jsonl.zst", b'{"t":"recv"}\n', r"plain\.jsonl\.zst: not a zstd capture file"),
        ("zst.jsonl", zstandard.ZstdCompressor().compress(b"x" * 100), r"not a capture file"),
    ],
)
def test_a_file_that_is_no_capture_is_named(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ConfigError, match=expected):
        list(read_capture(path))
    with pytest.raises(ConfigError, match="is a directory"):
        list(read_capture(tmp_path))


def test_blank_lines_and_cryptofeed_headers_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"t":"header","format":2,"exchange":"BYBIT"}\n\n' + RECORDS[1].to_json() + "\n",
        encoding="utf-8",
    )

    assert [RECORDS[1]] == list(read_capture(path))


def _frame_record(n: int, **fields: object) -> CaptureRecord:
    values: dict[str, object] = {
        "t": "recv",
        "conn": "binance-linear-1",
        "ts_ns": n,
        "venue": "binance",
        "market": "linear",
        "url": "wss://fstream.binance.com/stream?streams=btcusdt@depth@0ms",
        "data": f'{{"stream":"btcusdt@depth@0ms","data":{{"u":{n},"b":[["1.5","2"]]}}}}'
        + "x" * 300,
    }
    values.update(fields)
    return CaptureRecord(**values)  # type: ignore[arg-type]


def test_a_capture_of_many_chunks_reads_every_record_in_order(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    records = [_frame_record(n) for n in range(8_000)]  # about 3.5 MiB: several chunks
    with CaptureWriter(path) as writer:
        for record in records:
            writer.write(record)
    assert records == list(read_capture(path))


def test_a_bad_line_after_many_chunks_is_named_by_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [_frame_record(n).to_json() for n in range(8_000)]
    lines[6_999] = '{"t": "recv", "conn": "x", "data": '
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"bad\.jsonl:7000: not JSON"):
        list(read_capture(path))


def test_records_without_venue_market_or_url_take_them_from_their_connection(
    tmp_path: Path,
) -> None:
    path = tmp_path / "partial.jsonl"
    url = "wss://stream.bybit.com/v5/public/linear"
    with CaptureWriter(path) as writer:
        writer.write(_frame_record(1, conn="c1", venue="", market="", url=url))
        writer.write(_frame_record(2, conn="c1", venue="", market="", url=""))
        writer.write(_frame_record(3, conn="c2", venue="okx", market="", url=""))
    first, second, third = read_capture(path)
    assert ("bybit", "linear", url) == (first.venue, first.market, first.url)
    assert ("bybit", "linear", url) == (second.venue, second.market, second.url)
    assert ("okx", "", "") == (third.venue, third.market, third.url)


def test_a_bad_line_is_named_by_its_number_counting_blank_lines_of_compressed_chunks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.jsonl.zst"
    lines = [_frame_record(n).to_json() for n in range(8_000)]
    lines[10] = ""  # blank lines in the first chunks, read in one decode each
    lines[3_000] = ""
    lines[6_999] = '{"t": "recv", "conn": "x", "data": '
    with path.open("wb") as raw:
        raw.write(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(ConfigError, match=r"bad\.jsonl\.zst:7000: not JSON"):
        list(read_capture(path))
