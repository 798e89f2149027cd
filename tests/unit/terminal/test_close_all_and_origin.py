"""API.md's optional signal fields on the QMT agent: `closeAll` (sell everything sellable; `amount` is the
leader's count, for reference only) and `origin` (`source` by default, `sync` for a drift repair), through the
paper executor and through the vendor's xtquant over the native stand-in."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from quantlink_terminal.activity import ActivityLog, read_activity
from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.clock import CHINA_TZ
from quantlink_terminal.execution import SignalRunner
from quantlink_terminal.executors.base import AccountSnapshot, Executor, Holding, OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.executors.qmt import QmtExecutor, QmtSettings
from quantlink_terminal.journal import Journal
from quantlink_terminal.models import EXECUTED, ORIGIN_SOURCE, ORIGIN_SYNC, REJECTED, MalformedSignal, parse_signal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.risk import RiskGuard, RiskLimits
from quantlink_terminal.sizing import SizingRule, size_order
from quantlink_terminal.status import StatusReport, build_status, render
from tests.unit.terminal.terminal_fakes import TRADING_MORNING, CountingExecutor, SettableClock, wire_signal
from tests.unit.terminal.vendor_xtquant import VendorXtquant

YESTERDAY = datetime(2026, 11, 19, 10, 0, tzinfo=CHINA_TZ)


def pulled(signal_id: str, **fields: Any) -> dict[str, Any]:
    return {**wire_signal(signal_id, **fields), "ackToken": f"{signal_id}#1"}


# -- parsing --------------------------------------------------------------------------------------------


def test_close_all_and_origin_are_read_from_the_pull_answer() -> None:
    signal = parse_signal(pulled("s1", side="sell", amount=300, close_all=True, origin="sync"))
    assert (signal.close_all, signal.origin, signal.is_sync, signal.amount) == (True, ORIGIN_SYNC, True, 300)


def test_without_the_optional_fields_a_signal_is_a_plain_source_signal() -> None:
    signal = parse_signal(pulled("s1", side="sell"))
    assert (signal.close_all, signal.origin, signal.is_sync) == (False, ORIGIN_SOURCE, False)


def test_an_origin_this_agent_does_not_know_is_carried_and_executes_like_any_other() -> None:
    assert parse_signal(pulled("s1", origin="rebalance")).origin == "rebalance"


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"side": "buy", "close_all": True}, "only valid on a sell"),
        ({"side": "sell", "close_all": "yes"}, "closeAll must be true or false"),
        ({"origin": 7}, "origin must be a short string"),
        ({"origin": "x" * 33}, "origin must be a short string"),
    ],
)
def test_a_malformed_close_all_or_origin_is_refused_with_what_is_wrong(fields: dict[str, Any], complaint: str) -> None:
    raw = pulled("s1", **{key: value for key, value in fields.items() if key != "close_all" and key != "origin"})
    if "close_all" in fields:
        raw["closeAll"] = fields["close_all"]
    if "origin" in fields:
        raw["origin"] = fields["origin"]
    with pytest.raises(MalformedSignal) as raised:
        parse_signal(raw)
    assert complaint in raised.value.reason and raised.value.signal_id == "s1"


# -- sizing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["mirror", "ratio", "fixed"])
def test_close_all_sells_every_sellable_share_whatever_the_leaders_count_and_the_sizing(mode: str) -> None:
    # 1,550 held, 500 of them bought today (T+1): 1,050 sellable, odd lot included
    account = AccountSnapshot(cash=0.0, total_asset=100_000.0, holdings={"600000.SH": Holding(1550, 1050, 10.0)})
    signal = parse_signal(pulled("s1", side="sell", amount=300, close_all=True, total_value=None))
    sized = size_order(signal, SizingRule(mode=mode, multiplier=0.5), account, 10.0)
    assert sized.volume == 1050
    assert sized.note is not None and "closeAll" in sized.note and "300" in sized.note


def test_close_all_with_nothing_sellable_today_is_refused_with_t_plus_1() -> None:
    account = AccountSnapshot(cash=0.0, total_asset=100_000.0, holdings={"600000.SH": Holding(800, 0, 10.0)})
    sized = size_order(parse_signal(pulled("s1", side="sell", close_all=True)), SizingRule(), account, 10.0)
    assert sized.volume == 0 and sized.reason is not None
    assert sized.reason.code == "sizing.nothing_sellable" and "T+1" in sized.reason.en


def test_close_all_without_a_position_is_refused() -> None:
    sized = size_order(
        parse_signal(pulled("s1", side="sell", close_all=True)), SizingRule(), AccountSnapshot(0.0, 0.0), 10.0
    )
    assert sized.volume == 0 and sized.reason is not None and sized.reason.code == "sizing.no_position"


# -- through the runner, the journal, the activity log and `status` ---------------------------------------


def runner(tmp_path: Path, executor: Executor, clock: SettableClock, limits: RiskLimits | None = None) -> SignalRunner:
    guard = RiskGuard(limits or RiskLimits(), market_calendar(), PauseSwitch(str(tmp_path / "paused")))
    activity = ActivityLog(str(tmp_path / "activity.jsonl"), clock=clock)
    journal = Journal(str(tmp_path / "journal.sqlite3"))
    return SignalRunner(journal, executor, SizingRule(mode="mirror"), guard, clock=clock, activity=activity)


def status_of(tmp_path: Path, clock: SettableClock) -> StatusReport:
    return build_status(str(tmp_path / "journal.sqlite3"), PauseSwitch(str(tmp_path / "p")), market_calendar(), clock())


def paper_holding(tmp_path: Path, clock: SettableClock, security: str, yesterday: int, today: int) -> PaperExecutor:
    paper = PaperExecutor(PaperSettings(str(tmp_path / "paper.json"), initial_cash=1_000_000.0), clock=clock)
    clock.now = YESTERDAY
    paper.connect()
    paper.place(OrderRequest("QLseed1", security, "buy", yesterday, None, 10.0))
    clock.now = TRADING_MORNING
    if today:
        paper.place(OrderRequest("QLseed2", security, "buy", today, None, 10.0))
    return paper


def test_close_all_on_the_paper_account_sells_what_is_sellable_and_keeps_todays_buys(tmp_path: Path) -> None:
    # STAR market: odd counts can be bought, so the account can hold 1,050 sellable shares
    clock = SettableClock()
    paper = paper_holding(tmp_path, clock, "688981.SH", yesterday=1050, today=500)
    broker = CountingExecutor(paper)

    outcome = runner(tmp_path, broker, clock).run(
        parse_signal(pulled("s1", security="688981.SH", side="sell", amount=300, close_all=True))
    )

    assert (outcome.status, outcome.filled) == (EXECUTED, 1050)
    assert [(o.side, o.volume) for o in broker.placed] == [("sell", 1050)]
    assert paper.account().holding("688981.SH").volume == 500  # bought today: not sellable until tomorrow
    journal = Journal(str(tmp_path / "journal.sqlite3"))
    entry = journal.get("s1")
    assert entry is not None and (entry.close_all, entry.volume, entry.amount) == (True, 1050, 300)


def test_close_all_is_still_bound_by_the_order_value_guard(tmp_path: Path) -> None:
    clock = SettableClock()
    broker = CountingExecutor(paper_holding(tmp_path, clock, "600000.SH", yesterday=1000, today=0))
    outcome = runner(tmp_path, broker, clock, RiskLimits(max_order_value=5_000)).run(
        parse_signal(pulled("s1", side="sell", amount=100, close_all=True))
    )
    assert (outcome.status, outcome.code) == (REJECTED, "risk.max_order_value") and broker.placed == []


def test_a_sync_signal_executes_like_any_other_and_says_so_in_the_log_and_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SettableClock()
    paper = PaperExecutor(PaperSettings(str(tmp_path / "paper.json")), clock=clock)
    paper.connect()
    caplog.set_level("INFO", logger="quantlink_terminal.activity")

    outcome = runner(tmp_path, paper, clock).run(parse_signal(pulled("s1", amount=200, origin="sync")))

    assert (outcome.status, outcome.filled) == (EXECUTED, 200)
    assert any("[drift sync]" in r.message and "持仓同步" in r.message for r in caplog.records)
    events = read_activity(str(tmp_path / "activity.jsonl"))
    received = [e for e in events if e["event"] == "signal_received"]
    settled = [e for e in events if e["event"] == "signal_outcome"]
    assert [(e["origin"], e["closeAll"]) for e in received] == [("sync", False)]
    assert [(e["origin"], e["status"]) for e in settled] == [("sync", "executed")]

    report = build_status(
        str(tmp_path / "journal.sqlite3"), PauseSwitch(str(tmp_path / "p")), market_calendar(), clock()
    )
    assert report.today["sync"] == 1
    assert [(row["signalId"], row["origin"], row["closeAll"]) for row in report.signals] == [("s1", "sync", False)]
    text = io.StringIO()
    render(report, text)
    [line] = [line for line in text.getvalue().splitlines() if "s1" in line]
    assert "buy 200 600000.SH [drift sync]" in line and "EXECUTED" in line
    assert "1 drift sync" in text.getvalue()


def test_status_shows_a_close_all_sell_as_all_with_the_leaders_count(tmp_path: Path) -> None:
    clock = SettableClock()
    paper = paper_holding(tmp_path, clock, "000001.SZ", yesterday=700, today=0)
    runner(tmp_path, paper, clock).run(
        parse_signal(pulled("s1", security="000001.SZ", side="sell", amount=90, close_all=True))
    )
    text = io.StringIO()
    render(
        build_status(str(tmp_path / "journal.sqlite3"), PauseSwitch(str(tmp_path / "p")), market_calendar(), clock()),
        text,
    )
    [line] = [line for line in text.getvalue().splitlines() if "s1" in line]
    assert "sell ALL (leader 90) 000001.SZ" in line and "filled 700" in line


# -- through the vendor's xtquant ------------------------------------------------------------------------


def test_close_all_through_xtquant_orders_the_whole_sellable_balance(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    counter = real_xtquant.counter
    counter.hold("600000.SH", 1550, 1050, 10.0)  # 500 bought today
    executor = QmtExecutor(
        QmtSettings(userdata_path=str(tmp_path), account_id="8880001", call_timeout=5.0, query_retry_delay=0.01),
        poll_interval=0.05,
    )
    executor.connect()
    clock = SettableClock()
    try:
        outcome = runner(tmp_path, executor, clock).run(
            parse_signal(pulled("s1", side="sell", amount=300, close_all=True, origin="sync"))
        )
    finally:
        executor.close()
    assert (outcome.status, outcome.filled) == (EXECUTED, 1050)
    [placed] = counter.placed
    assert (placed["m_strStockCode"], placed["m_nOrderVolume"]) == ("600000.SH", 1050)
    assert counter.positions["600000.SH"].volume == 500
