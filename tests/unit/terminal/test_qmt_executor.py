"""The xtquant executor against the vendor's own xttrader.py / xttype.py / xtconstant.py (the PyPI wheel,
unchanged) over a stand-in for the native xtpythonclient: strict argument types, answers from its own
thread, error callbacks after the order response, None for an empty list, and a mode that never answers."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import ModuleType

import pytest

from quantlink_terminal.executors.base import ExecutorUnavailable, OrderRequest, OrderStateUnknown
from quantlink_terminal.executors.qmt import INSTALL_FIX, QmtExecutor, QmtSettings, load_xtquant
from quantlink_terminal.models import EXECUTED, FAILED
from tests.unit.terminal.vendor_xtquant import VendorXtquant


def settings(tmp_path: Path, order_timeout: float = 10.0, call_timeout: float = 5.0, **extra: object) -> QmtSettings:
    return QmtSettings(
        userdata_path=str(tmp_path),
        account_id="8880001",
        order_timeout=order_timeout,
        call_timeout=call_timeout,
        query_retry_delay=0.01,
        **extra,  # type: ignore[arg-type]
    )


def connected(tmp_path: Path, order_timeout: float = 10.0, call_timeout: float = 5.0) -> QmtExecutor:
    executor = QmtExecutor(settings(tmp_path, order_timeout, call_timeout), poll_interval=0.05)
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


def test_connect_starts_registers_subscribes_and_sets_the_library_timeout(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    executor = connected(tmp_path, call_timeout=7)
    client = real_xtquant.counter.clients[-1]
    assert client.path == str(tmp_path) and client.started
    assert client.timeout_ms == 7000  # xtquant's own deadline for its synchronous calls
    executor.close()
    assert client.stopped


def test_connect_failure_says_to_start_miniqmt_and_releases_the_client(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    real_xtquant.counter.connect_result = -1
    for _attempt in range(3):
        with pytest.raises(ExecutorUnavailable) as raised:
            connected(tmp_path)
    assert "returned -1" in str(raised.value) and "miniQMT" in raised.value.fix
    assert [client.stopped for client in real_xtquant.counter.clients] == [True, True, True]  # no leak


def test_subscribe_failure_points_at_the_account_id(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    real_xtquant.counter.subscribe_result = -1
    with pytest.raises(ExecutorUnavailable) as raised:
        connected(tmp_path)
    assert "8880001" in str(raised.value) and "account_id" in raised.value.fix
    assert real_xtquant.counter.clients[-1].stopped


def test_an_account_type_xtquant_does_not_know_is_explained_and_stops_the_client(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    # The vendor's StockAccount raises a bare Exception for it, after the client was started.
    executor = QmtExecutor(settings(tmp_path, account_type="MARGIN"))
    with pytest.raises(ExecutorUnavailable) as raised:
        executor.connect()
    assert "MARGIN" in str(raised.value) and 'account_type = "STOCK"' in raised.value.fix
    assert real_xtquant.counter.clients[-1].stopped


def test_missing_userdata_folder_is_explained(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
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


def test_the_vendor_docs_give_the_sh_market_type_to_beijing(real_xtquant: VendorXtquant) -> None:
    doc = (real_xtquant.root / "doc" / "xttrader.md").read_text(encoding="utf-8")
    sh_and_bj = doc.split("- 上交所 北交所 股票", 1)[1].split("- 深交所", 1)[0]
    sz = doc.split("- 深交所 股票 期权", 1)[1].split("###", 1)[0]
    assert "MARKET_SH_CONVERT_5_CANCEL" in sh_and_bj and "MARKET_SZ_CONVERT_5_CANCEL" not in sh_and_bj
    assert "MARKET_SZ_CONVERT_5_CANCEL" in sz


@pytest.mark.parametrize(
    ("security", "limit_price", "price_type", "price"),
    [
        ("600000.SH", None, "MARKET_SH_CONVERT_5_CANCEL", 0.0),
        ("688981.SH", None, "MARKET_SH_CONVERT_5_CANCEL", 0.0),
        ("000001.SZ", None, "MARKET_SZ_CONVERT_5_CANCEL", 0.0),
        ("430047.BJ", None, "MARKET_SH_CONVERT_5_CANCEL", 0.0),  # Beijing takes the SH types (xttrader.md)
        ("600000.SH", 10.52, "FIX_PRICE", 10.52),
        ("000001.SZ", 9.8, "FIX_PRICE", 9.8),
    ],
)
def test_order_and_price_types_per_market(
    real_xtquant: VendorXtquant, tmp_path: Path, security: str, limit_price: float | None, price_type: str, price: float
) -> None:
    real_xtquant.counter.hold(security, 5000, 5000, 10.0)
    outcome = connected(tmp_path).place(order(security, side="sell", volume=200, limit_price=limit_price))
    placed = real_xtquant.counter.placed[-1]
    assert (placed["m_nPriceType"], placed["m_dPrice"]) == (getattr(real_xtquant.xtconstant, price_type), price)
    assert placed["m_nOrderType"] == real_xtquant.xtconstant.STOCK_SELL
    assert outcome.status == EXECUTED, outcome.error  # the counter takes it: the type fits the market


def test_fill_details_come_from_the_callbacks(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    real_xtquant.counter.quotes["600000.SH"] = 10.37
    outcome = connected(tmp_path).place(order())

    placed = real_xtquant.counter.placed[-1]
    assert placed["m_nOrderType"] == real_xtquant.xtconstant.STOCK_BUY
    assert (placed["m_strOrderRemark"], placed["m_strStrategyName"]) == ("QL0123456789abcdef0123", "quantlink")
    assert len(placed["m_strOrderRemark"]) <= 24  # xtquant's limit for order_remark
    assert (outcome.status, outcome.filled, outcome.avg_price) == (EXECUTED, 1000, 10.37)
    assert outcome.broker_order_id == "1001" and outcome.executed_at is not None


def test_order_refused_with_minus_one_is_failed_with_the_message_that_follows(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.REFUSE, "可用资金不足"))
    outcome = connected(tmp_path).place(order())
    assert outcome.status == FAILED and outcome.code == "broker.refused"
    assert outcome.error is not None and "可用资金不足" in outcome.error


def test_an_error_after_a_positive_order_id_fails_the_order(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.ERROR_AFTER_ACCEPT, "[COUNTER] 交易时间未到"))
    outcome = connected(tmp_path, order_timeout=5).place(order())
    assert (outcome.status, outcome.broker_order_id) == (FAILED, "1001")
    assert outcome.error is not None and "交易时间未到" in outcome.error


def test_an_order_id_of_zero_is_not_a_placed_order(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    # xttrader.md: "成功委托后的订单编号为大于0的正整数"
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.ZERO_ID))
    started = time.monotonic()
    outcome = connected(tmp_path, order_timeout=20).place(order())
    assert outcome.status == FAILED and outcome.code == "broker.refused"
    assert "returned 0" in (outcome.error or "")
    assert time.monotonic() - started < 10  # not waited out as if it were an open order


def test_junk_order_status_57_is_failed_with_the_status_message(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.JUNK, "[COUNTER] 证券可用数量不足"))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled, outcome.broker_order_id) == (FAILED, 0, "1001")
    assert outcome.error is not None and "证券可用数量不足" in outcome.error


def test_partial_fill_then_cancel_is_executed_with_what_filled(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.PARTIAL, volume=300))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled) == (EXECUTED, 300)


def test_cancelled_with_nothing_filled_is_failed(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.CANCEL, "无对手盘"))
    outcome = connected(tmp_path).place(order())
    assert outcome.status == FAILED and outcome.error is not None and "无对手盘" in outcome.error


def test_a_missed_callback_is_covered_by_querying_the_order(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.SILENT_FILL))
    outcome = connected(tmp_path).place(order())
    assert (outcome.status, outcome.filled) == (EXECUTED, 1000)


def test_a_resting_limit_order_is_acked_as_placed(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(native.OPEN))
    outcome = connected(tmp_path, order_timeout=0.3).place(order(limit_price=9.0))
    assert (outcome.status, outcome.filled) == (EXECUTED, 0)
    assert outcome.error is not None and "still open" in outcome.error


def test_find_order_reconciles_by_remark_after_a_restart(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    connected(tmp_path).place(order(key="QLaaaa"))
    restarted = connected(tmp_path)  # a new process: no callbacks remembered
    found = restarted.find_order("QLaaaa")
    assert found is not None and (found.status, found.filled, found.broker_order_id) == (EXECUTED, 1000, "1001")
    assert restarted.find_order("QLbbbb") is None


def test_an_order_list_answering_none_is_order_state_unknown_not_no_order(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    # No orders today: the vendor answers None, exactly as for a failed query.
    executor = connected(tmp_path)
    with pytest.raises(OrderStateUnknown) as raised:
        executor.find_order("QLaaaa")
    assert "3 times" in str(raised.value)


def test_an_account_with_no_positions_still_trades(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    account = executor.account()  # positions answered None: nothing held
    assert account.holdings == {} and account.cash == 1_000_000.0
    assert executor.place(order()).status == EXECUTED


def test_positions_answering_none_while_securities_are_held_is_not_taken_for_empty(
    real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    real_xtquant.counter.hold("000001.SZ", 1000, 1000, 12.0)
    real_xtquant.counter.failing_queries.add("positions")
    with pytest.raises(ExecutorUnavailable) as raised:
        connected(tmp_path).account()
    assert "12000" in str(raised.value)


def test_account_snapshot_maps_asset_and_positions(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    counter = real_xtquant.counter
    counter.cash = 50_000.0
    counter.hold("000001.SZ", 1200, 800, 12.5)
    account = connected(tmp_path).account()
    assert account.cash == 50_000.0 and account.total_asset == 50_000.0 + 1200 * 12.5
    holding = account.holding("000001.SZ")
    assert (holding.volume, holding.sellable, holding.avg_price) == (1200, 800, 12.5)


def test_last_price_comes_from_xtdata(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    real_xtquant.counter.quotes["600000.SH"] = 10.88
    executor = connected(tmp_path)
    assert executor.last_price("600000.SH") == 10.88
    assert executor.last_price("000002.SZ") is None


def test_disconnect_makes_the_executor_unavailable(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    real_xtquant.counter.clients[-1].bound["bindOnDisconnectedCallback"]()  # pushed via xttrader's thread
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            executor.account()
        except ExecutorUnavailable:
            break
        time.sleep(0.01)
    else:
        pytest.fail("the disconnect was never noticed")
    with pytest.raises(ExecutorUnavailable):
        executor.place(order())
    assert real_xtquant.counter.placed == []


@pytest.mark.parametrize("call", ["account", "place", "find_order"])
def test_a_miniqmt_that_stops_answering_cannot_hang_the_agent(
    real_xtquant: VendorXtquant, tmp_path: Path, call: str
) -> None:
    executor = connected(tmp_path, call_timeout=0.5)
    real_xtquant.counter.answering = False
    calls = {
        "account": executor.account,
        "place": lambda: executor.place(order()),
        "find_order": lambda: executor.find_order("QLx"),
    }
    started = time.monotonic()
    with pytest.raises(ExecutorUnavailable) as raised:
        calls[call]()
    assert time.monotonic() - started < 3
    assert re.search(r"did not answer \w+ within 0.5 s", str(raised.value))
    with pytest.raises(ExecutorUnavailable):  # the connection is not trusted again...
        executor.account()
    real_xtquant.counter.answering = True
    executor.connect()  # ...until a reconnect
    assert executor.account().cash == real_xtquant.counter.cash


def test_a_connect_that_never_returns_is_bounded_too(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    real_xtquant.counter.answering = False
    started = time.monotonic()
    with pytest.raises(ExecutorUnavailable):
        connected(tmp_path, call_timeout=0.5)
    assert time.monotonic() - started < 3


def test_reconnecting_stops_the_previous_client(real_xtquant: VendorXtquant, tmp_path: Path) -> None:
    executor = connected(tmp_path)
    executor.connect()
    first, second = real_xtquant.counter.clients
    assert first.stopped and not second.stopped
