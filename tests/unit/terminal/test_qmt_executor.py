"""The xtquant executor against a fake xtquant with the real module layout (loaded via sys.modules)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from quantlink_terminal.executors.base import ExecutorUnavailable, OrderRequest
from quantlink_terminal.executors.qmt import INSTALL_FIX, QmtExecutor, QmtSettings, load_xtquant
from quantlink_terminal.models import EXECUTED, FAILED


def settings(tmp_path: Path, order_timeout: float = 10.0) -> QmtSettings:
    return QmtSettings(userdata_path=str(tmp_path), account_id="8880001", order_timeout=order_timeout)


def connected(tmp_path: Path, order_timeout: float = 10.0) -> QmtExecutor:
    executor = QmtExecutor(settings(tmp_path, order_timeout), poll_interval=0.05)
    executor.connect()
    return executor


def order(
    security: str = "600000.SH",
    side: str = "buy",
    volume: int = 1000,
    limit_price: float | None = None,
    key: str = "QL0123456789abcdef0123",
) -> OrderRequest:
    return OrderRequest(
        client_order_id=key, security=security, side=side, volume=volume, limit_price=limit_price, reference_price=10.0
    )


def test_connect_starts_registers_and_subscribes(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    trader = fake_xtquant.xttrader.BROKER.traders[-1]
    assert trader.path == str(tmp_path) and trader.started
    assert isinstance(trader.callback, fake_xtquant.xttrader.XtQuantTraderCallback)
    executor.close()
    assert trader.stopped


def test_connect_failure_says_to_start_miniqmt(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    fake_xtquant.xttrader.BROKER.connect_result = -1
    with pytest.raises(ExecutorUnavailable) as raised:
        connected(tmp_path)
    assert "returned -1" in str(raised.value) and "miniQMT" in raised.value.fix


def test_subscribe_failure_points_at_the_account_id(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    fake_xtquant.xttrader.BROKER.subscribe_result = -1
    with pytest.raises(ExecutorUnavailable) as raised:
        connected(tmp_path)
    assert "8880001" in str(raised.value) and "account_id" in raised.value.fix


def test_missing_userdata_folder_is_explained(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    executor = QmtExecutor(QmtSettings(userdata_path=str(tmp_path / "nope"), account_id="1"))
    with pytest.raises(ExecutorUnavailable) as raised:
        executor.connect()
    assert "userdata_mini" in raised.value.fix


def test_missing_xtquant_tells_how_to_install_it() -> None:
    def no_xtquant(name: str) -> ModuleType:
        raise ImportError(f"No module named {name!r}")

    with pytest.raises(ExecutorUnavailable) as raised:
        load_xtquant(no_xtquant)
    assert raised.value.fix == INSTALL_FIX


@pytest.mark.parametrize(
    ("security", "limit_price", "price_type", "price"),
    [
        ("600000.SH", None, 42, 0.0),  # MARKET_SH_CONVERT_5_CANCEL
        ("688981.SH", None, 42, 0.0),
        ("000001.SZ", None, 47, 0.0),  # MARKET_SZ_CONVERT_5_CANCEL
        ("430047.BJ", None, 47, 0.0),
        ("600000.SH", 10.52, 11, 10.52),  # FIX_PRICE
        ("000001.SZ", 9.8, 11, 9.8),
    ],
)
def test_order_and_price_types_per_market(
    fake_xtquant: ModuleType, tmp_path: Path, security: str, limit_price: float | None, price_type: int, price: float
) -> None:
    fake_xtquant.xttrader.BROKER.hold(security, 5000, 5000, 10.0)
    connected(tmp_path).place(order(security, side="sell", volume=200, limit_price=limit_price))
    placed = fake_xtquant.xttrader.BROKER.placed[-1]
    assert (placed["price_type"], placed["price"]) == (price_type, price)
    assert placed["order_type"] == fake_xtquant.xtconstant.STOCK_SELL


def test_fill_details_come_from_the_callbacks(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    fake_xtquant.xttrader.BROKER.quotes["600000.SH"] = 10.37
    outcome = connected(tmp_path).place(order())

    placed = fake_xtquant.xttrader.BROKER.placed[-1]
    assert placed["order_type"] == fake_xtquant.xtconstant.STOCK_BUY
    assert (placed["order_remark"], placed["strategy_name"]) == ("QL0123456789abcdef0123", "quantlink")
    assert len(placed["order_remark"]) <= 24  # xtquant's limit for order_remark
    assert (outcome.status, outcome.filled, outcome.avg_price) == (EXECUTED, 1000, 10.37)
    assert outcome.broker_order_id == "1001" and outcome.executed_at is not None


def test_order_refused_with_minus_one_is_failed_with_the_broker_message(
    fake_xtquant: ModuleType, tmp_path: Path
) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.REFUSE, "可用资金不足"))
    outcome = connected(tmp_path).place(order())
    assert outcome.status == FAILED
    assert outcome.error is not None and "可用资金不足" in outcome.error


def test_junk_order_status_57_is_failed_with_the_status_message(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.JUNK, "[COUNTER] 证券可用数量不足"))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled, outcome.broker_order_id) == (FAILED, 0, "1001")
    assert outcome.error is not None and "证券可用数量不足" in outcome.error


def test_partial_fill_then_cancel_is_executed_with_what_filled(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.PARTIAL, volume=300))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled) == (EXECUTED, 300)


def test_cancelled_with_nothing_filled_is_failed(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.CANCEL, "无对手盘"))
    outcome = connected(tmp_path).place(order())
    assert outcome.status == FAILED and outcome.error is not None and "无对手盘" in outcome.error


def test_a_missed_callback_is_covered_by_querying_the_order(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.SILENT_FILL))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled) == (EXECUTED, 1000)


def test_a_resting_limit_order_is_acked_as_placed(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    xttrader = fake_xtquant.xttrader
    xttrader.BROKER.reactions.append(xttrader.Reaction(xttrader.OPEN))
    outcome = connected(tmp_path, order_timeout=0.2).place(order(limit_price=9.0))
    assert (outcome.status, outcome.filled) == (EXECUTED, 0)
    assert outcome.error is not None and "still open" in outcome.error


def test_find_order_reconciles_by_remark_after_a_restart(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    connected(tmp_path).place(order(key="QLaaaa"))
    restarted = connected(tmp_path)  # a new process: no callbacks remembered
    found = restarted.find_order("QLaaaa")
    assert found is not None and (found.status, found.filled, found.broker_order_id) == (EXECUTED, 1000, "1001")
    assert restarted.find_order("QLbbbb") is None


def test_account_snapshot_maps_asset_and_positions(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    broker = fake_xtquant.xttrader.BROKER
    broker.cash = 50_000.0
    broker.hold("000001.SZ", 1200, 800, 12.5)
    account = connected(tmp_path).account()
    assert account.cash == 50_000.0 and account.total_asset == 50_000.0 + 1200 * 12.5
    holding = account.holding("000001.SZ")
    assert (holding.volume, holding.sellable, holding.avg_price) == (1200, 800, 12.5)


def test_last_price_comes_from_xtdata(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    fake_xtquant.xttrader.BROKER.quotes["600000.SH"] = 10.88
    executor = connected(tmp_path)
    assert executor.last_price("600000.SH") == 10.88
    assert executor.last_price("000002.SZ") is None


def test_disconnect_makes_the_executor_unavailable(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    fake_xtquant.xttrader.BROKER.traders[-1].callback.on_disconnected()
    with pytest.raises(ExecutorUnavailable):
        executor.place(order())
    assert fake_xtquant.xttrader.BROKER.placed == []


def test_a_failed_order_query_is_not_taken_for_no_order(
    fake_xtquant: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executor = connected(tmp_path)
    monkeypatch.setattr(fake_xtquant.xttrader.XtQuantTrader, "query_stock_orders", lambda *args: None)
    with pytest.raises(ExecutorUnavailable):
        executor.find_order("QLaaaa")


def test_reconnecting_stops_the_previous_client(fake_xtquant: ModuleType, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    executor.connect()
    first, second = fake_xtquant.xttrader.BROKER.traders
    assert first.stopped and not second.stopped
