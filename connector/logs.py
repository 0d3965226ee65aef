"""Structured logging: one structlog setup, with secrets redacted.

Every module logs events, not sentences: ``log = structlog.get_logger(__name__)``
then ``log.warning("book.resync", venue="binance", symbol=s, reason=r)``.
Event names are stable dotted names (``<area>.<what happened>``: ``book.resync``,
``ws.reconnecting``, ``supervisor.gave_up``) that dashboards and tests may match on;
the variable parts go in key-value pairs, never in the event name.

:func:`configure_logging` renders each event either for people (a console line,
when the stream is a terminal) or for machines (one JSON object per line),
with an ISO-8601 UTC timestamp, the level and the logger name. Records from the
standard :mod:`logging` module (httpx, hypercorn) go through the same
processors. :func:`redact_secrets` runs last before rendering on every event.

A library's logging belongs to the application: importing connector installs
no handler anywhere. Until something configures structlog, connector's events
go to the standard :mod:`logging` module under ``connector.*`` logger names
(event name as the message, key-value pairs as the record's extra fields,
secrets redacted), where the application's logging setup decides what happens
to them; the ``connector`` logger has only a ``NullHandler``. The command line
calls :func:`configure_logging`.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import re
import sys
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from connector.errors import ConfigError

__all__ = [
    "LEVELS",
    "REDACTED",
    "clear_secrets",
    "configure_logging",
    "redact_secrets",
    "register_secret",
    "reset_logging",
    "use_library_defaults",
]

REDACTED = "***"

LEVELS: Mapping[str, int] = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

# A key is secret when its normalized name (lower case, '-' -> '_') contains one of these.
_SECRET_KEY_PARTS = (
    "api_key",
    "apikey",
    "access_key",
    "secret",
    "passphrase",
    "signature",
    "password",
    "passwd",
    "dsn",
    "authorization",
    "token",
    "cookie",
)
# ...or is one of these, or ends with "_sign" (X-BAPI-SIGN, OK-ACCESS-SIGN).
_SECRET_KEYS_EXACT = frozenset({"sign", "key"})

# Inside text: "signature=...", "apiKey=..." in query strings and bodies.
_INLINE_PARAM = re.compile(
    r"(?i)\b(signature|sign|api_?key|api_?secret|passphrase|password|secret|token)"
    r"(=|\"?\s*:\s*\"?)([^&\s\",}]+)"
)
# Inside text: the password of a URL's user info ("postgresql://user:pw@host").
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)")

# Shorter registered values would redact ordinary words; such a secret is too weak anyway.
_MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None
_stdlib_handler: logging.Handler | None = None
_root_level_before: int | None = None


def register_secret(value: str) -> None:
    """Redact ``value`` wherever it appears inside any logged string from now on.

    Values shorter than 4 characters are ignored (they would redact ordinary text).
    """
    global _secret_pattern
    if not isinstance(value, str) or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def clear_secrets() -> None:
    """Forget every registered secret (for tests, or after credentials rotate)."""
    global _secret_pattern
    with _lock:
        _secrets.clear()
        _secret_pattern = None


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    name = key.lower().replace("-", "_")
    return (
        name in _SECRET_KEYS_EXACT
        or name.endswith("_sign")
        or any(part in name for part in _SECRET_KEY_PARTS)
    )


def _redact_text(text: str) -> str:
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    if "=" in text or ":" in text:
        text = _INLINE_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    return text


def _redact_value(value: object, depth: int = 0) -> object:
    if isinstance(value, str):
        return _redact_text(value)
    if depth > 8:
        return value
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "replace")
        redacted = _redact_text(text)
        return value if redacted == text else redacted
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _is_secret_key(k) else _redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        items = [_redact_value(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def redact_secrets(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: hide secrets before anything renders the event.

    Replaces with ``'***'`` the values of secret-looking keys (``api_key``,
    ``api_secret``, ``secret``, ``passphrase``, ``signature``, ``password``,
    ``dsn``, ``authorization``, ``X-BAPI-SIGN``...) at any depth, every
    registered secret wherever it appears inside a string, ``signature=...``
    style parameters inside strings, and URL passwords.
    """
    for key in list(event_dict):
        if key != "event" and _is_secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


class _StreamLogger:
    """Writes rendered lines to a stream; remembers the name it was created for."""

    def __init__(self, stream: TextIO, name: str | None) -> None:
        self._stream = stream
        self.name = name
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            self._stream.write(message + "\n")
            self._stream.flush()

    log = debug = info = warn = warning = msg
    err = error = critical = exception = fatal = failure = msg


