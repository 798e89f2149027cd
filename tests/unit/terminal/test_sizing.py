"""Sizing: leader's order -> follower's share count, under lot rules, T+1 and cash."""

from __future__ import annotations

import pytest

from quantlink_terminal.executors.base import AccountSnapshot, Holding
from quantlink_terminal.instruments import lot_rule
from quantlink_terminal.models import Leader, Signal
from quantlink_terminal.sizing import REJECT, SizingError, SizingRule, size_order


def signal(
    security: str,
    side: str,
    amount: int,
    total_value: float | None = 1_000_000.0,
    position_after: int | None = None,
    limit_price: float | None = None,
    sizing: dict[str, object] | None = None,
) -> Signal:
    return Signal(
        signal_id="s1",
        ack_token="t1",
        strategy_id="st",
        seq=1,
        security=security,
        side=side,
        amount=amount,
        price=10.0,
        limit_price=limit_price,
        leader=Leader(total_value=total_value, position_after=position_after),
        sizing=sizing or {},
    )


def account(cash: float, total: float | None = None, **holdings: Holding) -> AccountSnapshot:
    by_code = {code.replace("_", "."): holding for code, holding in holdings.items()}
    return AccountSnapshot(cash=cash, total_asset=total if total is not None else cash, holdings=by_code)


# (case, security, leader amount, leader total value, follower cash, price, mode, multiplier, expected volume)
BUY_TABLE = [
    ("mirror copies the share count", "600000.SH", 1200, 1_000_000, 1_000_000, 10.0, "mirror", 1, 1200),
    ("ratio: 100k follower of a 1M leader", "600000.SH", 1200, 1_000_000, 100_000, 10.0, "ratio", 1, 100),
    ("ratio rounds down to whole lots", "000001.SZ", 3900, 1_000_000, 250_000, 10.0, "ratio", 1, 900),
    ("ratio below one lot is rejected", "600000.SH", 300, 1_000_000, 100_000, 10.0, "ratio", 1, 0),
    ("ratio scales up for a bigger follower", "300750.SZ", 500, 1_000_000, 2_000_000, 10.0, "ratio", 1, 1000),
    ("fixed multiplier", "600000.SH", 1000, 1_000_000, 1_000_000, 10.0, "fixed", 0.5, 500),
    ("fixed multiplier rounds to lots", "600000.SH", 1000, 1_000_000, 1_000_000, 10.0, "fixed", 0.33, 300),
    ("STAR: 200 minimum, then steps of 1", "688981.SH", 2345, 1_000_000, 100_000, 10.0, "ratio", 1, 234),
    ("STAR: below 200 is rejected", "688981.SH", 1990, 1_000_000, 100_000, 10.0, "ratio", 1, 0),
    ("STAR: exactly 200", "688111.SH", 2000, 1_000_000, 100_000, 10.0, "ratio", 1, 200),
    ("Beijing: 100 minimum, then steps of 1", "430047.BJ", 1234, 1_000_000, 1_000_000, 10.0, "mirror", 1, 1234),
    (
        "insufficient cash shrinks to the largest affordable lot",
        "600000.SH",
        5000,
        1_000_000,
        29_950,
        10.0,
        "mirror",
        1,
        2900,
    ),
    (
        "insufficient cash for STAR shrinks by single shares",
        "688981.SH",
        1000,
        1_000_000,
        4_990,
        20.0,
        "mirror",
        1,
        249,
    ),
    ("STAR cannot afford the 200 minimum", "688981.SH", 1000, 1_000_000, 3_990, 20.0, "mirror", 1, 0),
    ("cannot afford one lot", "600519.SH", 100, 1_000_000, 100_000, 1800.0, "mirror", 1, 0),
]


@pytest.mark.parametrize(
    ("case", "security", "amount", "leader_total", "cash", "price", "mode", "multiplier", "expected"),
    BUY_TABLE,
    ids=[row[0] for row in BUY_TABLE],
)
def test_buy_sizing_table(
    case: str,
    security: str,
    amount: int,
    leader_total: float,
    cash: float,
    price: float,
    mode: str,
    multiplier: float,
    expected: int,
) -> None:
    rule = SizingRule(mode=mode, multiplier=multiplier)
    sized = size_order(
        signal(security, "buy", amount, total_value=leader_total, limit_price=price), rule, account(cash), price
    )
    assert sized.volume == expected, case
    assert (sized.reason is not None) == (expected == 0), sized.reason
    if expected:
        assert lot_rule(security).round_down(sized.volume) == sized.volume


def test_market_buy_keeps_a_buffer_for_slippage() -> None:
    # 1000 shares at 10.00 cost 10,005.10 with fees: affordable as a limit order, not as a market order with 1%.
    limit = size_order(
        signal("600000.SH", "buy", 1000, limit_price=10.0), SizingRule(mode="mirror"), account(10_010), 10.0
    )
    market = size_order(signal("600000.SH", "buy", 1000), SizingRule(mode="mirror"), account(10_010), 10.0)
    assert (limit.volume, market.volume) == (1000, 900)


def test_the_cash_check_counts_the_minimum_commission() -> None:
    # 1000 x 10.00 = 10,000 fits 10,003 of cash, but with the broker's 5 CNY minimum commission it does not.
    sized = size_order(
        signal("600000.SH", "buy", 1000, limit_price=10.0), SizingRule(mode="mirror"), account(10_003), 10.0
    )
    assert sized.volume == 900 and sized.note is not None and "shrunk" in sized.note
    rule = SizingRule(mode="mirror", commission_rate=0.0003, min_commission=5.0)
    assert rule.buy_cost(900 * 10.0) == pytest.approx(9000 + 5 + 0.09)
    assert rule.buy_cost(100_000.0) == pytest.approx(100_000 + 30 + 1)  # the rate beats the minimum
    assert rule.buy_cost(rule.affordable_value(10_003)) <= 10_003 + 1e-9


