"""Simulated accounts: holds, fees, positions, margin, the default accounts and the TOML loader.

The property tests drive an account through random sequences of orders, fills
and cancels and check it against a reference ledger kept by the test from the
fills alone (using the documented rule: every booked amount is rounded
half-even to 1e-10 once).
"""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connector.sim.accounts as accounts_pkg
from connector.errors import ConfigError
from connector.sim.accounts import (
    DEFAULT_BALANCES,
    DEFAULT_CREDENTIALS,
    AccountBook,
    FeeRates,
    Held,
    Refused,
    SimAccount,
    default_accounts,
    load_accounts,
)
from connector.sim.accounts.money import fee_amount, money

D = Decimal
SPOT_FEES = FeeRates(maker=D("0.0008"), taker=D("0.001"))
LINEAR_FEES = FeeRates(maker=D("0.0002"), taker=D("0.0005"))


def account(venue: str = "binance", **balances: str) -> SimAccount:
    start = {k: D(v) for k, v in (balances or {"USDT": "1000", "BTC": "1"}).items()}
    return SimAccount.open(
        "alice", venue, balances=start, fees={"spot": SPOT_FEES, "linear": LINEAR_FEES}
    )


# ------------------------------------------------------------------ spot


def test_spot_buy_holds_quote_and_fill_pays_fee_in_base() -> None:
    acct = account()

    held = acct.place_spot(
        "1", side="buy", base="BTC", quote="USDT", qty=D("0.01"), price=D("50000")
    )
    settled = acct.fill("1", qty=D("0.004"), price=D("49000"), liquidity="taker")

    assert Held(order_id="1", asset="USDT", amount=D("500")) == held
    assert D("0.000004") == settled.fee and "BTC" == settled.fee_asset
    assert D("1000") - D("196") == acct.balance("USDT").total
    assert D("300") == acct.balance("USDT").held
    assert D("1.003996") == acct.balance("BTC").total
    assert D("300") == acct.cancel("1")
    assert D("0") == acct.balance("USDT").held


def test_spot_sell_holds_base_and_fill_pays_fee_in_quote() -> None:
    acct = account()

    acct.place_spot("1", side="sell", base="BTC", quote="USDT", qty=D("0.5"), price=D("100"))
    settled = acct.fill("1", qty=D("0.5"), price=D("110"), liquidity="maker")

    assert settled.done and D("0.044") == settled.fee
    assert D("0.5") == acct.balance("BTC").total
    assert D("1000") + D("55") - D("0.044") == acct.balance("USDT").total
    assert () == acct.open_orders()


@pytest.mark.parametrize(
    ("venue", "code", "status", "message"),
    [
        ("binance", -2010, 400, "Account has insufficient balance for requested action."),
        ("bybit", 170131, 200, "Balance insufficient"),
        ("okx", 51008, 200, "Order failed. Insufficient USDT balance in account."),
    ],
)
def test_spot_order_over_the_free_balance_is_refused_with_the_venue_code(
    venue: str, code: int, status: int, message: str
) -> None:
    acct = account(venue)

    refused = acct.place_spot(
        "1", side="buy", base="BTC", quote="USDT", qty=D("1"), price=D("1000.01")
    )

    assert isinstance(refused, Refused)
    assert (code, status, message) == (refused.code, refused.http_status, refused.message)
    assert () == acct.open_orders() and D("0") == acct.balance("USDT").held


def test_spot_buy_cannot_fill_above_its_limit() -> None:
    acct = account()
    acct.place_spot("1", side="buy", base="BTC", quote="USDT", qty=D("1"), price=D("100"))

    with pytest.raises(ValueError, match="above its limit"):
        acct.fill("1", qty=D("1"), price=D("101"), liquidity="taker")


# ------------------------------------------------------------------ linear


def test_linear_position_average_entry_realised_pnl_with_fees_and_unrealised() -> None:
    acct = account("bybit", USDT="10000")

    acct.place_linear("1", symbol="BTCUSDT", settle="USDT", side="buy", qty=D("1"), price=D("100"))
    acct.fill("1", qty=D("1"), price=D("100"), liquidity="maker")
    acct.place_linear("2", symbol="BTCUSDT", settle="USDT", side="buy", qty=D("1"), price=D("110"))
    acct.fill("2", qty=D("1"), price=D("110"), liquidity="taker")
    acct.place_linear("3", symbol="BTCUSDT", settle="USDT", side="sell", qty=D("3"), price=D("120"))
    last = acct.fill("3", qty=D("3"), price=D("120"), liquidity="taker")

    position = acct.position("BTCUSDT")
    assert position is not None
    fees = D("0.02") + D("0.055") + D("0.18")
    assert D("30") == last.realised_pnl  # 2 × (120 − 105)
    assert (D("-1"), D("120")) == (position.size, position.entry_price)
    assert D("30") - fees == position.realised_pnl
    assert fees == position.fees
    assert D("10000") + D("30") - fees == acct.balance("USDT").total
    assert D("12") == acct.balance("USDT").margin  # 1 × 120 / 10
    assert D("-5") == acct.unrealised_pnl({"BTCUSDT": D("125")})


