"""The agent loop end to end in-process: fake QuantLink over HTTP, real journal, paper or fake-xtquant executor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

import pytest

from quantlink_terminal.activity import ActivityLog, read_activity
from quantlink_terminal.agent import (
    DELIVERY_MODE_KEY,
    EXIT_DEVICE_TAKEN_OVER,
    EXIT_UNAUTHORIZED,
    MAX_RATE_LIMIT_WAIT,
    MIN_RATE_LIMIT_WAIT,
    Agent,
    AgentFatal,
    AgentSettings,
    PushFactory,
)
from quantlink_terminal.backoff import Backoff
from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.client import QuantLinkClient
from quantlink_terminal.execution import SignalRunner, client_order_id
from quantlink_terminal.executors.base import Executor, OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.executors.qmt import QmtExecutor, QmtSettings
from quantlink_terminal.journal import ACKED, Journal
from quantlink_terminal.pause import PauseSwitch
from quantlink_terminal.polling import PollingSettings, PollPolicy
from quantlink_terminal.push import PushChannel
from quantlink_terminal.report import HoldingsReporter
from quantlink_terminal.risk import RiskGuard, RiskLimits
from quantlink_terminal.sizing import SizingRule
from tests.unit.terminal.terminal_fakes import (
    GOOD_TOKEN,
    CountingExecutor,
    FakeQuantLink,
    SettableClock,
    wire_signal,
)
from tests.unit.terminal.vendor_xtquant import VendorXtquant

DEVICE = "device-test-0001"


@dataclass
class Harness:
    api: FakeQuantLink
    tmp_path: Path
    clock: SettableClock = field(default_factory=SettableClock)
    sleeps: list[float] = field(default_factory=list)
    executor: Executor | None = None
    journal: Journal | None = None
    risk: RiskLimits = field(default_factory=RiskLimits)
    polling: PollingSettings = field(default_factory=lambda: PollingSettings(active_wait=0))
    counting: CountingExecutor | None = None

    @property
    def activity_path(self) -> Path:
        return self.tmp_path / "activity.jsonl"

    @property
    def pause(self) -> PauseSwitch:
        return PauseSwitch(str(self.tmp_path / "paused"))

    def qmt(self, **settings: object) -> QmtExecutor:
        options = {"call_timeout": 5.0, "query_retry_delay": 0.01, **settings}
        self.executor = QmtExecutor(
            QmtSettings(userdata_path=str(self.tmp_path), account_id="1", **options),  # type: ignore[arg-type]
            poll_interval=0.05,
        )
        return self.executor

    def paper(self, cash: float = 1_000_000.0) -> PaperExecutor:
        paper = PaperExecutor(PaperSettings(str(self.tmp_path / "paper.json"), initial_cash=cash), clock=self.clock)
        self.executor = paper
        return paper

    def agent(
        self,
        token: str = GOOD_TOKEN,
        sizing: SizingRule | None = None,
        stop_after: int | None = None,
        push_factory: PushFactory | None = None,
    ) -> Agent:
        """A fresh agent process on the same journal and account files (a restart is another call)."""
        self.counting = CountingExecutor(self.executor or self.paper())
        executor = self.counting
        self.journal = Journal(str(self.tmp_path / "journal.sqlite3"))
        activity = ActivityLog(str(self.activity_path), clock=self.clock)
        client = QuantLinkClient(self.api.api_base, token, DEVICE, timeout=5)
        outcomes: list[str] = []

        def after_outcome(signal_id: str) -> None:
            outcomes.append(signal_id)
            if stop_after is not None and len(outcomes) >= stop_after:
                agent.request_stop()

        runner = SignalRunner(
            self.journal,
            executor,
            sizing or SizingRule(mode="mirror"),
            RiskGuard(self.risk, market_calendar(), self.pause),
            clock=self.clock,
            after_outcome_recorded=after_outcome,
            activity=activity,
        )
        reporter = HoldingsReporter(client, executor, self.journal, after_close=time(15, 5), clock=self.clock)
        agent = Agent(
            client,
            runner,
            self.journal,
            executor,
            reporter,
            settings=AgentSettings(terminal_id="term-1"),
            backoff=Backoff(rand=lambda: 1.0),
            sleep=self.sleeps.append,
            clock=self.clock,
            polling=PollPolicy(self.polling, market_calendar()),
            activity=activity,
            push_factory=push_factory,
        )
        return agent

    def placed_volume(self, security: str) -> int:
        assert self.executor is not None
        return self.executor.account().holding(security).volume


@pytest.fixture
def harness(fake_api: FakeQuantLink, tmp_path: Path) -> Harness:
    return Harness(api=fake_api, tmp_path=tmp_path)


def test_a_pulled_signal_is_executed_and_acked(harness: Harness) -> None:
    harness.api.publish(wire_signal("sig-1", amount=1200, price=10.52))

    handled = harness.agent().run_once()

    assert handled == 1
    assert harness.placed_volume("600000.SH") == 1200
    ack = harness.api.acked["sig-1"]
    assert (ack["status"], ack["filled"], ack["avgPrice"]) == ("executed", 1200, 10.52)
    assert ack["brokerOrderId"] and ack["executedAt"]
    assert harness.api.bound_device == DEVICE
    assert harness.api.pull_queries[-1] == {"wait": ["0"], "max": ["10"]}
    assert harness.journal is not None
    entry = harness.journal.get("sig-1")
    assert entry is not None and entry.state == ACKED


def test_a_redelivered_signal_is_acked_from_the_journal_not_executed_again(harness: Harness) -> None:
    # Given an execution whose ack never reached the server
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.api.fail("/api/terminals/ack", 503)
    agent = harness.agent()
    agent.run_once()
    assert "sig-1" not in harness.api.acked

    # When the visibility timeout hands the signal out again (with a fresh ack token)
    harness.api.expire_visibility()
    agent.run_once()

    # Then it is acked with the journaled outcome under the fresh token, and the broker was asked once
    assert harness.counting is not None and len(harness.counting.placed) == 1
    assert harness.placed_volume("600000.SH") == 1000
    ack = harness.api.acked["sig-1"]
    assert ack["ackToken"].endswith("#2") and (ack["status"], ack["filled"]) == ("executed", 1000)


def test_a_signal_delivered_again_after_its_ack_is_not_executed_twice(harness: Harness) -> None:
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.agent().run_once()
    harness.api.publish(wire_signal("sig-1", amount=1000))  # e.g. a late redelivery
    harness.agent().run_once()  # and a restarted agent, too
    assert harness.counting is not None and harness.counting.placed == []  # the restarted agent never placed
    assert harness.placed_volume("600000.SH") == 1000
    assert [a["signalId"] for a in harness.api.all_acks()] == ["sig-1", "sig-1"]


def test_close_all_and_a_sync_origin_run_through_the_loop_to_the_ack(harness: Harness) -> None:
    # Given 1,000 shares bought on an earlier day
    paper = harness.paper()
    harness.clock.advance(days=-1)
    paper.connect()
    paper.place(OrderRequest("QLseed", "600000.SH", "buy", 1000, None, 10.0))
    harness.clock.advance(days=1)

    # When the strategy says "sell everything" with the leader's count, as a drift sync
    harness.api.publish(wire_signal("sig-1", side="sell", amount=300, close_all=True, origin="sync"))
    harness.agent().run_once()

    # Then every sellable share is sold, whatever the leader's count, and acked
    ack = harness.api.acked["sig-1"]
    assert (ack["status"], ack["filled"]) == ("executed", 1000)
    assert harness.placed_volume("600000.SH") == 0
    received = [e for e in read_activity(str(harness.activity_path)) if e["event"] == "signal_received"]
    assert [(e["closeAll"], e["origin"]) for e in received] == [(True, "sync")]


def test_placing_interrupted_by_a_crash_is_reconciled_not_placed_again(harness: Harness) -> None:
    # Given a journal row in "placing" and the order already at the broker (the crash came between the two)
    paper = harness.paper()
    paper.connect()
    key = client_order_id("sig-1")
    at_broker = paper.place(OrderRequest(key, "600000.SH", "buy", 1000, None, 10.0))
    journal = Journal(str(harness.tmp_path / "journal.sqlite3"))
    journal.record_placing("sig-1", key, "600000.SH", "buy", 1000, "old-token", harness.clock().isoformat())

    # When the signal is delivered again, with a fresh ack token
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.agent().run_once()

    # Then the broker was asked for the order by its key and never asked to place it again
    assert harness.counting is not None
    assert (harness.counting.looked_up, harness.counting.placed) == ([key], [])
    assert harness.placed_volume("600000.SH") == 1000
    ack = harness.api.acked["sig-1"]
    assert ack["brokerOrderId"] == at_broker.broker_order_id and ack["ackToken"] == "sig-1#1"


def test_placing_that_never_reached_the_broker_is_placed_once(harness: Harness) -> None:
    journal = Journal(str(harness.tmp_path / "journal.sqlite3"))
    journal.record_placing(
        "sig-1", client_order_id("sig-1"), "600000.SH", "buy", 1000, "old", harness.clock().isoformat()
    )
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.agent().run_once()
    assert harness.counting is not None
    assert harness.counting.looked_up == [client_order_id("sig-1")] and len(harness.counting.placed) == 1
    assert harness.placed_volume("600000.SH") == 1000
    assert harness.api.acked["sig-1"]["status"] == "executed"


def test_placing_left_from_an_earlier_day_is_not_guessed_at(harness: Harness) -> None:
    journal = Journal(str(harness.tmp_path / "journal.sqlite3"))
    yesterday = harness.clock() - timedelta(days=1)
    journal.record_placing("sig-1", client_order_id("sig-1"), "600000.SH", "buy", 1000, "old", yesterday.isoformat())
    harness.api.publish(wire_signal("sig-1", amount=1000, expires_at=harness.clock() + timedelta(days=1)))
    harness.agent().run_once()
    ack = harness.api.acked["sig-1"]
    assert ack["status"] == "failed" and "not placed again" in ack["error"]
    assert harness.placed_volume("600000.SH") == 0


def test_an_expired_signal_is_rejected_with_a_reason(harness: Harness) -> None:
    harness.api.publish(wire_signal("sig-1", expires_at=harness.clock() - timedelta(seconds=1)))
    harness.agent().run_once()
    ack = harness.api.acked["sig-1"]
    assert ack["status"] == "rejected" and "expired" in ack["error"]
    assert "brokerOrderId" not in ack
    assert harness.placed_volume("600000.SH") == 0


def test_a_malformed_signal_is_rejected_and_the_rest_still_run(harness: Harness) -> None:
    bad = dict(wire_signal("sig-bad"), side="short")
    harness.api.publish(bad, wire_signal("sig-good", amount=100))
    harness.agent().run_once()
    assert harness.api.acked["sig-bad"]["status"] == "rejected"
    assert "side" in harness.api.acked["sig-bad"]["error"]
    assert harness.api.acked["sig-good"]["status"] == "executed"


def test_sizing_rejection_is_acked_rejected_with_the_reason(harness: Harness) -> None:
    harness.paper(cash=100_000)
    harness.api.publish(wire_signal("sig-1", amount=300, total_value=1_000_000, sizing={"mode": "ratio"}))
    harness.agent().run_once()
    ack = harness.api.acked["sig-1"]
    assert ack["status"] == "rejected" and "below the minimum lot" in ack["error"]


def test_follower_sizing_scales_a_1m_leader_to_a_100k_account(harness: Harness) -> None:
    harness.paper(cash=100_000)
    harness.api.publish(wire_signal("sig-1", amount=5000, total_value=1_000_000, sizing={"mode": "ratio"}))
    harness.agent().run_once()
    assert harness.placed_volume("600000.SH") == 500


def test_sells_run_first_so_their_cash_funds_the_buys(harness: Harness) -> None:
    # Given 1000 sellable 000001.SZ (bought yesterday) and only 2,000 cash left
    paper = harness.paper(cash=12_000)
    paper.connect()
    paper.place(OrderRequest("QLseed", "000001.SZ", "buy", 1000, None, 10.0))
    harness.clock.advance(days=1)

    # When one batch holds a buy (needs 10,000) before a sell (frees 10,000)
    expires = harness.clock() + timedelta(hours=1)
    harness.api.publish(
        wire_signal("buy-1", security="600000.SH", amount=1000, limit_price=10.0, expires_at=expires),
        wire_signal("sell-1", security="000001.SZ", side="sell", amount=1000, position_after=0, expires_at=expires),
    )
    harness.agent().run_once()

    # Then both executed in full: the sell went first
    assert harness.api.acked["sell-1"]["filled"] == 1000
    assert harness.api.acked["buy-1"]["filled"] == 1000
    assert [a["signalId"] for a in harness.api.all_acks()] == ["sell-1", "buy-1"]


def test_a_wrong_token_stops_the_agent_with_a_clear_message(harness: Harness) -> None:
    with pytest.raises(AgentFatal) as raised:
        harness.agent(token="tt_rotated").run()
    assert raised.value.exit_code == EXIT_UNAUTHORIZED
    assert "wrong, or it was rotated" in raised.value.message


def test_device_taken_over_stops_with_how_to_release(harness: Harness) -> None:
    harness.api.bound_device = "another-pc-fingerprint"
    with pytest.raises(AgentFatal) as raised:
        harness.agent().run()
    assert raised.value.exit_code == EXIT_DEVICE_TAKEN_OVER
    assert "POST /api/terminals/term-1/release" in raised.value.message
    assert "Release device" in raised.value.message


def test_network_errors_and_5xx_back_off_then_recover(harness: Harness) -> None:
    harness.api.fail("/api/terminals/pull", 503, 502, 500)
    harness.api.publish(wire_signal("sig-1"))
    harness.agent(stop_after=1).run()
    assert harness.sleeps == [1.0, 2.0, 4.0]  # exponential (jitter pinned to its ceiling)
    assert harness.api.acked["sig-1"]["status"] == "executed"


def test_a_throttled_pull_waits_the_retry_after_and_goes_on(harness: Harness) -> None:
    """429 is not a failure: the agent waits what the server asked (not a backoff step), then pulls on."""
    harness.api.throttle("/api/terminals/pull", times=2, retry_after="7")
    harness.api.publish(wire_signal("sig-1"))
    harness.agent(stop_after=1).run()
    assert harness.sleeps == [7.0, 7.0]
    assert harness.api.acked["sig-1"]["status"] == "executed"


def test_a_throttle_does_not_grow_the_backoff_of_later_failures(harness: Harness) -> None:
    harness.api.fail("/api/terminals/pull", 503)
    harness.api.throttle("/api/terminals/pull", retry_after="3")
    harness.api.fail("/api/terminals/pull", 503)
    harness.api.publish(wire_signal("sig-1"))
    harness.agent(stop_after=1).run()
    assert harness.sleeps == [1.0, 3.0, 2.0]  # the backoff's steps around the throttle's own wait


def test_a_throttle_without_retry_after_backs_off(harness: Harness) -> None:
    harness.api.throttle("/api/terminals/pull", times=2, retry_after=None)
    harness.api.publish(wire_signal("sig-1"))
    harness.agent(stop_after=1).run()
    assert harness.sleeps == [1.0, 2.0]
    assert harness.api.acked["sig-1"]["status"] == "executed"


def test_an_absurd_retry_after_is_bounded(harness: Harness) -> None:
    harness.api.throttle("/api/terminals/pull", retry_after="86400")
    harness.api.throttle("/api/terminals/pull", retry_after="0")
    harness.api.publish(wire_signal("sig-1"))
    harness.agent(stop_after=1).run()
    assert harness.sleeps == [MAX_RATE_LIMIT_WAIT, MIN_RATE_LIMIT_WAIT]


def test_a_throttled_ack_is_kept_and_sent_with_the_next_one(harness: Harness) -> None:
    harness.api.throttle("/api/terminals/ack", times=1, retry_after="5")
    harness.api.publish(wire_signal("sig-1"), wire_signal("sig-2"))
    assert harness.agent().run_once() == 2  # sig-1's ack was refused: the batch went on, its ack kept
    assert harness.api.ack_requests == [[harness.api.acked["sig-1"], harness.api.acked["sig-2"]]]
    assert harness.counting is not None and len(harness.counting.placed) == 2


def test_a_round_whose_acks_are_throttled_waits_the_retry_after_then_acks(harness: Harness) -> None:
    harness.api.throttle("/api/terminals/ack", times=2, retry_after="5")
    harness.api.publish(wire_signal("sig-1"))
    agent = harness.agent()
    agent.run_once()  # executed; its ack refused and kept in the journal
    agent._run_guarded()  # the next round's first flush is refused: wait what the server asked
    assert harness.sleeps == [5.0]
    assert harness.api.acked == {}
    agent.run_once()
    assert harness.api.acked["sig-1"]["status"] == "executed"
    assert harness.counting is not None and len(harness.counting.placed) == 1  # never placed twice


def test_stop_finishes_the_order_in_hand_acks_it_and_leaves_the_rest(harness: Harness) -> None:
    harness.api.publish(wire_signal("sig-1", amount=100), wire_signal("sig-2", security="000001.SZ", amount=100))
    harness.agent(stop_after=1).run()  # "Ctrl-C" arrives while sig-1 is being executed
    assert harness.api.acked.keys() == {"sig-1"}
    assert harness.placed_volume("000001.SZ") == 0
    assert "sig-2" in harness.api.in_flight  # unacked: it comes back after the visibility timeout


def test_holdings_are_reported_once_after_the_close(harness: Harness) -> None:
    harness.api.publish(wire_signal("sig-1", amount=1000, price=10.0))
    agent = harness.agent()
    agent.run_once()
    assert harness.api.positions == []  # 10:00: not yet

    harness.clock.advance(hours=5, minutes=10)  # 15:10 on a Friday
    agent.run_once()
    agent.run_once()
    assert len(harness.api.positions) == 1
    report = harness.api.positions[0]
    assert report["positions"] == [{"security": "600000.SH", "volume": 1000, "avgPrice": 10.0}]
    assert report["cash"] == 990_000.0 and report["totalAsset"] == 1_000_000.0
    assert report["asOf"].startswith("2026-11-20T15:10")

    harness.clock.advance(days=1)  # Saturday: no trading, no report
    agent.run_once()
    assert len(harness.api.positions) == 1


def test_no_pull_while_the_executor_is_unavailable(real_xtquant: VendorXtquant, harness: Harness) -> None:
    real_xtquant.counter.connect_result = -1
    harness.qmt()
    harness.api.publish(wire_signal("sig-1"))
    agent = harness.agent()
    harness.sleeps = []

    def sleep_then_stop(delay: float) -> None:
        harness.sleeps.append(delay)
        agent.request_stop()

    agent._sleep = sleep_then_stop
    agent.run()
    assert harness.sleeps == [1.0]
    assert harness.api.pull_queries == []  # the signal stays queued for when miniQMT is back
    assert [e["event"] for e in read_activity(str(harness.activity_path))] == ["executor_unavailable"]


@pytest.mark.parametrize(
    ("kind", "message"),
    [("refuse", "资金不足"), ("junk", "[COUNTER] 证券可用数量不足"), ("error_after_accept", "[COUNTER] 非交易时间")],
)
def test_xtquant_rejection_is_acked_failed_with_the_broker_message(
    real_xtquant: VendorXtquant, harness: Harness, kind: str, message: str
) -> None:
    native = real_xtquant.native
    native.COUNTER.reactions.append(native.Reaction(kind, message))
    harness.qmt()
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.agent().run_once()
    ack = harness.api.acked["sig-1"]
    assert ack["status"] == "failed" and message in ack["error"]
    assert native.COUNTER.placed[0]["m_strOrderRemark"] == client_order_id("sig-1")


def test_xtquant_redelivery_never_calls_order_stock_again(real_xtquant: VendorXtquant, harness: Harness) -> None:
    # A real broker does not dedupe by remark: only the journal stands between a redelivery and a second order.
    harness.qmt()
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.api.fail("/api/terminals/ack", 503)
    harness.agent().run_once()
    harness.api.expire_visibility()

    harness.agent().run_once()  # a restarted agent gets the signal again

    assert len(real_xtquant.counter.placed) == 1
    assert harness.api.acked["sig-1"]["filled"] == 1000


def test_xtquant_crash_while_placing_is_reconciled_by_remark(real_xtquant: VendorXtquant, harness: Harness) -> None:
    # Given the order reached miniQMT but the agent died before journaling the outcome
    executor = harness.qmt()
    executor.connect()
    key = client_order_id("sig-1")
    executor.place(OrderRequest(key, "600000.SH", "buy", 1000, None, 10.0))
    journal = Journal(str(harness.tmp_path / "journal.sqlite3"))
    journal.record_placing("sig-1", key, "600000.SH", "buy", 1000, "old-token", harness.clock().isoformat())

    # When the signal is delivered again
    harness.api.publish(wire_signal("sig-1", amount=1000))
    harness.agent().run_once()

    # Then miniQMT's order (found by its remark) is acked, and no second order is sent
    assert len(real_xtquant.counter.placed) == 1
    ack = harness.api.acked["sig-1"]
    assert (ack["status"], ack["filled"], ack["brokerOrderId"]) == ("executed", 1000, "1001")


def test_xtquant_crash_while_placing_with_no_orders_today_is_failed_not_looped_or_placed(
    real_xtquant: VendorXtquant, harness: Harness
) -> None:
    # Given an order journaled as placing, and a miniQMT whose order list answers None (no orders today,
    # which the vendor cannot tell from a failed query)
    harness.qmt()
    key = client_order_id("sig-1")
    journal = Journal(str(harness.tmp_path / "journal.sqlite3"))
    journal.record_placing("sig-1", key, "600000.SH", "buy", 1000, "old-token", harness.clock().isoformat())

    # When the signal comes back
    harness.api.publish(wire_signal("sig-1", amount=1000))
    handled = harness.agent().run_once()

    # Then it is settled at once as failed, with what to check, and nothing is placed
    assert handled == 1 and real_xtquant.counter.placed == []
    ack = harness.api.acked["sig-1"]
    assert ack["status"] == "failed" and "not placed again" in ack["error"] and "QMT" in ack["error"]


def test_limit_prices_are_rounded_to_the_tick_never_worse_than_the_leader(
    real_xtquant: VendorXtquant, harness: Harness
) -> None:
    counter = real_xtquant.counter
    counter.hold("000001.SZ", 1000, 1000, 10.0)
    harness.qmt()
    harness.api.publish(
        wire_signal("buy-stock", security="600000.SH", amount=100, price=10.52, limit_price=10.526),
        wire_signal("sell-stock", security="000001.SZ", side="sell", amount=100, price=10.52, limit_price=10.521),
        wire_signal("buy-etf", security="510300.SH", amount=100, price=3.98, limit_price=3.9876),
    )
    harness.agent().run_once()
    sent = {p["m_strStockCode"]: p["m_dPrice"] for p in counter.placed}
    assert sent == {"000001.SZ": 10.53, "600000.SH": 10.52, "510300.SH": 3.987}
    assert {a["status"] for a in harness.api.acked.values()} == {"executed"}  # the counter took every price


def test_a_buy_leaves_room_for_the_commission_so_the_broker_takes_it(
    real_xtquant: VendorXtquant, harness: Harness
) -> None:
    # 1000 x 10.00 = 10,000 fits 10,003 of cash; with the broker's 5 CNY minimum commission it does not.
    real_xtquant.counter.cash = 10_003.0
    harness.qmt()
    harness.api.publish(wire_signal("sig-1", amount=1000, price=10.0, limit_price=10.0))
    harness.agent().run_once()
    ack = harness.api.acked["sig-1"]
    assert (ack["status"], ack["filled"]) == ("executed", 900)


def test_the_agent_reconnects_after_miniqmt_stops_answering(real_xtquant: VendorXtquant, harness: Harness) -> None:
    # Given a connected agent, and then a miniQMT that hangs
    harness.qmt(call_timeout=0.3)
    agent = harness.agent()
    agent.run_once()
    real_xtquant.counter.answering = False
    harness.api.publish(wire_signal("sig-1", amount=100))

    # When a round runs into it, the round ends (no hang) and the signal waits; then miniQMT recovers
    agent._run_guarded()
    assert harness.sleeps == [1.0] and "sig-1" not in harness.api.acked
    real_xtquant.counter.answering = True
    harness.api.expire_visibility()
    agent.run_once()

    # Then the agent reconnected and executed the signal once
    assert [c.stopped for c in real_xtquant.counter.clients] == [True, False]
    assert harness.api.acked["sig-1"]["status"] == "executed" and len(real_xtquant.counter.placed) == 1


def test_outside_trading_hours_the_agent_polls_cheaply_and_waits(harness: Harness) -> None:
    harness.polling = PollingSettings(active_wait=1, idle_interval=60)
    agent = harness.agent()
    agent.run_once()  # Friday 10:00: a long-poll, no idle sleep
    assert harness.api.pull_queries[-1]["wait"] == ["1"] and harness.sleeps == []

    harness.clock.now = harness.clock.now.replace(hour=21)  # the evening: a quick look, then a minute's rest
    agent.run_once()
    assert harness.api.pull_queries[-1]["wait"] == ["0"] and harness.sleeps == [60.0]

    harness.api.publish(wire_signal("sig-1", expires_at=harness.clock() + timedelta(hours=1)))
    agent.run_once()  # a signal that came in anyway is executed at once, without the rest
    assert harness.api.acked["sig-1"]["status"] == "executed" and harness.sleeps == [60.0]


def test_no_holdings_report_on_an_exchange_holiday(harness: Harness) -> None:
    harness.clock.now = harness.clock.now.replace(month=10, day=5, hour=15, minute=30)  # National Day, a Monday
    harness.agent().run_once()
    assert harness.api.positions == []
    harness.clock.now = harness.clock.now.replace(day=9)  # Friday, open again
    harness.agent().run_once()
    assert len(harness.api.positions) == 1


def test_when_the_offered_push_socket_cannot_open_the_agent_long_polls_and_says_so(harness: Harness) -> None:
    # Given a server that offers push at a WebSocket nothing answers (a proxy that blocks it, say)
    harness.api.push_url = "ws://127.0.0.1:9/prod"
    channels: list[PushChannel] = []

    def push_channel(url: str) -> PushChannel:
        channels.append(PushChannel(url, GOOD_TOKEN, DEVICE, retry_delays=(30.0,)))
        return channels[-1]

    harness.api.publish(wire_signal("sig-p", amount=100, price=10.0))
    agent = harness.agent(push_factory=push_channel)

    # When it runs a round, the signal still arrives: by the long-poll
    try:
        assert agent.run_once() == 1
    finally:
        agent.request_stop()
        for channel in channels:
            channel.stop()

    # Then it was placed once, and the journal and the activity log say how it is delivered now
    assert [c.url for c in channels] == ["ws://127.0.0.1:9/prod"]
    assert harness.api.acked["sig-p"]["status"] == "executed"
    assert harness.journal is not None
    mode = harness.journal.get_meta(DELIVERY_MODE_KEY) or ""
    assert mode.startswith("long-poll (push unavailable: ")
    events = [e for e in read_activity(str(harness.activity_path)) if e["event"] == "delivery"]
    assert events and events[-1]["mode"] == mode
