"""Drift of one terminal on one trading day, as pure functions of what was reported.

Expected holdings: for each strategy the terminal follows, the leader's snapshot scaled by that
subscription's sizing exactly as the agent sizes orders (terminal/quantlink_terminal/sizing.py:
mirror = the leader's count, fixed = count × multiplier, ratio = count × terminal total / leader total
× multiplier), rounded down to A-share lots (mirror keeps the count: the agent copies it exactly), and
summed over the strategies. Against it, what the terminal reported.

Per security, the lot bound is one lot step per strategy that rounded its part (lot rounding alone can
explain that much); a row within it is not drift. The score is the share of the terminal's total value
that would have to trade to put every row back within its bound: max(value short, value over) / total,
capped at 1 (all cash where it should be fully invested, or the wrong stocks, is 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from quantlink.drift.sync import suggest_sync
from quantlink.securities import lot_rule, normalize_security
from quantlink.views.drift import DriftReport, DriftRow, DriftStatus

_EPSILON = 1e-9


@dataclass(frozen=True)
class Followed:
    """One strategy the terminal follows: its subscription's sizing and the leader's snapshot of the day."""

    strategy_id: str
    sizing: Mapping[str, Any]
    snapshot: Mapping[str, Any] | None  # JoinQuantPositionsBody, wire form; None: none that day


@dataclass(frozen=True)
class Expected:
    volume: int
    bound: int
    price: float
    # strategy id -> its part of `volume` (a sync order is sent under the strategy with the largest part)
    parts: dict[str, int]


def _scaled(amount: float, sizing: Mapping[str, Any], terminal_total: float, leader_total: float | None) -> float:
    mode = str(sizing.get("mode", "ratio"))
    multiplier = float(sizing.get("multiplier", 1.0))
    if mode == "mirror":
        return amount
    if mode == "fixed":
        return amount * multiplier
    if not leader_total or leader_total <= 0:
        raise ValueError("ratio sizing needs the leader's totalValue")
    return amount * terminal_total / leader_total * multiplier


def expected_holdings(followed: Sequence[Followed], terminal_total: float) -> dict[str, Expected]:
    """Security (exchange form) -> the expected holding over every strategy with a snapshot."""
    volumes: dict[str, int] = {}
    bounds: dict[str, int] = {}
    prices: dict[str, float] = {}
    parts: dict[str, dict[str, int]] = {}
    for strategy in followed:
        if strategy.snapshot is None:
            continue
        leader_total = strategy.snapshot.get("totalValue")
        for position in strategy.snapshot.get("positions", []):
            security = normalize_security(str(position["security"]))
            amount = float(position.get("amount") or 0)
            if security is None or amount <= 0:
                continue
            scaled = _scaled(amount, strategy.sizing, terminal_total, leader_total)
            lots = lot_rule(security)
            if str(strategy.sizing.get("mode", "ratio")) == "mirror":
                volume, bound = round(scaled), 0
            else:
                volume, bound = lots.round_down(math.floor(scaled + _EPSILON)), lots.step
            volumes[security] = volumes.get(security, 0) + volume
            bounds[security] = bounds.get(security, 0) + bound
            parts.setdefault(security, {})[strategy.strategy_id] = volume
            price = float(position.get("price") or 0)
            if price > 0 and security not in prices:
                prices[security] = price
    return {s: Expected(volumes[s], bounds[s], prices.get(s, 0.0), parts[s]) for s in volumes}


def terminal_total_value(holdings: Mapping[str, Any], prices: Mapping[str, float]) -> float:
    reported = holdings.get("totalAsset")
    if reported:
        return float(reported)
    positions = sum(
        float(p.get("volume") or 0) * (prices.get(str(p["security"])) or float(p.get("avgPrice") or 0))
        for p in holdings.get("positions", [])
    )
    return float(holdings.get("cash") or 0) + positions


def _actual(holdings: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for position in holdings.get("positions", []):
        security = normalize_security(str(position["security"]))
        if security is not None and float(position.get("volume") or 0) > 0:
            found[security] = position
    return found


def _empty(terminal_id: str, day: date, status: DriftStatus, threshold: float, at: datetime) -> DriftReport:
    return DriftReport(
        terminal_id=terminal_id, date=day, status=status, score=0.0, threshold=threshold, rows=[], sync=[],
        computed_at=at,
    )  # fmt: skip


def drift_report(
    terminal_id: str,
    day: date,
    *,
    trading_day: bool,
    holdings: Mapping[str, Any] | None,
    followed: Sequence[Followed],
    threshold: float,
    at: datetime,
    provisional_calendar: bool = False,
) -> DriftReport:
    """The report; missing inputs are reported as such (status), never as drift."""
    if not trading_day:
        return _empty(terminal_id, day, DriftStatus.NOT_A_TRADING_DAY, threshold, at)
    if holdings is None:
        return _empty(terminal_id, day, DriftStatus.MISSING_TERMINAL, threshold, at)
    missing = sorted(f.strategy_id for f in followed if f.snapshot is None or not _usable(f))
    if missing:
        report = _empty(terminal_id, day, DriftStatus.MISSING_LEADER, threshold, at)
        return report.model_copy(update={"missing_strategies": missing})

    leader_prices = {
        security: float(p.get("price") or 0)
        for f in followed
        for p in (f.snapshot or {}).get("positions", [])
        if (security := normalize_security(str(p["security"]))) and float(p.get("price") or 0) > 0
    }
    total = terminal_total_value(holdings, leader_prices)
    expected = expected_holdings(followed, total)
    actual = _actual(holdings)
    rows: list[DriftRow] = []
    short_value = over_value = 0.0
    for security in sorted(set(expected) | set(actual)):
        want = expected.get(security, Expected(0, 0, 0.0, {}))
        position = actual.get(security, {})
        have = float(position.get("volume") or 0)
        price = want.price or float(position.get("avgPrice") or 0)
        diff = have - want.volume
        within = abs(diff) <= want.bound + _EPSILON
        if not within:
            excess = (abs(diff) - want.bound) * price
            if diff < 0:
                short_value += excess
            else:
                over_value += excess
        rows.append(
            DriftRow(
                security=security,
                expected_volume=want.volume,
                actual_volume=have,
                diff_volume=diff,
                expected_value=round(want.volume * price, 2),
                actual_value=round(have * price, 2),
                expected_weight=_weight(want.volume * price, total),
                actual_weight=_weight(have * price, total),
                within_lot_bound=within,
                price=price,
                lot_bound=want.bound,
            )
        )
    score = min(1.0, max(short_value, over_value) / total) if total > 0 else 0.0
    status = DriftStatus.DRIFT if score > threshold else DriftStatus.OK
    cash = float(holdings.get("cash") or 0)
    sync = suggest_sync(rows, actual, {s: e.parts for s, e in expected.items()}, cash=cash, followed=followed)
    return DriftReport(
        terminal_id=terminal_id,
        date=day,
        status=status,
        score=round(score, 6),
        threshold=threshold,
        rows=rows,
        sync=sync,
        computed_at=at,
        total_value=round(total, 2),
        cash=cash,
        provisional_calendar=provisional_calendar or None,
    )


def _usable(followed: Followed) -> bool:
    """A ratio-sized follower needs the leader's total value to scale by."""
    if str(followed.sizing.get("mode", "ratio")) != "ratio":
        return True
    return bool(followed.snapshot and (followed.snapshot.get("totalValue") or 0) > 0)


def _weight(value: float, total: float) -> float:
    return round(value / total, 6) if total > 0 else 0.0
