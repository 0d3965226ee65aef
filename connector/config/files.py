"""Reading a TOML file, with one clear error for each way that can fail."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from connector.errors import ConfigError

__all__ = ["read_toml"]


def read_toml(file: Path, what: str) -> dict[str, object]:
    """The tables of TOML file ``file``.

    Args:
        file: The file to read.
        what: What the file is, for errors (``config file``, ``secrets file``).

    Raises:
        ConfigError: naming the file that is missing, unreadable or not UTF-8, or
            the line and column of a TOML syntax error.
    """
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} {os.fspath(file)!r} not found") from None
    except OSError as exc:
        raise ConfigError(f"{what} {os.fspath(file)!r} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {os.fspath(file)!r} is not UTF-8 text (byte {exc.start})"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's message ends "(at line L, column C)"; keep only the rule.
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)$", message)
        if match:
            rule = message[: match.start()].strip()
            where = f"line {match.group(1)}, column {match.group(2)}"
        else:
            rule = re.sub(r"\s*\(at end of document\)$", "", message)
            where = f"line {text.count(chr(10)) + 1}, end of document"
        raise ConfigError(f"{what} {os.fspath(file)!r}: invalid TOML at {where}: {rule}") from None
