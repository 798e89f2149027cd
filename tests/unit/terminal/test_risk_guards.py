"""The trader's risk guards, one row each: a signal that passes and one that is refused, with the reason the
ack carries (English and Chinese) and the proof that the refused one never reached the broker.
terminal/README.md shows the same table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.clock import CHINA_TZ
from quantlink_terminal.execution import SignalRunner
from quantlink_terminal.executors.base import AccountSnapshot, OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.journal import Journal
from quantlink_terminal.models import EXECUTED, REJECTED, Signal, parse_signal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.risk import RiskGuard, RiskLimits
from quantlink_terminal.sizing import SizingRule
from tests.unit.terminal.terminal_fakes import TRADING_MORNING, CountingExecutor, SettableClock, wire_signal

LUNCH = datetime(2026, 11, 20, 12, 0, tzinfo=CHINA_TZ)
NATIONAL_DAY = datetime(2026, 10, 5, 10, 0, tzinfo=CHINA_TZ)  # a Monday, closed


@dataclass(frozen=True)
class Row:
    guard: str
    limits: RiskLimits
    passes: dict[str, Any]
    refused: dict[str, Any]
    zh: str  # a phrase of the Chinese reason
    refused_at: datetime = TRADING_MORNING
    bought_before: int = 0  # shares of 600000.SH at 10.00 bought earlier today
    paused: bool = False
    held: dict[str, int] = field(default_factory=dict)


ROWS = [
    Row("max_order_value", RiskLimits(max_order_value=50_000), {"amount": 5000}, {"amount": 5100}, "超过单笔上限"),
    Row(
        "max_daily_buy_value",
        RiskLimits(max_daily_buy_value=100_000),
        {"amount": 2000},
        {"amount": 2100},
        "超过当日买入上限",
        bought_before=8000,
    ),
    Row(
        "max_position_share",
        RiskLimits(max_position_share=0.2),
        {"amount": 20_000},
        {"amount": 20_100},
        "将占总资产",
    ),
    Row(
        "allowed_securities",
        RiskLimits(allowed_securities=("600000.SH", "688*.SH")),
        {"security": "688981.SH", "amount": 200},
        {"security": "000001.SZ"},
        "不在允许交易列表中",
    ),
    Row(
        "blocked_securities",
        RiskLimits(blocked_securities=("000001.SZ",)),
        {"security": "600000.SH"},
        {"security": "000001.SZ", "side": "sell", "position_after": 0},
        "禁止交易列表",
        held={"000001.SZ": 1000},
    ),
    Row(
        "max_price_deviation",
        RiskLimits(max_price_deviation=0.02),
        {"price": 10.0, "limit_price": 10.2},
        {"price": 10.0, "limit_price": 10.21},
        "偏离策略价格",
    ),
    Row(
        "trading_hours_only",
        RiskLimits(trading_hours_only=True),
        {},
        {},
        "不在交易时间内",
        refused_at=LUNCH,
    ),
    Row(
        "trading_hours_only",
        RiskLimits(trading_hours_only=True),
        {},
        {},
        "不在交易时间内",
        refused_at=NATIONAL_DAY,
    ),
    Row("paused", RiskLimits(), {}, {}, "已暂停交易", paused=True),
]


@dataclass
class Terminal:
    runner: SignalRunner
    broker: CountingExecutor
    clock: SettableClock
    pause: PauseSwitch


def terminal(tmp_path: Path, limits: RiskLimits, held: dict[str, int]) -> Terminal:
    clock = SettableClock(TRADING_MORNING)
    paper = PaperExecutor(PaperSettings(str(tmp_path / "paper.json"), initial_cash=1_000_000.0), clock=clock)
    paper.connect()
    for security, volume in held.items():  # bought on an earlier day: sellable now
        clock.now = datetime(2026, 11, 19, 10, 0, tzinfo=CHINA_TZ)
        paper.place(paper_order(security, volume))
        clock.now = TRADING_MORNING
        paper.account()
    broker = CountingExecutor(paper)
    pause = PauseSwitch(str(tmp_path / "paused"))
    guard = RiskGuard(limits, market_calendar(), pause)
    journal = Journal(str(tmp_path / "journal.sqlite3"))
    return Terminal(SignalRunner(journal, broker, SizingRule(mode="mirror"), guard, clock=clock), broker, clock, pause)


def paper_order(security: str, volume: int) -> OrderRequest:
    return OrderRequest(f"QLseed{security}", security, "buy", volume, None, 10.0)


def signal(signal_id: str, at: datetime, **fields: Any) -> Signal:
    wire = wire_signal(signal_id, **{"amount": 1000, **fields}, expires_at=at.replace(hour=23))
    return parse_signal({**wire, "ackToken": f"{signal_id}#1"})


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.guard}-{i}" for i, row in enumerate(ROWS)])
def test_each_guard_passes_a_signal_within_it_and_refuses_one_beyond_it(tmp_path: Path, row: Row) -> None:
    t = terminal(tmp_path, row.limits, row.held)
    if row.bought_before:
        assert t.runner.run(signal("earlier", TRADING_MORNING, amount=row.bought_before)).status == EXECUTED
    placed_before = len(t.broker.placed)

    passed = t.runner.run(signal("within", TRADING_MORNING, **row.passes))
    assert passed.status == EXECUTED, passed.error
    assert len(t.broker.placed) == placed_before + 1

    if row.paused:
        t.pause.pause("leader looks wrong", TRADING_MORNING)
    t.clock.now = row.refused_at
    refused = t.runner.run(signal("beyond", row.refused_at, **row.refused))
    assert (refused.status, refused.code) == (REJECTED, f"risk.{row.guard}" if row.guard != "paused" else "paused")
    assert refused.error is not None and row.guard.replace("paused", "paused on this terminal") in refused.error
    assert row.zh in refused.error
    assert len(t.broker.placed) == placed_before + 1  # the refused signal never reached the broker


def test_a_refusal_names_the_numbers() -> None:
    guard = RiskGuard(RiskLimits(max_order_value=50_000), market_calendar())
    reason = guard.before_placing(
        signal("s", TRADING_MORNING, amount=5100), 5100, 10.0, AccountSnapshot(1e6, 1e6), bought_today=0
    )
    assert reason is not None
    assert "buy 5100 600000.SH at 10.0 is worth 51,000.00 CNY, above the limit of 50,000.00 CNY" in reason.en
    assert "买入 600000.SH 5100 股 × 10.0 元 = 51,000.00 元，超过单笔上限 50,000.00 元" in reason.zh


def test_failed_and_refused_buys_do_not_count_toward_the_daily_limit(tmp_path: Path) -> None:
    t = terminal(tmp_path, RiskLimits(max_daily_buy_value=30_000, max_order_value=25_000), {})
    assert t.runner.run(signal("too-big", TRADING_MORNING, amount=3000)).status == REJECTED  # 30k > 25k
    assert t.runner.run(signal("fits", TRADING_MORNING, amount=2000)).status == EXECUTED  # 20k
    refused = t.runner.run(signal("over-the-day", TRADING_MORNING, amount=1100))  # 20k + 11k > 30k
    assert refused.code == "risk.max_daily_buy_value" and "20,000.00" in (refused.error or "")
    t.clock.now = TRADING_MORNING.replace(day=23)  # the next trading day (Monday) starts at zero
    assert t.runner.run(signal("next-day", t.clock.now, amount=1100)).status == EXECUTED


def test_resume_lifts_the_pause(tmp_path: Path) -> None:
    t = terminal(tmp_path, RiskLimits(), {})
    t.pause.pause(None, TRADING_MORNING)
    assert t.runner.run(signal("while-paused", TRADING_MORNING)).code == "paused"
    assert t.pause.resume() and not t.pause.resume()
    assert t.runner.run(signal("after", TRADING_MORNING)).status == EXECUTED


def test_a_hand_made_pause_file_counts(tmp_path: Path) -> None:
    (tmp_path / "paused").write_text("back on Monday\n", encoding="utf-8")
    state = PauseSwitch(str(tmp_path / "paused")).state()
    assert state is not None and state.reason == "back on Monday"
