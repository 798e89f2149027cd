"""The sync suggestion: the orders that would put a drifted terminal back within its lot bounds.
Shown, never executed by the server; the owner may send it (quantlink.drift.service.send_sync).

Sells come first (they free the cash the buys need): each sells the excess as the exchange accepts it
(whole lots, or the balance's odd lot with them, or everything; only what is sellable today, T+1). Then
buys, the largest shortfall first, in whole lots, each checked against the cash left after the sells'
estimated proceeds and the buys before it (fees included), shrunk to what fits or left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from quantlink.models import Side
from quantlink.securities import largest_valid_sell, lot_rule
from quantlink.views.drift import DriftRow, SyncOrder

if TYPE_CHECKING:
    from quantlink.drift.compute import Followed

# What a trade costs on top of its value, estimated on the safe side: commission (~0.03%, at least
# 5 CNY), transfer fee 0.001%, and on sells the 0.05% stamp duty; a market buy may fill a little higher.
_BUY_COST_RATE = 0.0003 + 0.00001 + 0.005
_SELL_COST_RATE = 0.0003 + 0.00001 + 0.0005
_MIN_COMMISSION = 5.0


def _strategy_for(security: str, parts: Mapping[str, Mapping[str, int]], followed: Sequence[Followed]) -> str:
    """The strategy a sync order is sent under: the one with the largest expected part of the security,
    else (a security no strategy holds) the first followed."""
    mine = parts.get(security) or {}
    if mine:
        return max(sorted(mine), key=lambda strategy_id: mine[strategy_id])
    return sorted(f.strategy_id for f in followed)[0]


def suggest_sync(
    rows: Sequence[DriftRow],
    actual: Mapping[str, Mapping[str, Any]],
    parts: Mapping[str, Mapping[str, int]],
    *,
    cash: float,
    followed: Sequence[Followed],
) -> list[SyncOrder]:
    if not followed:
        return []
    sells: list[tuple[float, SyncOrder]] = []
    buys: list[tuple[float, DriftRow]] = []
    for row in rows:
        if row.within_lot_bound:
            continue
        if row.diff_volume > 0:
            position = actual.get(row.security, {})
            volume = int(position.get("volume") or 0)
            sellable = int(position.get("sellable", volume) or 0)
            wanted = volume if row.expected_volume == 0 else math.floor(row.diff_volume)
            amount = largest_valid_sell(row.security, wanted, sellable)
            if amount > 0:
                strategy_id = _strategy_for(row.security, parts, followed)
                order = SyncOrder(security=row.security, side=Side.SELL, amount=amount, strategy_id=strategy_id)
                sells.append((amount * row.price, order))
        elif row.price > 0:
            buys.append((-row.diff_volume * row.price, row))
    orders = [order for _, order in sorted(sells, key=lambda s: -s[0])]
    available = cash + sum(o.amount * _price(rows, o.security) * (1 - _SELL_COST_RATE) for o in orders)
    for _, row in sorted(buys, key=lambda b: -b[0]):
        lots = lot_rule(row.security)
        amount = lots.round_down(math.floor(-row.diff_volume))
        affordable = lots.round_down(int(max(0.0, available - _MIN_COMMISSION) / (row.price * (1 + _BUY_COST_RATE))))
        amount = min(amount, affordable)
        if amount <= 0:
            continue
        available -= _buy_cost(amount * row.price)
        strategy_id = _strategy_for(row.security, parts, followed)
        orders.append(SyncOrder(security=row.security, side=Side.BUY, amount=amount, strategy_id=strategy_id))
    return orders


def _price(rows: Sequence[DriftRow], security: str) -> float:
    return next((row.price for row in rows if row.security == security), 0.0)


def _buy_cost(value: float) -> float:
    return value * (1 + _BUY_COST_RATE) + _MIN_COMMISSION