def test_a_free_broker_needs_no_commission_margin() -> None:
    rule = SizingRule(mode="mirror", commission_rate=0.0, min_commission=0.0)
    sized = size_order(signal("600000.SH", "buy", 1000, limit_price=10.0), rule, account(10_000.1), 10.0)
    assert sized.volume == 1000


def test_insufficient_cash_can_reject_instead_of_shrinking() -> None:
    sized = size_order(
        signal("600000.SH", "buy", 5000, limit_price=10.0),
        SizingRule(mode="mirror", on_insufficient_cash=REJECT),
        account(30_000),
        10.0,
    )
    assert sized.volume == 0
    assert sized.reason is not None and sized.reason.code == "sizing.insufficient_cash"
    assert "insufficient cash" in sized.reason.en and "with fees" in sized.reason.en
    assert "可用资金不足" in sized.reason.zh


def test_ratio_without_leader_total_value_is_rejected() -> None:
    sized = size_order(
        signal("600000.SH", "buy", 1000, total_value=None), SizingRule(mode="ratio"), account(100_000), 10.0
    )
    assert sized.volume == 0 and sized.reason is not None and "totalValue" in sized.reason.text()


def test_buy_without_any_price_is_rejected() -> None:
    sized = size_order(signal("600000.SH", "buy", 1000), SizingRule(mode="mirror"), account(100_000), None)
    assert sized.volume == 0 and sized.reason is not None and "no price" in sized.reason.en


# (case, security, leader amount, leader position after, follower volume, sellable, mode, expected)
SELL_TABLE = [
    ("mirror sell within sellable", "600000.SH", 500, 500, 1000, 1000, "mirror", 500),
    ("never more than sellable (T+1)", "600000.SH", 1000, 0, 1500, 800, "mirror", 800),
    ("leader closed: close ours, odd lot included", "600000.SH", 1000, 0, 1250, 1250, "mirror", 1250),
    ("partial sell rounds down to whole lots", "000001.SZ", 1050, 500, 2000, 2000, "mirror", 1000),
    ("odd-lot partial sell is rounded, not sent", "000001.SZ", 150, 850, 1000, 1000, "mirror", 100),
    ("odd lot below one lot only to close: rejected", "000001.SZ", 50, 950, 1000, 1000, "mirror", 0),
    ("selling everything may be an odd lot", "000001.SZ", 1250, 100, 1250, 1250, "mirror", 1250),
    ("the sellable odd part goes with the lots", "600000.SH", 1550, 100, 1550, 1050, "mirror", 1050),
    ("round lots plus the whole odd part", "600000.SH", 570, 480, 1050, 1050, "mirror", 550),
    ("the odd part alone may be sold", "600000.SH", 60, 990, 1050, 1050, "mirror", 50),
    ("whole lots when closer than lots plus odd", "600000.SH", 1040, 10, 1050, 1050, "mirror", 1000),
    ("STAR partial sell in steps of 1", "688981.SH", 321, 1000, 1000, 1000, "mirror", 321),
    ("STAR partial sell below 200 rejected", "688981.SH", 150, 1000, 1000, 1000, "mirror", 0),
    ("all bought today: nothing sellable", "600000.SH", 100, 0, 1000, 0, "mirror", 0),
    ("no position at all", "600000.SH", 100, 0, 0, 0, "mirror", 0),
]


@pytest.mark.parametrize(
    ("case", "security", "amount", "position_after", "volume", "sellable", "mode", "expected"),
    SELL_TABLE,
    ids=[row[0] for row in SELL_TABLE],
)
def test_sell_sizing_table(
    case: str, security: str, amount: int, position_after: int, volume: int, sellable: int, mode: str, expected: int
) -> None:
    holdings = {security.replace(".", "_"): Holding(volume=volume, sellable=sellable, avg_price=10.0)} if volume else {}
    sized = size_order(
        signal(security, "sell", amount, position_after=position_after),
        SizingRule(mode=mode),
        account(0, total=volume * 10.0, **holdings),
        10.0,
    )
    assert sized.volume == expected, case
    assert sized.volume <= sellable
    assert (sized.reason is not None) == (expected == 0), sized.reason


def test_ratio_sell_scales_like_a_buy() -> None:
    # A 100k follower of a 1M leader that sells 3000 sells 300.
    holdings = {"600000_SH": Holding(volume=1000, sellable=1000, avg_price=10.0)}
    sized = size_order(
        signal("600000.SH", "sell", 3000, position_after=7000),
        SizingRule(mode="ratio"),
        account(90_000, total=100_000, **holdings),
        10.0,
    )
    assert sized.volume == 300


def test_server_sizing_overrides_the_local_default() -> None:
    local = SizingRule(mode="ratio", on_insufficient_cash=REJECT)
    rule = local.overridden_by({"mode": "fixed", "multiplier": 2})
    assert (rule.mode, rule.multiplier, rule.on_insufficient_cash) == ("fixed", 2.0, REJECT)
    assert local.overridden_by({}) is local


def test_unknown_sizing_mode_is_an_error() -> None:
    with pytest.raises(SizingError):
        SizingRule(mode="martingale")
