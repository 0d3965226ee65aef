"""A private stream the venue refuses: the connector still starts, and keeps trying.

Keys the simulated venue does not know make every login fail (Bybit ``auth``,
OKX ``login``); the account service reports ready without waiting out its
start timeout, counts the refusals, and its REST reconciliation fails (counted) instead of
stopping anything.
"""

from __future__ import annotations

import pytest
import trio

from connector.model.credentials import Credentials
from tests.account.helpers import session_rig

WRONG = Credentials(api_key="no-such-key", api_secret="wrong", passphrase="wrong")


@pytest.mark.parametrize("venue", ["bybit", "okx"])
async def test_wrong_keys_are_refused_at_login_and_the_service_starts_anyway(venue: str) -> None:
    with trio.fail_after(20):
        async with session_rig(venue, credentials=WRONG, start_timeout=1.0) as r:
            stats = r.account.statistics()
            (stream,) = stats.streams
            assert 1 <= stream.refusals
            assert 0 == stream.logins
            assert stream.last_error is not None
            assert 1 <= stats.reconcile_failures
            assert 0 == stats.reconciliations
            assert r.account.ready.is_set()


async def test_a_refused_listen_key_does_not_hold_the_start() -> None:
    # Binance USDⓈ-M's stream starts with a listenKey, which a wrong key cannot make
    # (-2015): refused as a login is, not waited out for the start timeout.
    wrong = Credentials(api_key="no-such-key", api_secret="wrong")
    with trio.fail_after(10):
        async with session_rig("binance", credentials=wrong, start_timeout=30.0) as r:
            assert r.account.ready.is_set()
