"""Shared fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.logs import reset_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # Commands configure logging onto the (captured) stderr; undo it after each test.
    yield
    reset_logging()
