"""The PTrade executor over the fake PTrade API: codes, the account, marketable limit prices, the outcome of
each order status, and finding an order again after a restart without a client order id."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantlink_terminal.executors.base import ExecutorUnavailable, OrderRequest, OrderStateUnknown
from quantlink_terminal.models import EXECUTED, FAILED
from quantlink_terminal.ptrade.api import NamespaceApi
from quantlink_terminal.ptrade.codes import exchange_form, ptrade_code, unsupported_market
from quantlink_terminal.ptrade.executor import PTradeExecutor
from quantlink_terminal.ptrade.filejournal import FileJournal
from quantlink_terminal.ptrade.settings import PTradeSettings
from tests.unit.terminal.ptrade_fake import Context, FakeBroker, SimulatedCrash


@pytest.mark.parametrize(
    ("security", "ptrade"),
    [("600570.SH", "600570.SS"), ("000001.SZ", "000001.SZ"), ("688981.SH", "688981.SS"), ("300750.sz", "300750.SZ"),
     ("510300.SH", "510300.SS"), ("430047.BJ", None), ("600570", None)],
)  # fmt: skip
def test_exchange_codes_map_to_ptrades(security: str, ptrade: str | None) -> None:
    assert ptrade_code(security) == ptrade


@pytest.mark.parametrize(
    ("ptrade", "security"),
    [("600570.SS", "600570.SH"), ("600570.XSHG", "600570.SH"), ("000001.XSHE", "000001.SZ"),
     ("000001.SZ", "000001.SZ"), ("000300.XBHS", None), ("IF2412.CCFX", None)],
)  # fmt: skip
def test_ptrades_codes_map_back(ptrade: str, security: str | None) -> None:
    assert exchange_form(ptrade) == security


def test_beijing_is_refused_with_the_reason_in_both_languages() -> None:
    reason = unsupported_market("430047.BJ")
    assert reason is not None and reason.code == "ptrade.unsupported_market"
    assert "Beijing" in reason.en and "Shanghai (.SS) and Shenzhen (.SZ) only" in reason.en and "北交所" in reason.zh
    assert unsupported_market("600570.SH") is None


class Setup:
    def __init__(self, tmp_path: Path, **settings: float) -> None:
        self.broker = FakeBroker()
        self.broker.quote("600000.SS", 10.0)
        names = {name: getattr(self.broker, name) for name in ("order", "get_order", "get_all_orders", "get_trades",
                                                               "get_snapshot")}  # fmt: skip
        self.api = NamespaceApi(names)
        self.api.use_context(Context(self.broker))
        self.notes = FileJournal(str(tmp_path / "journal.jsonl"))
        options = {"order_timeout": 1.0, "order_poll": 0.1, **settings}
        self.executor = PTradeExecutor(self.api, self.notes, PTradeSettings(**options), market_buffer=0.01)  # type: ignore[arg-type]

    def restarted(self, tmp_path: Path) -> PTradeExecutor:
        notes = FileJournal(str(tmp_path / "journal.jsonl"))
        return PTradeExecutor(self.api, notes, PTradeSettings(order_timeout=1.0, order_poll=0.1), market_buffer=0.01)


def request(volume: int = 1000, side: str = "buy", limit: float | None = None, key: str = "QLk1") -> OrderRequest:
    return OrderRequest(key, "600000.SH", side, volume, limit, 10.0)


def test_outside_ptrades_trading_module_the_executor_is_unavailable() -> None:
    executor = PTradeExecutor(NamespaceApi({}), FileJournal.__new__(FileJournal), PTradeSettings(), 0.01)
    with pytest.raises(ExecutorUnavailable) as raised:
        executor.connect()
    assert "交易" in raised.value.fix


def test_the_account_comes_from_context_portfolio(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.broker.hold("600000.SS", 1500, 10.0, sellable=1000)
    setup.broker.hold("000300.XBHS", 5, 1.0)  # not a tradable Shanghai/Shenzhen code: left out
    account = setup.executor.account()
    assert account.cash == 1_000_000.0 and account.total_asset == 1_000_000.0 + 15_000.0 + 5.0
    holding = account.holding("600000.SH")
    assert (holding.volume, holding.sellable, holding.avg_price, holding.last_price) == (1500, 1000, 10.0, 10.0)
    assert list(account.holdings) == ["600000.SH"]
    assert setup.executor.last_price("600000.SH") == 10.0


def test_a_market_buy_is_a_marketable_limit_capped_at_limit_up(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.broker.quotes["600000.SS"] = {"last_px": 10.995, "up_px": 11.0, "down_px": 9.0}
    setup.executor.place(request())
    assert setup.broker.order_calls == [("600000.SS", 1000, 11.0)]  # 10.995 x 1.01 = 11.10, capped at 11.00


def test_a_market_sell_is_floored_at_limit_down_and_sells_with_a_negative_amount(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.broker.hold("600000.SS", 1000, 10.0)
    setup.broker.quotes["600000.SS"] = {"last_px": 9.01, "up_px": 11.0, "down_px": 9.0}
    outcome = setup.executor.place(request(side="sell"))
    assert setup.broker.order_calls == [("600000.SS", -1000, 9.0)]
    assert (outcome.status, outcome.filled) == (EXECUTED, 1000)


def test_without_a_quote_ptrade_prices_it_itself(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    del setup.broker.quotes["600000.SS"]
    outcome = setup.executor.place(request())
    assert setup.broker.order_calls == [("600000.SS", 1000, None)]
    assert outcome.status == FAILED and "returned None" in (outcome.error or "")  # the fake, like PTrade, has no price


def test_a_limit_order_keeps_its_price(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    outcome = setup.executor.place(request(limit=10.2))
    assert setup.broker.order_calls == [("600000.SS", 1000, 10.2)]
    assert (outcome.status, outcome.filled, outcome.avg_price) == (EXECUTED, 1000, 10.0)


@pytest.mark.parametrize(
    ("reaction", "status", "code", "words"),
    [("junk", FAILED, "broker.junk", "废单"), ("none", FAILED, "broker.refused", "returned None"),
     ("rest", EXECUTED, "broker.still_open", "still open")],
)  # fmt: skip
def test_each_order_status_has_its_outcome(tmp_path: Path, reaction: str, status: str, code: str, words: str) -> None:
    setup = Setup(tmp_path)
    setup.broker.reactions.append(reaction)
    outcome = setup.executor.place(request())
    assert (outcome.status, outcome.code) == (status, code) and words in (outcome.error or "")


def test_an_order_is_found_again_by_its_id_after_a_restart(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    placed = setup.executor.place(request())
    found = setup.restarted(tmp_path).find_order("QLk1")
    assert found is not None and (found.status, found.filled, found.broker_order_id) == (
        EXECUTED, 1000, placed.broker_order_id
    )  # fmt: skip


def test_an_order_never_announced_is_not_at_the_broker(tmp_path: Path) -> None:
    assert Setup(tmp_path).executor.find_order("QLnever") is None


def test_an_order_cut_off_inside_order_is_adopted_from_the_counter(tmp_path: Path) -> None:
    # Given another signal's order of the same size today, then PTrade dying inside order() for this one
    setup = Setup(tmp_path)
    setup.broker.hold("600000.SS", 3000, 10.0)
    setup.executor.place(request(volume=500, side="sell", key="QLother"))
    setup.broker.crash_in_order = True
    with pytest.raises(SimulatedCrash):
        setup.executor.place(request(volume=500, side="sell", key="QLk1"))

    found = setup.restarted(tmp_path).find_order("QLk1")

    # Then the counter's second order (not the one the other signal claimed) is this signal's
    assert found is not None and (found.status, found.filled) == (EXECUTED, 500)
    assert found.broker_order_id == setup.broker.counter[-1]["entrust_no"]
    assert len(setup.broker.order_calls) == 2


def cut_off_before_the_counter(setup: Setup, volume: int = 100) -> None:
    setup.broker.crash_before_counter = True
    with pytest.raises(SimulatedCrash):
        setup.executor.place(request(volume=volume))


def test_several_candidates_at_the_counter_is_state_unknown(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    cut_off_before_the_counter(setup)
    setup.broker.order("600000.SS", 100, 10.0)  # e.g. the trader's own orders of the same size
    setup.broker.order("600000.SS", 100, 10.0)
    with pytest.raises(OrderStateUnknown, match="cannot tell which"):
        setup.restarted(tmp_path).find_order("QLk1")


def test_a_counter_that_answers_nothing_is_state_unknown(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    cut_off_before_the_counter(setup)
    setup.broker.counter_unavailable = True
    with pytest.raises(OrderStateUnknown):
        setup.restarted(tmp_path).find_order("QLk1")


def test_an_announced_order_the_counter_never_got_is_not_at_the_broker(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    cut_off_before_the_counter(setup)
    assert setup.restarted(tmp_path).find_order("QLk1") is None


def test_an_order_entered_before_the_announcement_is_not_adopted(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.broker.order("600000.SS", 100, 10.0)
    setup.broker.counter[-1]["entrust_time"] = "2000-01-03 09:30:00"  # long before this signal
    cut_off_before_the_counter(setup)
    assert setup.restarted(tmp_path).find_order("QLk1") is None
