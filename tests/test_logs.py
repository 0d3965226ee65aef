"""Logging setup: JSON lines, console on a terminal, level filter, secret redaction."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connector import logs
from connector.errors import ConfigError


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logs.reset_logging()
    logs.clear_secrets()


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_output_is_one_parseable_object_per_event() -> None:
    stream = io.StringIO()
    logs.configure_logging("info", "json", stream=stream)
    log = structlog.get_logger("tests.logs")

    log.info("book.gap", venue="binance", expected=5, got=7)
    log.warning("ws.reconnect", attempt=2)

    first, second = json_lines(stream)
    assert "book.gap" == first["event"]
    assert "info" == first["level"]
    assert "tests.logs" == first["logger"]
    assert "binance" == first["venue"]
    assert 7 == first["got"]
    assert "warning" == second["level"]
    timestamp = dt.datetime.fromisoformat(str(first["timestamp"]).replace("Z", "+00:00"))
    assert dt.timedelta(0) == timestamp.utcoffset()


def test_auto_format_is_json_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    logs.configure_logging(stream=stream)

    structlog.get_logger("tests.logs").info("auto.json")

    assert "auto.json" == json_lines(stream)[0]["event"]


def test_auto_format_is_console_on_a_terminal() -> None:
    stream = TtyStream()
    logs.configure_logging("info", "auto", stream=stream)

    structlog.get_logger("tests.logs").info("auto.console", venue="okx")

    text = stream.getvalue()
    assert "auto.console" in text
    assert "venue" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_events_below_the_level_are_dropped() -> None:
    stream = io.StringIO()
    logs.configure_logging("warning", "json", stream=stream)
    log = structlog.get_logger("tests.logs")

    log.debug("dropped.debug")
    log.info("dropped.info")
    log.warning("kept.warning")
    log.error("kept.error")

    assert ["kept.warning", "kept.error"] == [e["event"] for e in json_lines(stream)]


def test_reconfiguring_changes_the_level_of_existing_loggers() -> None:
    log = structlog.get_logger("tests.logs")
    stream = io.StringIO()
    logs.configure_logging("info", "json", stream=stream)
    log.debug("hidden")
    logs.configure_logging("debug", "json", stream=stream)
    log.debug("shown")

    assert ["shown"] == [e["event"] for e in json_lines(stream)]


def test_configuring_twice_does_not_duplicate_stdlib_output() -> None:
    stream = io.StringIO()
    logs.configure_logging("info", "json", stream=stream)
    logs.configure_logging("info", "json", stream=stream)

    logging.getLogger("httpx").info("HTTP Request: GET %s", "https://x/api?signature=abc123")

    (event,) = json_lines(stream)
    assert "HTTP Request: GET https://x/api?signature=***" == event["event"]
    assert "httpx" == event["logger"]
    assert "info" == event["level"]


def test_registered_secret_is_redacted_even_inside_another_string() -> None:
    stream = io.StringIO()
    logs.configure_logging("info", "json", stream=stream)
    logs.register_secret("s3cr3t-value")

    structlog.get_logger("tests.logs").info(
        "rest.request",
        url="https://api/x?key=s3cr3t-value&a=1",
        note=["prefix-s3cr3t-value-suffix"],
    )

    (event,) = json_lines(stream)
    assert "https://api/x?key=***&a=1" == event["url"]
    assert ["prefix-***-suffix"] == event["note"]
    assert "s3cr3t-value" not in stream.getvalue()


def test_secret_inside_an_exception_traceback_is_redacted() -> None:
    stream = io.StringIO()
    logs.configure_logging("info", "json", stream=stream)
    logs.register_secret("trace-secret-9")
    log = structlog.get_logger("tests.logs")

    try:
        raise RuntimeError("bad key trace-secret-9")
    except RuntimeError:
        log.exception("rest.failed")

    (event,) = json_lines(stream)
    assert "RuntimeError: bad key ***" in str(event["exception"])
    assert "trace-secret-9" not in stream.getvalue()


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "api_secret",
        "secret",
        "passphrase",
        "signature",
        "password",
        "dsn",
        "postgres_dsn",
        "authorization",
        "X-MBX-APIKEY",
        "X-BAPI-SIGN",
        "OK-ACCESS-PASSPHRASE",
    ],
)
def test_values_of_secret_keys_are_redacted(key: str) -> None:
    event = logs.redact_secrets(None, "info", {"event": "x", key: "plain-value"})

    assert {"event": "x", key: "***"} == event


def test_secret_keys_nested_in_mappings_are_redacted() -> None:
    headers = {"X-MBX-APIKEY": "k", "Content-Type": "application/json"}

    event = logs.redact_secrets(None, "info", {"event": "x", "headers": headers})

    assert {"X-MBX-APIKEY": "***", "Content-Type": "application/json"} == event["headers"]


def test_inline_parameters_and_url_passwords_are_redacted() -> None:
    event = logs.redact_secrets(
        None,
        "info",
        {
            "event": "x",
            "query": "symbol=BTCUSDT&timestamp=1&signature=9f86d081",
            "body": '{"apiKey": "abcd", "op": "login"}',
            "target": "postgresql://user:hunter22@db:5432/x",
        },
    )

    assert "symbol=BTCUSDT&timestamp=1&signature=***" == event["query"]
    assert '{"apiKey": "***", "op": "login"}' == event["body"]
    assert "postgresql://user:***@db:5432/x" == event["target"]


def test_ordinary_values_pass_unchanged() -> None:
    event = {"event": "book.gap", "venue": "binance", "expected": 5, "symbol": "BTC-USDT-SPOT"}

    assert dict(event) == logs.redact_secrets(None, "info", dict(event))


def test_very_short_values_are_not_registered() -> None:
    logs.register_secret("ab")

    assert {"event": "x", "v": "ab cab"} == logs.redact_secrets(
        None, "info", {"event": "x", "v": "ab cab"}
    )


def test_unknown_level_or_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="log level 'loud'"):
        logs.configure_logging("loud")
    with pytest.raises(ConfigError, match="log format 'xml'"):
        logs.configure_logging("info", "xml")


def test_library_defaults_send_events_to_stdlib_logging_with_secrets_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logs.reset_logging()  # the state of a program that never configured logging
    logs.register_secret("s3cr3t-value")
    with caplog.at_level(logging.INFO, logger="connector"):
        structlog.get_logger("connector.venues.session").warning(
            "marketdata.snapshot_retry", venue="okx", name="clash", error="key s3cr3t-value"
        )

    (record,) = [r for r in caplog.records if r.name == "connector.venues.session"]
    assert "marketdata.snapshot_retry" == record.getMessage()
    assert logging.WARNING == record.levelno
    assert "okx" == record.__dict__["venue"]
    assert "clash" == record.__dict__["name_"]
    assert "key ***" == record.__dict__["error"]


async def test_a_connector_installs_no_logging_handler(tmp_path: Path) -> None:
    from connector import Connector, load_config

    path = tmp_path / "connector.toml"
    path.write_text(
        "".join(f"[venues.{name}]\nenabled = false\n\n" for name in ("binance", "bybit", "okx")),
        encoding="utf-8",
    )
    logs.reset_logging()
    root_before = list(logging.getLogger().handlers)
    ours_before = list(logging.getLogger("connector").handlers)
    async with Connector(load_config(path, env={})):
        pass

    assert root_before == logging.getLogger().handlers
    assert ours_before == logging.getLogger("connector").handlers
    assert all(isinstance(h, logging.NullHandler) for h in ours_before)