@pytest.mark.parametrize(("venue", "code"), [("binance", -2019), ("bybit", 110007), ("okx", 51008)])
def test_linear_initial_margin_check_uses_the_venue_code(venue: str, code: int) -> None:
    acct = account(venue, USDT="100")

    ok = acct.place_linear("1", symbol="X", settle="USDT", side="buy", qty=D("9"), price=D("100"))
    refused = acct.place_linear(
        "2", symbol="X", settle="USDT", side="buy", qty=D("1"), price=D("100")
    )

    assert D("90") + D("0.45") == ok.amount if isinstance(ok, Held) else False
    assert isinstance(refused, Refused) and code == refused.code


def test_linear_closing_order_needs_no_margin_and_unrealised_loss_reduces_available() -> None:
    acct = account("binance", USDT="100")
    acct.place_linear("1", symbol="X", settle="USDT", side="buy", qty=D("9"), price=D("100"))
    acct.fill("1", qty=D("9"), price=D("100"), liquidity="taker")

    closing = acct.place_linear(
        "2", symbol="X", settle="USDT", side="sell", qty=D("9"), price=D("100")
    )
    acct.cancel("2")
    over = acct.place_linear(
        "3",
        symbol="X",
        settle="USDT",
        side="buy",
        qty=D("0.5"),
        price=D("100"),
        marks={"X": D("99")},
    )

    assert isinstance(closing, Held) and D("0.45") == closing.amount  # the fee reserve only
    assert isinstance(over, Refused)  # free 9.55, minus 9 of unrealised loss, < 5.025
    assert isinstance(
        acct.place_linear("4", symbol="X", settle="USDT", side="buy", qty=D("0.5"), price=D("100")),
        Held,
    )


def test_margin_of_an_order_that_opens_after_another_closed_comes_from_free() -> None:
    acct = account("binance", USDT="1000")
    acct.place_linear("1", symbol="X", settle="USDT", side="sell", qty=D("1"), price=D("100"))
    acct.fill("1", qty=D("1"), price=D("100"), liquidity="maker")

    first = acct.place_linear(
        "2", symbol="X", settle="USDT", side="buy", qty=D("1"), price=D("100")
    )
    second = acct.place_linear(
        "3", symbol="X", settle="USDT", side="buy", qty=D("1"), price=D("100")
    )
    acct.fill("3", qty=D("1"), price=D("100"), liquidity="maker")
    acct.fill("2", qty=D("1"), price=D("100"), liquidity="maker")

    position = acct.position("X")
    assert isinstance(first, Held) and D("0.05") == first.amount  # closes: fee reserve only
    assert isinstance(second, Held) and D("10.05") == second.amount  # opens: margin too
    assert position is not None and (D("1"), D("10")) == (position.size, position.margin)
    assert D("10") == acct.balance("USDT").locked


def test_leverage_per_symbol_sets_the_margin() -> None:
    acct = account("okx", USDT="1000")
    acct.set_leverage("X", 2)

    held = acct.place_linear("1", symbol="X", settle="USDT", side="buy", qty=D("1"), price=D("100"))

    assert isinstance(held, Held) and D("50") + D("0.05") == held.amount


# ------------------------------------------------------------------ properties

PRICES = st.decimals(min_value=D("98"), max_value=D("102"), places=2)
QTYS = st.decimals(min_value=D("0.001"), max_value=D("3"), places=3)


