"""Shared test helpers: where the real captures live."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Nothing in the suite is timed: a loaded machine must not fail an example for being slow.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def fixture_path(relative: str) -> Path:
    """Path of a file under ``../shared/fixtures``; skips the test when it is absent."""
    path = FIXTURES / relative
    if not path.exists():
        pytest.skip(f"fixture {relative} not found under {FIXTURES} (../shared/fixtures absent)")
    return path
