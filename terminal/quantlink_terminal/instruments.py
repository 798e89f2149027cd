"""What the exchanges accept for one security: lot sizes, price ticks, valid sell volumes.

Codes are in exchange form (600000.SH, 000001.SZ, 430047.BJ). Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from quantlink_terminal.models import BUY

STOCK_TICK = Decimal("0.01")
FUND_TICK = Decimal("0.001")  # ETFs, LOFs, closed-end funds and convertible bonds quote in 0.001


@dataclass(frozen=True)
class LotRule:
    """An order must be at least `minimum` shares, then grow in `step`s."""

    minimum: int
    step: int

    def round_down(self, volume: int) -> int:
        if volume < self.minimum:
            return 0
        return self.minimum + (volume - self.minimum) // self.step * self.step


def lot_rule(security: str) -> LotRule:
    """SSE/SZSE main boards and ChiNext trade in 100-share lots; the STAR market (688/689) from 200 shares
    in steps of 1; the Beijing exchange from 100 shares in steps of 1."""
    code, _, exchange = security.partition(".")
    if exchange == "SH" and code.startswith(("688", "689")):
        return LotRule(minimum=200, step=1)
    if exchange == "BJ":
        return LotRule(minimum=100, step=1)
    return LotRule(minimum=100, step=100)


def tick_size(security: str) -> Decimal:
    """The minimum price step: 0.001 for funds, ETFs and convertible bonds, 0.01 for stocks."""
    code, _, exchange = security.partition(".")
    if exchange == "SH" and code.startswith(("5", "11")):
        return FUND_TICK  # 50-58 funds and ETFs, 110/113/118 convertible bonds
    if exchange == "SZ" and code.startswith(("15", "16", "18", "12")):
        return FUND_TICK  # 159 ETFs, 16 LOFs, 18 closed-end funds, 12x convertible bonds
    return STOCK_TICK


def round_limit_price(security: str, side: str, price: float) -> float:
    """The leader's limit price on this security's tick, never worse for the follower: a buy rounds down
    (pays no more than the leader's limit), a sell rounds up (takes no less)."""
    tick = tick_size(security)
    steps = (Decimal(repr(price)) / tick).to_integral_value(ROUND_FLOOR if side == BUY else ROUND_CEILING)
    return float(steps * tick)


def largest_valid_sell(security: str, wanted: int, sellable: int) -> int:
    """The largest sell of at most `wanted` shares the exchange accepts from a `sellable` balance: whole lots,
    optionally with the balance's whole odd-lot part in the same order (余股须一次性申报卖出), or everything
    sellable. 0 when no such volume exists."""
    cap = min(wanted, sellable)
    if cap <= 0:
        return 0
    if cap == sellable:
        return sellable  # the whole balance, odd part included, is always a valid sell
    lots = lot_rule(security)
    if lots.step == 1:  # STAR and Beijing: any count from the minimum up
        return cap if cap >= lots.minimum else 0
    best = cap // lots.step * lots.step
    odd = sellable % lots.step
    if odd and cap >= odd:
        best = max(best, (cap - odd) // lots.step * lots.step + odd)
    return best


def is_valid_sell(security: str, volume: int, sellable: int) -> bool:
    return volume > 0 and largest_valid_sell(security, volume, sellable) == volume
