"""What the exchanges accept: ticks, limit-price rounding, valid sells."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantlink_terminal.instruments import is_valid_sell, largest_valid_sell, round_limit_price, tick_size


@pytest.mark.parametrize(
    ("security", "tick"),
    [
        ("600000.SH", "0.01"),
        ("688981.SH", "0.01"),
        ("000001.SZ", "0.01"),
        ("300750.SZ", "0.01"),
        ("430047.BJ", "0.01"),
        ("510300.SH", "0.001"),  # ETF
        ("588000.SH", "0.001"),  # STAR ETF
        ("159915.SZ", "0.001"),  # ETF
        ("161725.SZ", "0.001"),  # LOF
        ("113050.SH", "0.001"),  # convertible bond
        ("123001.SZ", "0.001"),  # convertible bond
    ],
)
def test_tick_sizes(security: str, tick: str) -> None:
    assert tick_size(security) == Decimal(tick)


@pytest.mark.parametrize(
    ("security", "side", "price", "rounded"),
    [
        ("600000.SH", "buy", 10.526, 10.52),  # a buy pays no more than the leader's limit
        ("600000.SH", "sell", 10.521, 10.53),  # a sell takes no less
        ("600000.SH", "buy", 10.52, 10.52),  # already on the tick: unchanged (no float drift)
        ("600000.SH", "sell", 0.29, 0.29),
        ("510300.SH", "buy", 3.9876, 3.987),
        ("510300.SH", "sell", 3.9871, 3.988),
        ("600000.SH", "buy", 0.004, 0.0),
    ],
)
def test_limit_prices_round_toward_the_follower(security: str, side: str, price: float, rounded: float) -> None:
    assert round_limit_price(security, side, price) == rounded


@pytest.mark.parametrize(
    ("security", "wanted", "sellable", "largest"),
    [
        ("600000.SH", 500, 1000, 500),
        ("600000.SH", 550, 1000, 500),  # no odd part to add
        ("600000.SH", 570, 1050, 550),  # lots plus the whole odd 50
        ("600000.SH", 1040, 1050, 1000),
        ("600000.SH", 60, 1050, 50),  # the odd part alone
        ("600000.SH", 40, 1050, 0),
        ("600000.SH", 5000, 1050, 1050),  # everything sellable
        ("688981.SH", 199, 1000, 0),
        ("688981.SH", 201, 1000, 201),
        ("688981.SH", 150, 150, 150),  # the whole balance, below 200
        ("430047.BJ", 99, 1000, 0),
        ("430047.BJ", 123, 1000, 123),
    ],
)
def test_largest_valid_sell(security: str, wanted: int, sellable: int, largest: int) -> None:
    assert largest_valid_sell(security, wanted, sellable) == largest
    if largest:
        assert is_valid_sell(security, largest, sellable)
