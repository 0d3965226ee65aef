"""Reading raw TOML values: typed field readers and the list of problems found.

Every bad value adds one problem line (key path, the value, what was expected,
and the environment variable that set it, if one did) and yields the default,
so one pass over a file reports everything wrong with it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

__all__ = ["MISSING", "SECRET_KEYS", "EnvText", "Fields", "Problems", "show", "source_of"]

SECRET_KEYS = ("api_key", "api_secret", "passphrase", "key_type", "key_password")
# Keys that are secrets wherever they appear in the main file.
_SECRET_LIKE = frozenset({*SECRET_KEYS, "secret", "password", "apikey", "key_secret"})

_T = TypeVar("_T")
MISSING = object()
"""Marks a key the table does not have."""


class EnvText(str):
    """A value from an environment variable: raw text, converted per the field's type."""

    __slots__ = ("var",)
    var: str

    def __new__(cls, text: str, var: str) -> EnvText:
        self = super().__new__(cls, text)
        self.var = var
        return self


class Problems:
    """Collects one line per problem, in the order found."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, value: object, expected: str) -> None:
        self.lines.append(f"{path} = {show(value)}: {expected}{source_of(value)}")

    def note(self, line: str) -> None:
        self.lines.append(line)

    def unknown_keys(self, path: str, table: Mapping[str, object], known: Iterable[str]) -> None:
        known = tuple(known)
        for key in table:
            if key in known:
                continue
            where = f"{path}.{key}" if path else key
            if key.lower() in _SECRET_LIKE:
                self.note(f"{where}: put secrets in the environment or secrets_file")
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; expected {', '.join(known)}"
            self.note(f"{where}: unknown key{hint}{source_of(table[key])}")


def show(value: object) -> str:
    """``repr`` of a value as the user wrote it (an environment value as plain text)."""
    if isinstance(value, EnvText):
        return repr(str(value))
    return repr(value)


def source_of(value: object) -> str:
    """Which environment variable set ``value`` (or a value inside it), if any."""
    if isinstance(value, EnvText):
        return f" (from {value.var})"
    if isinstance(value, Mapping):
        for item in value.values():
            found = source_of(item)
            if found:
                return found
    return ""


class Fields:
    """Reads typed fields of one table; each bad value adds a problem and yields the default."""

    def __init__(self, path: str, table: Mapping[str, object], problems: Problems) -> None:
        self.path = path
        self.table = table
        self.problems = problems
        self.failed = False

    def bad(self, key: str, value: object, expected: str) -> None:
        self.problems.add(f"{self.path}.{key}", value, expected)
        self.failed = True

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return default
        if isinstance(value, EnvText):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
        elif isinstance(value, bool):
            return value
        self.bad(key, value, "expected true or false")
        return default

    def integer(
        self, key: str, default: _T, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | _T:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return default
        result: int | None = None
        if isinstance(value, EnvText):
            try:
                result = int(value.strip())
            except ValueError:
                result = None
        elif isinstance(value, int) and not isinstance(value, bool):
            result = value
        if result is None:
            self.bad(key, value, "expected an integer")
            return default
        low = minimum is not None and result < minimum
        high = maximum is not None and result > maximum
        if (low or high) and minimum is not None and maximum is not None:
            self.bad(key, value, f"expected an integer from {minimum} to {maximum}")
            return default
        if low:
            self.bad(key, value, f"expected an integer >= {minimum}")
            return default
        if high:
            self.bad(key, value, f"expected an integer <= {maximum}")
            return default
        return result

    def number(self, key: str, default: _T, *, positive: bool = False) -> float | _T:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return default
        result: float | None = None
        if isinstance(value, EnvText):
            try:
                result = float(value.strip())
            except ValueError:
                result = None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            result = float(value)
        if result is None or result != result or result in (float("inf"), float("-inf")):
            self.bad(key, value, "expected a finite number")
            return default
        if positive and result <= 0:
            self.bad(key, value, "expected a number > 0")
            return default
        return result

    def decimal(
        self, key: str, *, positive: bool = True, maximum: Decimal | None = None
    ) -> Decimal | None:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return None
        if isinstance(value, float):
            self.bad(
                key,
                value,
                f'money is exact: write it as a string ("{value!r}") or an integer, not a float',
            )
            return None
        result: Decimal | None = None
        if isinstance(value, str):
            try:
                result = Decimal(value.strip())
            except InvalidOperation:
                result = None
        elif isinstance(value, int) and not isinstance(value, bool):
            result = Decimal(value)
        if result is None or not result.is_finite():
            self.bad(key, value, 'expected a decimal number as a string ("100.5") or an integer')
            return None
        if positive and result <= 0:
            self.bad(key, value, "expected a number > 0")
            return None
        if maximum is not None and result > maximum:
            self.bad(key, value, f"expected a number <= {maximum}")
            return None
        return result

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return default
        if isinstance(value, str) and value.strip().lower() in choices:
            return value.strip().lower()
        self.bad(key, value, f"expected one of {', '.join(choices)}")
        return default

    def text(self, key: str) -> str | None:
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return None
        if isinstance(value, str):
            return str(value)
        self.bad(key, value, "expected a string")
        return None

    def string_list(self, key: str) -> list[tuple[str, object]] | None:
        """The list's items with the key path of each; ``None`` when absent or bad."""
        value = self.table.get(key, MISSING)
        if value is MISSING:
            return None
        if isinstance(value, EnvText):
            # An empty variable is an empty list; an empty item ("a,,b", "a,b,") is checked
            # like an empty string in the file, and refused the same way.
            parts = value.split(",") if value.strip() else []
            items: list[object] = [EnvText(part.strip(), value.var) for part in parts]
        elif isinstance(value, list):
            items = list(value)
        else:
            self.bad(key, value, "expected a list of strings")
            return None
        return [(f"{self.path}.{key}[{i}]", item) for i, item in enumerate(items)]
