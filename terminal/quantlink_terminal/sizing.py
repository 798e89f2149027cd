"""Turn the leader's order into this follower's share count: sizing mode, A-share lot rules, sellable
volume (T+1) and available cash. Pure functions: every input is an argument."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from quantlink_terminal.executors.base import AccountSnapshot
from quantlink_terminal.models import BUY, Signal

MIRROR = "mirror"
RATIO = "ratio"
FIXED = "fixed"
MODES = (MIRROR, RATIO, FIXED)

SHRINK = "shrink"
REJECT = "reject"
CASH_POLICIES = (SHRINK, REJECT)


class SizingError(ValueError):
    """A sizing setting that makes no sense (unknown mode, negative multiplier)."""


@dataclass(frozen=True)
class SizingRule:
    mode: str = RATIO
    multiplier: float = 1.0
    on_insufficient_cash: str = SHRINK
    # A market buy may fill above the leader's price; keep this share of cash aside so it still fits.
    market_buy_buffer: float = 0.01

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SizingError(f"sizing mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.multiplier > 0:
            raise SizingError(f"sizing multiplier must be positive, got {self.multiplier!r}")
        if self.on_insufficient_cash not in CASH_POLICIES:
            raise SizingError(
                f"on_insufficient_cash must be shrink or reject, got {self.on_insufficient_cash!r}"
            )
        if not 0 <= self.market_buy_buffer < 1:
            raise SizingError(f"market_buy_buffer must be in [0, 1), got {self.market_buy_buffer!r}")

    def overridden_by(self, server_sizing: Mapping[str, Any]) -> SizingRule:
        """The subscription's sizing (set by the owner on the server) wins over the local default; cash
        handling stays local because only the trader knows how much slack their account needs."""
        if not server_sizing:
            return self
        return SizingRule(
            mode=str(server_sizing.get("mode", self.mode)),
            multiplier=float(server_sizing.get("multiplier", 1.0)),
            on_insufficient_cash=self.on_insufficient_cash,
            market_buy_buffer=self.market_buy_buffer,
        )


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


@dataclass(frozen=True)
class SizedOrder:
    volume: int  # 0 means rejected, with `reason`
    reason: str | None = None
    note: str | None = None  # why the volume differs from the plain scaled target (shrunk, closed)


def _rejected(reason: str) -> SizedOrder:
    return SizedOrder(volume=0, reason=reason)


def scaled_amount(signal: Signal, rule: SizingRule, follower_total_asset: float) -> float:
    """The leader's share count scaled to this follower, before lot rules."""
    if rule.mode == MIRROR:
        return float(signal.amount)
    if rule.mode == FIXED:
        return signal.amount * rule.multiplier
    leader_total = signal.leader.total_value
    if not leader_total or leader_total <= 0:
        raise SizingError("ratio sizing needs the leader's totalValue, which this signal lacks")
    return signal.amount * follower_total_asset / leader_total * rule.multiplier


def size_order(signal: Signal, rule: SizingRule, account: AccountSnapshot, price: float | None) -> SizedOrder:
    """The follower's volume for `signal`, or a rejection with a plain-language reason."""
    try:
        target = scaled_amount(signal, rule, account.total_asset)
    except SizingError as exc:
        return _rejected(str(exc))
    if signal.side == BUY:
        return _size_buy(signal, rule, account, price, target)
    return _size_sell(signal, account, target)


def _size_sell(signal: Signal, account: AccountSnapshot, target: float) -> SizedOrder:
    lots = lot_rule(signal.security)
    holding = account.holding(signal.security)
    if holding.sellable <= 0:
        if holding.volume > 0:
            return _rejected(
                f"nothing sellable in {signal.security} today: {holding.volume} shares held, "
                "all bought today (T+1)"
            )
        return _rejected(f"no position in {signal.security} to sell")
    note = None
    wanted = math.floor(target + 1e-9)
    if signal.leader.position_after == 0:
        # The leader closed the position: close ours too, whatever the scaled count says, so no
        # odd-lot remainder is left behind.
        wanted, note = holding.volume, "leader closed the position"
    volume = min(wanted, holding.sellable)
    if volume == holding.volume:
        # Selling the whole position is the one case an odd lot may be sold.
        return SizedOrder(volume=volume, note=note)
    rounded = lots.round_down(volume)
    if rounded == 0:
        return _rejected(
            f"sized to {volume} shares, below the minimum sell lot of {lots.minimum} "
            f"(holding {holding.volume}, sellable {holding.sellable})"
        )
    if volume < wanted:
        note = f"capped at the {holding.sellable} sellable shares"
    return SizedOrder(volume=rounded, note=note)


def _size_buy(
    signal: Signal, rule: SizingRule, account: AccountSnapshot, price: float | None, target: float
) -> SizedOrder:
    lots = lot_rule(signal.security)
    volume = lots.round_down(math.floor(target + 1e-9))
    if volume == 0:
        return _rejected(f"sized to {target:.0f} shares, below the minimum lot of {lots.minimum}")
    if price is None or price <= 0:
        return _rejected(f"no price known for {signal.security}; cannot check the buy against cash")
    unit_cost = price if signal.is_limit else price * (1 + rule.market_buy_buffer)
    needed = volume * unit_cost
    if needed <= account.cash:
        return SizedOrder(volume=volume)
    if rule.on_insufficient_cash == REJECT:
        return _rejected(
            f"insufficient cash: {volume} shares need {needed:.2f}, available {account.cash:.2f}"
        )
    affordable = lots.round_down(min(volume, math.floor(account.cash / unit_cost)))
    if affordable == 0:
        return _rejected(
            f"insufficient cash: one lot of {lots.minimum} needs {lots.minimum * unit_cost:.2f}, "
            f"available {account.cash:.2f}"
        )
    return SizedOrder(volume=affordable, note=f"shrunk from {volume} to {affordable} shares to fit the cash")
