"""Client order ids: valid on every venue, ours recognisable, unique across sessions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import ConfigError, InvalidOrder
from connector.model import Market
from connector.oms.ids import (
    MAX_LENGTH,
    VENUE_RULES,
    ClientOrderIds,
    check_client_order_id,
    new_prefix,
)

START = 1_767_000_000_123_456_789  # 2025-12-29, in ns

prefixes = st.integers(min_value=0, max_value=2**64).flatmap(
    lambda e: st.integers(min_value=1, max_value=8).map(lambda n: new_prefix(e, n))
)
sessions = st.tuples(
    st.integers(min_value=0, max_value=2**63), st.integers(min_value=0, max_value=2**32)
)


def test_ids_have_the_documented_shape() -> None:
    ids = ClientOrderIds("cx7", start_ns=START, salt=12345)

    first, second = ids.next(), ids.next()

    assert first.startswith("cx7" + ids.session)
    assert first.endswith("000000")
    assert second.endswith("000001")
    assert len("cx7") + 18 == len(first)
    assert 2 == ids.issued


@given(prefix=prefixes, session=sessions, count=st.integers(min_value=1, max_value=50))
def test_ids_are_valid_on_every_venue_and_ours(
    prefix: str, session: tuple[int, int], count: int
) -> None:
    ids = ClientOrderIds(prefix, start_ns=session[0], salt=session[1])

    made = [ids.next() for _ in range(count)]

    assert len(set(made)) == count
    for cid in made:
        assert len(cid) <= MAX_LENGTH
        assert cid.isascii() and cid.isalnum()
        for venue, rule in VENUE_RULES.items():
            assert rule.fullmatch(cid), (venue, cid)
        assert ids.is_ours(cid)
        assert ids.is_this_session(cid)


@given(prefix=prefixes, a=sessions, b=sessions)
def test_sessions_of_one_install_never_share_an_id(
    prefix: str, a: tuple[int, int], b: tuple[int, int]
) -> None:
    first = ClientOrderIds(prefix, start_ns=a[0], salt=a[1])
    second = ClientOrderIds(prefix, start_ns=b[0], salt=b[1])
    if first.session == second.session:
        return  # the same millisecond and the same salt: the documented one-in-millions case
    made = {first.next() for _ in range(20)}

    assert not made & {second.next() for _ in range(20)}
    assert all(second.is_ours(cid) and not second.is_this_session(cid) for cid in made)


def test_a_restart_a_millisecond_later_makes_different_ids_even_with_the_same_salt() -> None:
    before = ClientOrderIds("q", start_ns=START, salt=7)
    after = ClientOrderIds("q", start_ns=START + 1_000_000, salt=7)

    assert before.next() != after.next()


def test_ids_of_other_programs_are_not_ours() -> None:
    ids = ClientOrderIds("cx7", start_ns=START, salt=1)
    mine = ids.next()

    assert not ids.is_ours("x-R4BD3S82" + "a" * 22)  # ccxt's Binance broker prefix
    assert not ids.is_ours("cx8" + mine[3:])
    assert not ids.is_ours(mine + "0")
    assert not ids.is_ours(mine[:-1] + "-")
    assert not ClientOrderIds("cx", start_ns=START, salt=1).is_ours(mine)


@pytest.mark.parametrize("prefix", ["", "9abc", "abcdefghi", "ab-c", "é"])
def test_bad_prefix_is_a_config_error(prefix: str) -> None:
    with pytest.raises(ConfigError, match="prefix"):
        ClientOrderIds(prefix, start_ns=START, salt=0)


def test_new_prefix_starts_with_a_letter_and_has_the_asked_length() -> None:
    for entropy in (0, 1, 51, 52, 2**48 - 1):
        prefix = new_prefix(entropy, 6)
        assert 6 == len(prefix)
        assert prefix[0].isalpha()
    with pytest.raises(ValueError):
        new_prefix(1, 9)


def test_caller_chosen_id_is_checked_against_the_venue_rule() -> None:
    assert "my_id-1" == check_client_order_id("my_id-1", "binance", Market.SPOT)
    assert "myid1" == check_client_order_id("myid1", "okx", Market.SPOT)
    with pytest.raises(InvalidOrder, match="client_order_id") as caught:
        check_client_order_id("my_id-1", "okx", Market.SPOT)
    assert caught.value.violations
    with pytest.raises(InvalidOrder):
        check_client_order_id("a" * 37, "bybit", Market.LINEAR)
    with pytest.raises(InvalidOrder):
        check_client_order_id("x", "kraken", Market.SPOT)
