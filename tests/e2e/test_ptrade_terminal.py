"""A PTrade terminal on the local stack: registered with `kind: "ptrade"`, its generated script run by the
fake PTrade against the real pull/ack over HTTP. A webhook signal is executed once, also when PTrade dies
right after order() and restarts with nothing but its research folder; refused signals reach the owner's
timeline with the reason; a QuantLink the PTrade cannot reach is said clearly and crashes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack
from quantlink_terminal.ptrade.filejournal import FileJournal
from quantlink_terminal.ptrade.script import render_ptrade_script
from quantlink_terminal.ptrade.settings import PTradeSettings, ScriptSettings, default_fingerprint
from quantlink_terminal.risk import RiskLimits
from quantlink_terminal.sizing import SizingRule
from tests.e2e.test_terminal_agent import delivery_of, redeliver_now
from tests.unit.terminal.ptrade_fake import FakePTrade, SimulatedCrash

pytestmark = pytest.mark.e2e


def script_for(api_base: str, terminal: dict[str, Any], risk: RiskLimits | None = None) -> str:
    return render_ptrade_script(
        ScriptSettings(
            api_base=api_base,
            auth_token=terminal["authToken"],
            device_fingerprint=default_fingerprint(terminal["terminalId"], terminal["authToken"]),
            terminal_id=terminal["terminalId"],
            sizing=SizingRule(mode="ratio"),
            # The suite runs at any hour; the trading-hours guard has its own tests.
            risk=risk or RiskLimits(trading_hours_only=False),
            ptrade=PTradeSettings(order_timeout=2.0, order_poll=0.1),
            report_after_close=None,
        )
    )


@pytest.fixture
def ptrade_setup(owner: OwnerClient, tmp_path: Path) -> dict[str, Any]:
    strategy = owner.create_strategy("ptrade-e2e")
    answer = owner.request("POST", "/api/terminals", {"name": "ptrade-account", "kind": "ptrade"})
    assert answer.status_code == 201, answer.text
    terminal = answer.json()
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
    fake = FakePTrade(tmp_path / "research")
    fake.research.mkdir()
    fake.broker.quote("600000.SS", 10.52)
    return {"strategy": strategy, "terminal": terminal, "ptrade": fake}


def tick_until(ptrade: FakePTrade, done: Callable[[], Any], timeout: float = 60) -> Any:
    """PTrade's timer, firing until `done()` answers something."""
    deadline = time.monotonic() + timeout
    while True:
        ptrade.tick()
        result = done()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout} s; PTrade's log:\n{ptrade.log.text()}")
        time.sleep(0.3)


def settled(owner: OwnerClient, strategy_id: str, signal_id: str, status: str) -> Callable[[], Any]:
    def check() -> dict[str, Any] | None:
        delivery = delivery_of(owner, strategy_id, signal_id)
        return delivery if delivery is not None and delivery["status"] == status else None

    return check


def send(strategy: dict[str, Any], seq: int, **order: Any) -> str:
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(seq, fn="order", **order))
    assert answer.status_code == 202, answer.text
    signal_id: str = answer.json()["signalId"]
    return signal_id


def test_a_terminal_is_registered_as_ptrade_and_an_unknown_kind_is_refused(owner: OwnerClient) -> None:
    created = owner.request("POST", "/api/terminals", {"name": "PTrade 1", "kind": "ptrade"})
    assert created.status_code == 201, created.text
    refused = owner.request("POST", "/api/terminals", {"name": "MT5", "kind": "mt5"})
    assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_ERROR"
    assert refused.json()["details"]
    items = owner.request("GET", "/api/terminals").json()["items"]
    assert [(t["name"], t["kind"]) for t in items] == [("PTrade 1", "ptrade")]  # nothing written for MT5


def test_a_webhook_signal_is_executed_by_the_script_and_acked(
    owner: OwnerClient, local_stack: RunningStack, ptrade_setup: dict[str, Any]
) -> None:
    strategy, terminal, ptrade = ptrade_setup["strategy"], ptrade_setup["terminal"], ptrade_setup["ptrade"]
    ptrade.start(script_for(local_stack.api_base, terminal))

    signal_id = send(strategy, 1, amount=1200)
    delivery = tick_until(ptrade, settled(owner, strategy["strategyId"], signal_id, "EXECUTED"))

    assert ptrade.broker.order_calls == [("600000.SS", 1200, 10.62)]  # 10.52 + 1%, on the tick
    assert ptrade.broker.positions["600000.SS"].amount == 1200
    assert delivery["brokerOrderId"] in ptrade.broker.orders and delivery["ackedAt"]
    assert delivery["terminalId"] == terminal["terminalId"]


