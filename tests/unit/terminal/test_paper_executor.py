"""The paper executor: a simulated A-share account persisted to JSON."""

from __future__ import annotations

import json
from pathlib import Path

from quantlink_terminal.executors.base import OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.models import EXECUTED, FAILED
from tests.unit.terminal.terminal_fakes import SettableClock


def order(
    key: str, security: str, side: str, volume: int, price: float | None = 10.0, limit_price: float | None = None
) -> OrderRequest:
    return OrderRequest(
        client_order_id=key, security=security, side=side, volume=volume, limit_price=limit_price, reference_price=price
    )


def paper(tmp_path: Path, clock: SettableClock, cash: float = 100_000.0) -> PaperExecutor:
    executor = PaperExecutor(PaperSettings(state_file=str(tmp_path / "paper.json"), initial_cash=cash), clock=clock)
    executor.connect()
    return executor


def test_buy_fills_and_persists(tmp_path: Path) -> None:
    clock = SettableClock()
    outcome = paper(tmp_path, clock).place(order("QL1", "600000.SH", "buy", 1000, price=10.5))

    assert (outcome.status, outcome.filled, outcome.avg_price) == (EXECUTED, 1000, 10.5)
    reopened = paper(tmp_path, clock).account()
    assert reopened.cash == 100_000 - 10_500
    assert reopened.holding("600000.SH").volume == 1000


def test_bought_shares_are_sellable_only_the_next_day(tmp_path: Path) -> None:
    clock = SettableClock()
    executor = paper(tmp_path, clock)
    executor.place(order("QL1", "600000.SH", "buy", 1000))

    refused = executor.place(order("QL2", "600000.SH", "sell", 1000))
    assert refused.status == FAILED and refused.error is not None and "sellable" in refused.error

    clock.advance(days=1)
    assert executor.account().holding("600000.SH").sellable == 1000
    sold = executor.place(order("QL3", "600000.SH", "sell", 1000, price=11.0))
    assert sold.status == EXECUTED
    assert executor.account().cash == 100_000 - 10_000 + 11_000
    assert "600000.SH" not in executor.account().holdings


def test_lot_rules_and_cash_are_enforced_like_a_broker(tmp_path: Path) -> None:
    executor = paper(tmp_path, SettableClock(), cash=10_000)
    odd = executor.place(order("QL1", "600000.SH", "buy", 150))
    too_dear = executor.place(order("QL2", "600000.SH", "buy", 1100))
    star = executor.place(order("QL3", "688981.SH", "buy", 201, price=20.0))

    assert odd.status == FAILED and odd.error is not None and "valid buy volume" in odd.error
    assert too_dear.status == FAILED and too_dear.error is not None and "insufficient cash" in too_dear.error
    assert star.status == EXECUTED and star.filled == 201


def test_odd_lot_sell_only_to_close(tmp_path: Path) -> None:
    clock = SettableClock()
    executor = paper(tmp_path, clock)
    executor.place(order("QL1", "600000.SH", "buy", 1000))
    executor.place(order("QL2", "688981.SH", "buy", 250))  # STAR: 250 is a valid buy
    clock.advance(days=1)
    partial_odd = executor.place(order("QL3", "600000.SH", "sell", 50))
    close = executor.place(order("QL4", "688981.SH", "sell", 250))
    assert partial_odd.status == FAILED and partial_odd.error is not None and "odd-lot" in partial_odd.error
    assert close.status == EXECUTED
    assert executor.account().holding("600000.SH").volume == 1000


def test_the_same_client_order_id_is_one_order(tmp_path: Path) -> None:
    executor = paper(tmp_path, SettableClock())
    first = executor.place(order("QL1", "600000.SH", "buy", 1000))
    again = executor.place(order("QL1", "600000.SH", "buy", 1000))
    assert again == first
    assert executor.account().holding("600000.SH").volume == 1000
    assert executor.find_order("QL1") == first
    assert executor.find_order("QL-unknown") is None


def test_limit_orders_fill_at_the_limit_price(tmp_path: Path) -> None:
    executor = paper(tmp_path, SettableClock())
    outcome = executor.place(order("QL1", "000001.SZ", "buy", 100, price=12.0, limit_price=11.8))
    assert outcome.avg_price == 11.8


def test_state_file_is_plain_json(tmp_path: Path) -> None:
    paper(tmp_path, SettableClock()).place(order("QL1", "600000.SH", "buy", 100))
    state = json.loads((tmp_path / "paper.json").read_text(encoding="utf-8"))
    assert state["positions"]["600000.SH"]["volume"] == 100
    assert state["orders"]["QL1"]["outcome"]["status"] == EXECUTED