def check_invariants(acct: SimAccount) -> None:
    for b in acct.balances():
        assert b.total >= 0, b
        assert b.held >= 0, b
        assert b.locked <= b.total, b
        assert b.free >= 0, b


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_spot_balances_reconcile_with_fills(data: st.DataObject) -> None:
    acct = account(USDT="1000", BTC="5")
    totals = {"USDT": D("1000"), "BTC": D("5")}
    orders: dict[str, tuple[str, Decimal, Decimal]] = {}  # id -> side, price, qty left
    for step in range(data.draw(st.integers(1, 40))):
        action = data.draw(st.sampled_from(["place", "fill", "cancel"]))
        if action == "place" or not orders:
            side = data.draw(st.sampled_from(["buy", "sell"]))
            price, qty = data.draw(PRICES), data.draw(QTYS)
            decision = acct.place_spot(
                str(step), side=side, base="BTC", quote="USDT", qty=qty, price=price
            )
            if isinstance(decision, Held):
                orders[str(step)] = (side, price, qty)
            else:
                need = money(qty * price) if side == "buy" else qty
                assert need > acct.balance("USDT" if side == "buy" else "BTC").free
        elif action == "fill":
            oid = data.draw(st.sampled_from(sorted(orders)))
            side, limit, left = orders[oid]
            qty = data.draw(st.decimals(min_value=D("0.001"), max_value=left, places=3))
            low, high = (D("98"), limit) if side == "buy" else (limit, D("102"))
            price = data.draw(st.decimals(min_value=low, max_value=high, places=2))
            liquidity = data.draw(st.sampled_from(["maker", "taker"]))
            settled = acct.fill(oid, qty=qty, price=price, liquidity=liquidity)
            rate = SPOT_FEES.rate(liquidity)
            if side == "buy":
                totals["USDT"] -= money(qty * price)
                totals["BTC"] += qty - fee_amount(qty * rate)
            else:
                totals["BTC"] -= qty
                totals["USDT"] += money(qty * price) - fee_amount(money(qty * price) * rate)
            # The fee as the venues tell it (8 decimals) is the fee booked.
            assert settled.fee == round(settled.fee, 8)
            assert settled.done == (qty == left)
            if qty == left:
                del orders[oid]
            else:
                orders[oid] = (side, limit, left - qty)
        else:
            acct.cancel(data.draw(st.sampled_from(sorted(orders))))
            orders = {k: v for k, v in orders.items() if k in acct.open_orders()}
        check_invariants(acct)
        assert totals == {b.asset: b.total for b in acct.balances()}
    for oid in list(orders):
        acct.cancel(oid)
    assert all(b.held == 0 for b in acct.balances())


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_linear_positions_fees_and_wallet_reconcile_with_fills(data: st.DataObject) -> None:
    acct = account("bybit", USDT="1000")
    wallet = D("1000")
    size, entry, fees, gross_total = D(0), D(0), D(0), D(0)
    orders: dict[str, tuple[str, Decimal, Decimal]] = {}
    for step in range(data.draw(st.integers(1, 40))):
        action = data.draw(st.sampled_from(["place", "fill", "fill", "cancel"]))
        if action == "place" or not orders:
            side = data.draw(st.sampled_from(["buy", "sell"]))
            price, qty = data.draw(PRICES), data.draw(QTYS)
            decision = acct.place_linear(
                str(step), symbol="X", settle="USDT", side=side, qty=qty, price=price
            )
            if isinstance(decision, Held):
                orders[str(step)] = (side, price, qty)
            else:
                assert decision.needed > decision.available and 110007 == decision.code
        elif action == "fill":
            oid = data.draw(st.sampled_from(sorted(orders)))
            side, price, left = orders[oid]
            qty = data.draw(st.decimals(min_value=D("0.001"), max_value=left, places=3))
            liquidity = data.draw(st.sampled_from(["maker", "taker"]))
            settled = acct.fill(oid, qty=qty, price=price, liquidity=liquidity)
            # Reference: average-cost position, realised P&L on the reduced part.
            signed = qty if side == "buy" else -qty
            fee = fee_amount(qty * price * LINEAR_FEES.rate(liquidity))
            gross = D(0)
            if size == 0 or (size > 0) == (signed > 0):
                entry = money((abs(size) * entry + qty * price) / abs(size + signed))
            else:
                closed = min(abs(size), qty)
                gross = money(closed * (price - entry) * (1 if size > 0 else -1))
                if qty > abs(size):
                    entry = price
                elif qty == abs(size):
                    entry = D(0)
            size += signed
            fees += fee
            gross_total += gross
            wallet += gross - fee
            assert gross == settled.realised_pnl
            if qty == left:
                del orders[oid]
            else:
                orders[oid] = (side, price, left - qty)
        else:
            acct.cancel(data.draw(st.sampled_from(sorted(orders))))
            orders = {k: v for k, v in orders.items() if k in acct.open_orders()}
        check_invariants(acct)
        position = acct.position("X")
        assert wallet == acct.balance("USDT").total
        if position is not None:
            assert (size, entry, fees) == (position.size, position.entry_price, position.fees)
            assert gross_total - fees == position.realised_pnl
            assert position.size != 0 or position.margin == 0
            assert D(0) <= position.margin <= money(abs(position.size) * D("102") / 10)
    for oid in list(orders):
        acct.cancel(oid)
    assert D(0) == acct.balance("USDT").held


