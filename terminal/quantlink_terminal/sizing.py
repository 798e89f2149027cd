"""Turn the leader's order into this follower's share count: sizing mode, A-share lot rules, sellable
volume (T+1) and available cash after fees. Pure functions: every input is an argument."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from quantlink_terminal.executors.base import AccountSnapshot
from quantlink_terminal.instruments import largest_valid_sell, lot_rule
from quantlink_terminal.models import BUY, Signal
from quantlink_terminal.reasons import Reason, money

MIRROR = "mirror"
RATIO = "ratio"
FIXED = "fixed"
MODES = (MIRROR, RATIO, FIXED)

SHRINK = "shrink"
REJECT = "reject"
CASH_POLICIES = (SHRINK, REJECT)

# 过户费 (transfer fee), charged on both sides by SSE and SZSE since 2022: 0.001% of the traded value.
TRANSFER_FEE_RATE = 0.00001


class SizingError(ValueError):
    """A sizing setting that makes no sense (unknown mode, negative multiplier)."""


@dataclass(frozen=True)
class SizingRule:
    mode: str = RATIO
    multiplier: float = 1.0
    on_insufficient_cash: str = SHRINK
    # A market buy may fill above the leader's price; keep this share of cash aside so it still fits.
    market_buy_buffer: float = 0.01
    # The broker's commission on a buy (佣金): a rate of the value with a minimum per order (often 5 CNY).
    commission_rate: float = 0.0003
    min_commission: float = 5.0

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
        if not 0 <= self.commission_rate < 0.01:
            raise SizingError(f"commission_rate must be in [0, 0.01), got {self.commission_rate!r}")
        if not 0 <= self.min_commission <= 100:
            raise SizingError(f"min_commission must be in [0, 100] CNY, got {self.min_commission!r}")

    def overridden_by(self, server_sizing: Mapping[str, Any]) -> SizingRule:
        """The subscription's sizing (set by the owner on the server) wins over the local default; cash and
        fee handling stay local because only the trader knows their account."""
        if not server_sizing:
            return self
        return replace(
            self,
            mode=str(server_sizing.get("mode", self.mode)),
            multiplier=float(server_sizing.get("multiplier", 1.0)),
        )

    def buy_cost(self, value: float) -> float:
        """Cash a buy of `value` takes, fees included."""
        return value + max(self.min_commission, value * self.commission_rate) + value * TRANSFER_FEE_RATE

    def affordable_value(self, cash: float) -> float:
        """The largest order value whose cost with fees fits in `cash`."""
        with_min_fee = (cash - self.min_commission) / (1 + TRANSFER_FEE_RATE)
        with_rate = cash / (1 + self.commission_rate + TRANSFER_FEE_RATE)
        return max(0.0, min(with_min_fee, with_rate))


@dataclass(frozen=True)
class SizedOrder:
    volume: int  # 0 means rejected, with `reason`
    reason: Reason | None = None
    note: str | None = None  # why the volume differs from the plain scaled target (shrunk, closed)


def _rejected(code: str, en: str, zh: str) -> SizedOrder:
    return SizedOrder(volume=0, reason=Reason(f"sizing.{code}", en, zh))


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
    if signal.close_all:
        # "Sell everything sellable": the leader's count is for reference only, so no sizing mode applies.
        return _size_sell(signal, account, target=None)
    try:
        target = scaled_amount(signal, rule, account.total_asset)
    except SizingError as exc:
        return _rejected(
            "no_leader_value", str(exc), "按比例跟单需要策略的总资产（totalValue），此信号没有提供"
        )
    if signal.side == BUY:
        return _size_buy(signal, rule, account, price, target)
    return _size_sell(signal, account, target)


def _size_sell(signal: Signal, account: AccountSnapshot, target: float | None) -> SizedOrder:
    """`target` None: sell every sellable share (closeAll)."""
    security = signal.security
    holding = account.holding(security)
    if holding.sellable <= 0:
        if holding.volume > 0:
            return _rejected(
                "nothing_sellable",
                f"nothing sellable in {security} today: {holding.volume} shares held, all bought today (T+1)",
                f"{security} 今日无可卖数量：持有 {holding.volume} 股均为今日买入（T+1）",
            )
        return _rejected("no_position", f"no position in {security} to sell", f"没有 {security} 的持仓可卖")
    if target is None:
        return SizedOrder(
            volume=holding.sellable,
            note=f"closeAll: every sellable share ({holding.sellable} of {holding.volume} held; "
            f"the leader's count {signal.amount} is for reference only)",
        )
    note = None
    wanted = math.floor(target + 1e-9)
    if signal.leader.position_after == 0:
        # The leader closed the position: close ours too, whatever the scaled count says, so no
        # odd-lot remainder is left behind.
        wanted, note = holding.volume, "leader closed the position"
    volume = largest_valid_sell(security, wanted, holding.sellable)
    if volume == 0:
        minimum = lot_rule(security).minimum
        return _rejected(
            "below_min_lot",
            f"sized to {wanted} shares, below the minimum sell lot of {minimum} "
            f"(holding {holding.volume}, sellable {holding.sellable})",
            f"按比例计算为卖出 {wanted} 股，不足最小卖出单位 {minimum} 股（持有 {holding.volume} 股，"
            f"可卖 {holding.sellable} 股）",
        )
    if wanted > holding.sellable:
        note = f"capped at the {holding.sellable} sellable shares"
    return SizedOrder(volume=volume, note=note)


def _size_buy(
    signal: Signal, rule: SizingRule, account: AccountSnapshot, price: float | None, target: float
) -> SizedOrder:
    security = signal.security
    lots = lot_rule(security)
    volume = lots.round_down(math.floor(target + 1e-9))
    if volume == 0:
        return _rejected(
            "below_min_lot",
            f"sized to {target:.0f} shares, below the minimum lot of {lots.minimum}",
            f"按比例计算为 {target:.0f} 股，不足最小买入单位 {lots.minimum} 股",
        )
    if price is None or price <= 0:
        return _rejected(
            "no_price",
            f"no price known for {security}; cannot check the buy against cash",
            f"无法取得 {security} 的价格，无法核对可用资金",
        )
    unit_cost = price if signal.is_limit else price * (1 + rule.market_buy_buffer)
    needed = rule.buy_cost(volume * unit_cost)
    if needed <= account.cash:
        return SizedOrder(volume=volume)
    if rule.on_insufficient_cash == REJECT:
        return _rejected(
            "insufficient_cash",
            f"insufficient cash: {volume} shares need {money(needed)} with fees, "
            f"available {money(account.cash)}",
            f"可用资金不足：{volume} 股含费用需 {money(needed)} 元，可用 {money(account.cash)} 元",
        )
    affordable = lots.round_down(min(volume, math.floor(rule.affordable_value(account.cash) / unit_cost)))
    if affordable == 0:
        one_lot = rule.buy_cost(lots.minimum * unit_cost)
        return _rejected(
            "insufficient_cash",
            f"insufficient cash: one lot of {lots.minimum} needs {money(one_lot)} with fees, "
            f"available {money(account.cash)}",
            f"可用资金不足：最小买入 {lots.minimum} 股含费用需 {money(one_lot)} 元，"
            f"可用 {money(account.cash)} 元",
        )
    return SizedOrder(volume=affordable, note=f"shrunk from {volume} to {affordable} shares to fit the cash")