def test_ptrade_dying_after_order_executes_the_signal_once_across_the_restart(
    owner: OwnerClient, local_stack: RunningStack, ptrade_setup: dict[str, Any]
) -> None:
    strategy, terminal, ptrade = ptrade_setup["strategy"], ptrade_setup["terminal"], ptrade_setup["ptrade"]
    script = script_for(local_stack.api_base, terminal)
    journal_path = str(ptrade.research / "quantlink-journal.jsonl")

    # Given PTrade dies right after order(), before the outcome is journaled or acked
    ptrade.start(script)
    signal_id = send(strategy, 2, amount=1200)
    ptrade.broker.crash_after_order = True

    def crashed() -> bool:
        try:
            ptrade.tick()
        except SimulatedCrash:
            return True
        return False

    deadline = time.monotonic() + 60
    while not crashed():
        assert time.monotonic() < deadline, ptrade.log.text()
        time.sleep(0.3)
    entry = FileJournal(journal_path).get(signal_id)
    assert entry is not None and entry.state == "placing" and entry.ack_token
    assert len(ptrade.broker.order_calls) == 1

    # When PTrade restarts (a new process; the research folder is all that survived) and the signal comes back
    redeliver_now(local_stack, terminal["terminalId"], entry.ack_token)
    ptrade.restart(script)
    delivery = tick_until(ptrade, settled(owner, strategy["strategyId"], signal_id, "EXECUTED"))

    # Then the order is found again by its id, acked, and never placed a second time
    assert len(ptrade.broker.order_calls) == 1
    assert ptrade.broker.positions["600000.SS"].amount == 1200
    assert delivery["brokerOrderId"] in ptrade.broker.orders
    assert FileJournal(journal_path).get(signal_id).state == "acked"  # type: ignore[union-attr]


def test_refused_signals_reach_the_timeline_with_the_reason(
    owner: OwnerClient, local_stack: RunningStack, ptrade_setup: dict[str, Any]
) -> None:
    strategy, terminal, ptrade = ptrade_setup["strategy"], ptrade_setup["terminal"], ptrade_setup["ptrade"]
    ptrade.start(script_for(local_stack.api_base, terminal, RiskLimits(max_order_value=5_000)))

    beijing = send(strategy, 3, security="430047.XBSE", amount=1000)
    too_big = send(strategy, 4, amount=1200)  # 1200 x 10.52 = 12,624 CNY
    bj = tick_until(ptrade, settled(owner, strategy["strategyId"], beijing, "REJECTED"))
    big = tick_until(ptrade, settled(owner, strategy["strategyId"], too_big, "REJECTED"))

    assert "Beijing" in bj["error"] and "北交所" in bj["error"] and not bj["brokerOrderId"]
    assert "max_order_value" in big["error"] and "12,624.00" in big["error"] and "超过单笔上限" in big["error"]
    assert ptrade.broker.order_calls == []


def test_a_ptrade_that_cannot_reach_quantlink_says_why_and_keeps_running(
    owner: OwnerClient, ptrade_setup: dict[str, Any]
) -> None:
    strategy, terminal, ptrade = ptrade_setup["strategy"], ptrade_setup["terminal"], ptrade_setup["ptrade"]
    signal_id = send(strategy, 5, amount=1200)
    ptrade.start(script_for("http://127.0.0.1:1", terminal))  # what a broker's closed firewall looks like

    for _ in range(3):
        ptrade.tick()  # never raises

    [line] = [message for level, message in ptrade.log.lines if level == "error"]
    assert "cannot be reached from this PTrade" in line and "block outbound internet" in line
    assert "外网" in line and "127.0.0.1 on port 1" in line
    assert ptrade.broker.order_calls == []
    delivery = delivery_of(owner, strategy["strategyId"], signal_id)
    assert delivery is not None and delivery["status"] == "QUEUED"  # waiting on QuantLink, not lost