class _StreamLoggerFactory:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, *args: Any) -> _StreamLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        return _StreamLogger(self._stream, name)


def _add_logger_name(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        event_dict.setdefault("logger", record.name)
    else:
        name = getattr(logger, "name", None)
        if name:
            event_dict.setdefault("logger", name)
    return event_dict


def _json_dumps(obj: object, **kwargs: Any) -> str:
    fallback = kwargs.pop("default", repr)

    def default(value: object) -> object:
        # Money and symbols as their exact text, not "Decimal('1.5')".
        if isinstance(value, Decimal | enum.Enum | PurePath) or hasattr(value, "__attrs_attrs__"):
            return str(value.value) if isinstance(value, enum.Enum) else str(value)
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        return fallback(value)

    return json.dumps(obj, default=default, ensure_ascii=False, **kwargs)


def _renderer(fmt: str, stream: TextIO) -> Processor:
    if fmt == "auto":
        isatty = getattr(stream, "isatty", None)
        fmt = "console" if callable(isatty) and isatty() else "json"
    if fmt == "console":
        isatty = getattr(stream, "isatty", None)
        colors = bool(callable(isatty) and isatty())
        return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=_plain_exception)
    return structlog.processors.JSONRenderer(serializer=_json_dumps)


def _plain_exception(sio: TextIO, exc_info: Any) -> None:
    # Tracebacks are formatted (and redacted) earlier by format_exc_info.
    structlog.dev.plain_traceback(sio, exc_info)


def configure_logging(
    level: str = "info", fmt: str = "auto", *, stream: TextIO | None = None
) -> None:
    """Configure structlog (and route the standard ``logging`` module through it).

    Calling it again replaces the previous setup, so it is idempotent: the same
    arguments give the same result, and nothing is added twice.

    Args:
        level: ``debug``, ``info``, ``warning``, ``error`` or ``critical``;
            events below it are dropped.
        fmt: ``console`` (human-readable lines), ``json`` (one JSON object per
            line) or ``auto`` (console when ``stream`` is a terminal, else JSON).
        stream: Where to write; standard error when ``None``.

    Raises:
        ConfigError: for an unknown level or format.
    """
    global _stdlib_handler, _root_level_before
    level_name = str(level).lower()
    if level_name not in LEVELS:
        raise ConfigError(f"log level {level!r}: expected one of {', '.join(LEVELS)}")
    fmt_name = str(fmt).lower()
    if fmt_name not in ("auto", "console", "json"):
        raise ConfigError(f"log format {fmt!r}: expected one of auto, console, json")
    out: TextIO = sys.stderr if stream is None else stream
    level_no = LEVELS[level_name]
    renderer = _renderer(fmt_name, out)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level_no),
        logger_factory=_StreamLoggerFactory(out),
        context_class=dict,
        # Not cached: loggers created at import time follow a later reconfiguration.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    handler.setLevel(level_no)
    root = logging.getLogger()
    with _lock:
        if _stdlib_handler is not None:
            root.removeHandler(_stdlib_handler)
        else:
            _root_level_before = root.level
        _stdlib_handler = handler
    root.addHandler(handler)
    root.setLevel(level_no)


_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "", None, None).__dict__
) | {"message", "asctime"}


def _to_log_kwargs(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """The event name as the log message; the other keys as the record's extra fields
    (a key a ``LogRecord`` already has, such as ``name``, gets a trailing ``_``)."""
    event = event_dict.pop("event", "")
    exc_info = event_dict.pop("exc_info", None)
    extra = {(f"{k}_" if k in _RECORD_ATTRIBUTES else k): v for k, v in event_dict.items()}
    return {"msg": event, "extra": extra, "exc_info": exc_info}


def use_library_defaults() -> None:
    """Send structlog events to the standard ``logging`` module (see the module docstring).

    Applied when connector is imported and structlog is not configured yet, and by
    :func:`reset_logging`.
    """
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.format_exc_info,
            redact_secrets,
            _to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        context_class=dict,
        cache_logger_on_first_use=False,
    )


def reset_logging() -> None:
    """Undo :func:`configure_logging`: library defaults, our stdlib handler removed."""
    global _stdlib_handler, _root_level_before
    with _lock:
        handler, _stdlib_handler = _stdlib_handler, None
        level, _root_level_before = _root_level_before, None
    root = logging.getLogger()
    if handler is not None:
        root.removeHandler(handler)
    if level is not None:
        root.setLevel(level)
    use_library_defaults()


logging.getLogger("connector").addHandler(logging.NullHandler())
if not structlog.is_configured():
    use_library_defaults()