# ------------------------------------------------------------------ defaults and TOML


def test_default_accounts_have_documented_credentials_and_balances() -> None:
    specs = default_accounts()

    assert ["binance-demo", "bybit-demo", "okx-demo"] == [s.account_id for s in specs]
    assert DEFAULT_CREDENTIALS["okx"].passphrase
    book = AccountBook("okx", specs)
    entry = book.keyring.find(DEFAULT_CREDENTIALS["okx"].api_key)
    assert entry is not None and "okx-demo" == entry.account_id
    acct = book.get("okx-demo")
    assert D("100000") == acct.balance("USDT").total
    assert (
        {"BTC", "ETH", "SOL", "USDT"} == {b.asset for b in acct.balances()} == set(DEFAULT_BALANCES)
    )
    assert FeeRates(maker=D("0.0008"), taker=D("0.001")) == acct.fee_rates("spot")


def test_secrets_do_not_show_in_repr() -> None:
    creds = DEFAULT_CREDENTIALS["okx"]

    assert creds.secret not in repr(creds) and creds.passphrase not in repr(creds)


def test_load_accounts_adds_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        """
[[accounts]]
id = "alice"
venue = "bybit"
api_key = "ALICEKEY"
secret = "alice-secret"
leverage = 5
balances = { USDT = "250000", BTC = "2" }
[accounts.fees.linear]
maker = "0.0001"
taker = "0.0004"

[[accounts]]
id = "okx-demo"
venue = "okx"
api_key = "k"
secret = "s"
passphrase = "p"
balances = { USDT = 5 }
""",
        encoding="utf-8",
    )

    specs = load_accounts(path)
    bybit = AccountBook("bybit", specs)
    okx = AccountBook("okx", specs)

    assert ["bybit-demo", "alice"] == [a.account_id for a in bybit.accounts()]
    alice = bybit.get("alice")
    assert (5, D("250000")) == (alice.leverage, alice.balance("USDT").total)
    assert FeeRates(maker=D("0.0001"), taker=D("0.0004")) == alice.fee_rates("linear")
    assert FeeRates(maker=D("0.001"), taker=D("0.001")) == alice.fee_rates("spot")
    assert ["okx-demo"] == [a.account_id for a in okx.accounts()]
    assert D("5") == okx.get("okx-demo").balance("USDT").total
    assert okx.keyring.find(DEFAULT_CREDENTIALS["okx"].api_key) is None


def test_load_accounts_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        """
[[accounts]]
id = "a"
venue = "kraken"
api_key = "k"
secret = "s"
colour = "blue"

[[accounts]]
id = "b"
venue = "okx"
api_key = "k2"
secret = "s"
balances = { USDT = "-1" }
leverage = 0

[[accounts]]
venue = "binance"
key_type = "rsa"
api_key = "k3"
public_key = "not a pem"
""",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as info:
        load_accounts(path)

    text = "\n".join(info.value.problems)
    for expected in (
        "accounts[0] (a): unknown field colour",
        "venue 'kraken'",
        "accounts[1] (b): an okx account needs a passphrase",
        "balances.USDT",
        "leverage must be a whole number",
        "accounts[2]: id is missing",
    ):
        assert expected in text


def test_load_accounts_bad_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[accounts]\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_accounts(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_accounts(tmp_path / "missing.toml")


def test_rsa_key_from_toml_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "rsa.toml"
    path.write_text(
        '[[accounts]]\nid = "r"\nvenue = "binance"\napi_key = "k"\n'
        'key_type = "rsa"\npublic_key = "x"\n',
        encoding="utf-8",
    )

    with pytest.raises(ConfigError, match="public_key is not a PEM public key"):
        load_accounts(path)


# ------------------------------------------------------------------ sans-I/O

SANS_IO_MODULES = [
    *sorted(Path(accounts_pkg.__file__).parent.glob("*.py")),
    *(Path(accounts_pkg.__file__).parents[1] / v / "auth.py" for v in ("binance", "bybit", "okx")),
]


@pytest.mark.parametrize("path", SANS_IO_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_accounts_and_verifiers_import_no_io_or_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    within = {name for name in imported if name.startswith("connector.")}

    assert set() == roots & {"trio", "httpx", "time", "random", "socket", "hypercorn"}
    assert all(name.startswith(("connector.sim.accounts", "connector.errors")) for name in within)
