"""The trader's own limits, checked before every order: a leader's mistake or a leaked webhook token must not
be able to empty a follower's account. Each refusal is a Reason whose code names the setting that refused.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import datetime

from quantlink_terminal.calendar import MarketCalendar
from quantlink_terminal.clock import to_iso
from quantlink_terminal.executors.base import AccountSnapshot
from quantlink_terminal.models import BUY, Signal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.reasons import Reason, money

_JOINQUANT_SUFFIXES = {"XSHG": "SH", "XSHE": "SZ", "XBSE": "BJ"}
_PATTERN = re.compile(r"^[0-9*?\[\]!-]{1,12}\.(SH|SZ|BJ|\*)$")


class RiskConfigError(ValueError):
    """A risk setting that cannot work (a negative limit, a security pattern that matches nothing)."""


def security_pattern(text: str) -> str:
    """A config entry as an exchange-form glob: '600000.XSHG' -> '600000.SH'; '688*.SH' stays."""
    code, dot, suffix = text.strip().upper().partition(".")
    pattern = f"{code}.{_JOINQUANT_SUFFIXES.get(suffix, suffix)}" if dot else code
    if not _PATTERN.match(pattern):
        raise RiskConfigError(
            f"{text!r} is not a security code: write it like 600000.SH, 000001.SZ, 430047.BJ (JoinQuant's "
            ".XSHG/.XSHE/.XBSE work too), or with wildcards like 688*.SH"
        )
    return pattern


@dataclass(frozen=True)
class RiskLimits:
    """`None` (or empty) switches a guard off."""

    max_order_value: float | None = None  # CNY per order, buys and sells
    max_daily_buy_value: float | None = None  # CNY of buys per trading day, counted from the journal
    max_position_share: float | None = None  # a buy may not lift one security above this share of assets
    allowed_securities: tuple[str, ...] = ()  # when set, only these are traded (globs, exchange form)
    blocked_securities: tuple[str, ...] = ()  # never traded, either side
    max_price_deviation: float | None = None  # a limit price this far from the leader's price is refused
    trading_hours_only: bool = False  # refuse outside 09:30-11:30 / 13:00-15:00 on trading days

    def __post_init__(self) -> None:
        for name in ("max_order_value", "max_daily_buy_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise RiskConfigError(f"{name} must be a positive amount of CNY, got {value!r}")
        if self.max_position_share is not None and not 0 < self.max_position_share <= 1:
            raise RiskConfigError(f"max_position_share must be in (0, 1], got {self.max_position_share!r}")
        if self.max_price_deviation is not None and not 0 < self.max_price_deviation < 1:
            raise RiskConfigError(f"max_price_deviation must be in (0, 1), got {self.max_price_deviation!r}")


def _matches(security: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(security, pattern) for pattern in patterns)


def _refuse(guard: str, en: str, zh: str) -> Reason:
    return Reason(
        f"risk.{guard}",
        f"refused by this terminal's risk guard {guard}: {en}",
        f"本终端风控（{guard}）拒绝：{zh}",
    )


class RiskGuard:
    def __init__(
        self, limits: RiskLimits, calendar: MarketCalendar, pause: PauseSwitch | None = None
    ) -> None:
        self.limits = limits
        self._calendar = calendar
        self._pause = pause

    def before_sizing(self, signal: Signal, now: datetime) -> Reason | None:
        """Checks that need nothing from the broker: the kill switch, the clock, the security, the price."""
        paused = self._pause.state() if self._pause is not None else None
        if paused is not None:
            since_en = f" since {paused.since}" if paused.since else ""
            since_zh = f"（自 {paused.since} 起）" if paused.since else ""
            why = f" ({paused.reason})" if paused.reason else ""
            return Reason(
                "paused",
                f"trading is paused on this terminal{since_en}{why}; "
                "run `quantlink-terminal resume` to trade again",
                f"本终端已暂停交易{since_zh}{why}；运行 `quantlink-terminal resume` 恢复交易",
            )
        limits = self.limits
        if limits.trading_hours_only and not self._calendar.in_session(now):
            opening = to_iso(self._calendar.next_open(now))
            return _refuse(
                "trading_hours_only",
                f"received at {to_iso(now)}, outside trading hours (next session opens {opening})",
                f"{to_iso(now)} 收到，不在交易时间内（下一交易时段 {opening} 开始）",
            )
        if limits.blocked_securities and _matches(signal.security, limits.blocked_securities):
            return _refuse(
                "blocked_securities", f"{signal.security} is blocked", f"{signal.security} 在禁止交易列表中"
            )
        if limits.allowed_securities and not _matches(signal.security, limits.allowed_securities):
            return _refuse(
                "allowed_securities",
                f"{signal.security} is not in the allowed securities",
                f"{signal.security} 不在允许交易列表中",
            )
        return self._price_deviation(signal)

    def _price_deviation(self, signal: Signal) -> Reason | None:
        limit = self.limits.max_price_deviation
        if limit is None or signal.limit_price is None:
            return None
        if not signal.price:
            return _refuse(
                "max_price_deviation",
                f"limit price {signal.limit_price} cannot be compared: the signal has no leader price",
                f"限价 {signal.limit_price} 无法核对：信号没有策略成交价",
            )
        deviation = abs(signal.limit_price - signal.price) / signal.price
        if deviation <= limit + 1e-12:
            return None
        return _refuse(
            "max_price_deviation",
            f"limit price {signal.limit_price} is {deviation:.2%} from the leader's price {signal.price} "
            f"(limit {limit:.2%})",
            f"限价 {signal.limit_price} 偏离策略价格 {signal.price} 达 {deviation:.2%}（上限 {limit:.2%}）",
        )

    def before_placing(
        self, signal: Signal, volume: int, price: float | None, account: AccountSnapshot, bought_today: float
    ) -> Reason | None:
        """Checks on the sized order: its value, today's buys, the position it would make."""
        limits = self.limits
        checks_value = limits.max_order_value or limits.max_daily_buy_value or limits.max_position_share
        if not checks_value:
            return None
        if price is None or price <= 0:
            return _refuse(
                "max_order_value",
                f"no price known for {signal.security}, so the order's value cannot be checked",
                f"无法取得 {signal.security} 的价格，无法核对委托金额",
            )
        value = volume * price
        if limits.max_order_value is not None and value > limits.max_order_value:
            return _refuse(
                "max_order_value",
                f"{signal.side} {volume} {signal.security} at {price} is worth {money(value)} CNY, above the "
                f"limit of {money(limits.max_order_value)} CNY per order",
                f"{'买入' if signal.side == BUY else '卖出'} {signal.security} {volume} 股 × {price} 元 = "
                f"{money(value)} 元，超过单笔上限 {money(limits.max_order_value)} 元",
            )
        if signal.side != BUY:
            return None
        if limits.max_daily_buy_value is not None and bought_today + value > limits.max_daily_buy_value:
            return _refuse(
                "max_daily_buy_value",
                f"this buy of {money(value)} CNY after {money(bought_today)} CNY bought today exceeds the "
                f"daily limit of {money(limits.max_daily_buy_value)} CNY",
                f"今日已买入 {money(bought_today)} 元，再买 {money(value)} 元将超过当日买入上限 "
                f"{money(limits.max_daily_buy_value)} 元",
            )
        share_limit = limits.max_position_share
        if share_limit is not None and account.total_asset > 0:
            held = account.holding(signal.security).volume * price
            share = (held + value) / account.total_asset
            if share > share_limit + 1e-12:
                return _refuse(
                    "max_position_share",
                    f"{signal.security} would be {share:.1%} of total assets "
                    f"{money(account.total_asset)} CNY (limit {share_limit:.0%})",
                    f"买入后 {signal.security} 将占总资产 {money(account.total_asset)} 元的 {share:.1%}"
                    f"（上限 {share_limit:.0%}）",
                )
        return None
