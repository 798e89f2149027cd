"""The generated PTrade script, run by the fake PTrade against the fake QuantLink API on loopback: executed
once across restarts of the PTrade process (state from the journal file only), crashes inside and right after
order(), refusals acked with the reason, and a QuantLink this PTrade cannot reach."""

from __future__ import annotations

import functools
import time as time_module
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from quantlink_terminal.calendar import market_calendar
from quantlink_terminal.clock import CHINA_TZ, system_clock
from quantlink_terminal.ptrade.api import NamespaceApi
from quantlink_terminal.ptrade.filejournal import FileJournal
from quantlink_terminal.ptrade.runtime import PTradeTerminal
from quantlink_terminal.ptrade.script import render_ptrade_script
from quantlink_terminal.ptrade.settings import PTradeSettings, ScriptSettings, default_fingerprint
from quantlink_terminal.risk import RiskLimits
from quantlink_terminal.sizing import SizingRule
from tests.unit.terminal.ptrade_fake import FakePTrade, SimulatedCrash
from tests.unit.terminal.terminal_fakes import GOOD_TOKEN, FakeQuantLink, SettableClock, wire_signal

SETTINGS = ScriptSettings(
    api_base="http://127.0.0.1:9",
    auth_token=GOOD_TOKEN,
    device_fingerprint=default_fingerprint("tm_ptrade", GOOD_TOKEN),
    terminal_id="tm_ptrade",
    sizing=SizingRule(mode="mirror"),
    risk=RiskLimits(),  # trading hours are the risk guard's own tests; these run at any hour
    ptrade=PTradeSettings(order_timeout=1.0, order_poll=0.1),
    report_after_close=None,
)


def live(signal_id: str, **fields: Any) -> dict[str, Any]:
    return wire_signal(signal_id, **fields, expires_at=system_clock() + timedelta(hours=1))


@functools.cache
def rendered(settings: ScriptSettings) -> str:
    return render_ptrade_script(settings)


def script_for(api_base: str, **changes: Any) -> str:
    return rendered(replace(SETTINGS, api_base=api_base, **changes))


@pytest.fixture
def ptrade(tmp_path: Path) -> FakePTrade:
    fake = FakePTrade(tmp_path / "research")
    fake.research.mkdir()
    fake.broker.quote("600000.SS", 10.0)
    fake.broker.quote("000001.SZ", 12.0)
    return fake


@pytest.fixture
def script(fake_api: FakeQuantLink) -> Iterator[str]:
    yield script_for(fake_api.api_base)


def journal_of(ptrade: FakePTrade) -> FileJournal:
    return FileJournal(str(ptrade.research / "quantlink-journal.jsonl"))


def test_a_signal_is_placed_with_ptrade_order_and_acked(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.start(script)
    assert [seconds for _func, seconds in ptrade.timers] == [5]  # run_interval(context, quantlink_poll, 5)

    fake_api.publish(live("sig-1", amount=1000))
    ptrade.tick()

    # A market buy goes out as a marketable limit: last 10.00 plus the 1% buffer, on the tick
    assert ptrade.broker.order_calls == [("600000.SS", 1000, 10.1)]
    ack = fake_api.acked["sig-1"]
    assert (ack["status"], ack["filled"], ack["avgPrice"]) == ("executed", 1000, 10.0)
    assert ack["brokerOrderId"] in ptrade.broker.orders
    assert fake_api.bound_device == SETTINGS.device_fingerprint
    entry = journal_of(ptrade).get("sig-1")
    assert entry is not None and entry.state == "acked"
    assert "signal sig-1 executed" in ptrade.log.text()


def test_a_sell_and_a_limit_order(fake_api: FakeQuantLink, ptrade: FakePTrade, script: str) -> None:
    ptrade.broker.hold("000001.SZ", 1500, 12.0)
    ptrade.start(script)
    fake_api.publish(live("sig-s", security="000001.SZ", side="sell", amount=600, price=12.0))
    fake_api.publish(live("sig-l", amount=300, limit_price=10.456, price=10.4))
    ptrade.tick()
    # the sell's price is last minus the buffer, rounded up; the limit buy's the leader's limit, rounded down
    assert ptrade.broker.order_calls == [("000001.SZ", -600, 11.88), ("600000.SS", 300, 10.45)]
    assert fake_api.acked["sig-s"]["status"] == "executed" and fake_api.acked["sig-l"]["status"] == "executed"
    assert ptrade.broker.positions["000001.SZ"].amount == 900


def test_redelivered_after_a_restart_is_acked_from_the_journal_never_placed_again(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    # Given an order placed, but its ack never reached QuantLink
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=1000))
    fake_api.fail("/api/terminals/ack", 503)
    ptrade.tick()
    assert "sig-1" not in fake_api.acked and len(ptrade.broker.order_calls) == 1

    # When PTrade restarts (a new process: nothing but the research folder survives) and the signal comes back
    fake_api.expire_visibility()
    ptrade.restart(script)
    ptrade.tick()

    # Then it is acked under the fresh token from the journal, and order() was never called again
    assert len(ptrade.broker.order_calls) == 1
    ack = fake_api.acked["sig-1"]
    assert ack["ackToken"].endswith("#2") and (ack["status"], ack["filled"]) == ("executed", 1000)
    assert "was already handled" in ptrade.log.text()


def test_a_crash_inside_order_is_reconciled_from_the_counter_after_the_restart(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    # Given PTrade dies inside order(), after the counter took the order (no Order id came back)
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=1000))
    ptrade.broker.crash_in_order = True
    with pytest.raises(SimulatedCrash):
        ptrade.tick()
    assert journal_of(ptrade).get("sig-1").state == "placing"  # type: ignore[union-attr]

    # When the restarted script gets the signal again
    fake_api.expire_visibility()
    ptrade.restart(script)
    ptrade.tick()

    # Then the counter's order of the day is adopted as this signal's; no second order
    assert len(ptrade.broker.order_calls) == 1
    ack = fake_api.acked["sig-1"]
    assert (ack["status"], ack["filled"]) == ("executed", 1000)
    assert ptrade.broker.positions["600000.SH".replace(".SH", ".SS")].amount == 1000


def test_a_crash_after_order_is_settled_by_its_order_id_after_the_restart(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=1000))
    ptrade.broker.crash_after_order = True
    with pytest.raises(SimulatedCrash):
        ptrade.tick()
    [order_id] = ptrade.broker.orders

    fake_api.expire_visibility()
    ptrade.restart(script)
    ptrade.tick()

    assert len(ptrade.broker.order_calls) == 1
    ack = fake_api.acked["sig-1"]
    assert (ack["status"], ack["filled"], ack["brokerOrderId"]) == ("executed", 1000, order_id)


def test_a_crash_before_order_places_it_once_after_the_restart(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    # Given the journal says "placing" but order() was never reached (no note of the order either)
    journal = journal_of(ptrade)
    journal.record_placing("sig-1", "QLx", "600000.SH", "buy", 1000, "old", system_clock().isoformat())
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=1000))
    ptrade.tick()
    assert len(ptrade.broker.order_calls) == 1 and fake_api.acked["sig-1"]["status"] == "executed"


def test_a_counter_that_cannot_answer_is_failed_with_what_to_check_not_placed(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=1000))
    ptrade.broker.crash_in_order = True
    with pytest.raises(SimulatedCrash):
        ptrade.tick()
    ptrade.broker.counter_unavailable = True
    fake_api.expire_visibility()
    ptrade.restart(script)
    ptrade.tick()
    assert len(ptrade.broker.order_calls) == 1
    ack = fake_api.acked["sig-1"]
    assert ack["status"] == "failed" and "not placed again" in ack["error"]


def test_refusals_are_acked_rejected_with_the_reason(fake_api: FakeQuantLink, ptrade: FakePTrade) -> None:
    ptrade.start(script_for(fake_api.api_base, risk=RiskLimits(max_order_value=5_000)))
    fake_api.publish(live("sig-bj", security="430047.BJ", amount=1000))
    fake_api.publish(live("sig-big", amount=1000))  # 1000 x 10.00 = 10,000 CNY > 5,000
    ptrade.tick()
    assert ptrade.broker.order_calls == []
    bj, big = fake_api.acked["sig-bj"], fake_api.acked["sig-big"]
    assert bj["status"] == "rejected" and "Beijing" in bj["error"] and "北交所" in bj["error"]
    assert big["status"] == "rejected" and "max_order_value" in big["error"] and "超过单笔上限" in big["error"]


def test_a_broker_rejection_is_acked_failed(fake_api: FakeQuantLink, ptrade: FakePTrade, script: str) -> None:
    ptrade.broker.reactions = ["junk", "none"]
    ptrade.start(script)
    fake_api.publish(live("sig-junk", amount=100), live("sig-none", amount=100))
    ptrade.tick()
    junk, none = fake_api.acked["sig-junk"], fake_api.acked["sig-none"]
    assert junk["status"] == "failed" and "废单" in junk["error"]
    assert none["status"] == "failed" and "returned None" in none["error"]


def test_a_resting_order_is_acked_executed_with_what_is_known(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.broker.reactions = ["rest"]
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=100))
    ptrade.tick()
    ack = fake_api.acked["sig-1"]
    assert ack["status"] == "executed" and ack["filled"] == 0 and "still open" in ack["error"]


def test_the_kill_switch_is_a_file_in_the_research_folder(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    (ptrade.research / "quantlink-paused").write_text("leader looks wrong", encoding="utf-8")
    ptrade.start(script)
    fake_api.publish(live("sig-1", amount=100))
    ptrade.tick()
    assert ptrade.broker.order_calls == []
    assert fake_api.acked["sig-1"]["status"] == "rejected" and "leader looks wrong" in fake_api.acked["sig-1"]["error"]


def test_a_blocked_quantlink_is_said_clearly_and_nothing_crashes(ptrade: FakePTrade) -> None:
    # A closed port: what a PTrade whose broker blocks outbound connections sees (refused, or timed out)
    ptrade.start(script_for("http://127.0.0.1:9"))
    ptrade.tick()
    ptrade.tick()
    errors = [message for level, message in ptrade.log.lines if level == "error"]
    assert len(errors) == 1, errors  # said once, not at every poll
    [line] = errors
    assert "cannot be reached from this PTrade" in line and "block outbound internet" in line
    assert "127.0.0.1 on port 9" in line and "外网" in line and "白名单" in line
    assert ptrade.broker.order_calls == []


def test_an_unresolvable_host_is_said_the_same_way(ptrade: FakePTrade) -> None:
    ptrade.start(script_for("https://quantlink.invalid"))
    ptrade.tick()
    [line] = [message for level, message in ptrade.log.lines if level == "error"]
    assert "quantlink.invalid" in line and "port 443" in line and "block outbound internet" in line


def test_when_quantlink_comes_back_the_log_says_so_and_trading_resumes(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.start(script)
    fake_api.fail("/api/terminals/pull", 503)
    ptrade.tick()
    fake_api.publish(live("sig-1", amount=100))
    ptrade.tick()
    assert "QuantLink answered 503" in ptrade.log.text() and "reachable again" in ptrade.log.text()
    assert fake_api.acked["sig-1"]["status"] == "executed"


def test_a_throttled_ptrade_skips_its_ticks_until_retry_after_then_goes_on(
    fake_api: FakeQuantLink, ptrade: FakePTrade, script: str
) -> None:
    ptrade.start(script)
    fake_api.throttle("/api/terminals/pull", retry_after="1")
    ptrade.tick()
    assert "slow down" in ptrade.log.text() and "polling again in 1 s" in ptrade.log.text()
    asked = len(fake_api.requests)
    ptrade.tick()  # within the Retry-After: QuantLink is not asked
    assert len(fake_api.requests) == asked
    fake_api.publish(live("sig-1", amount=100))
    time_module.sleep(1.05)
    ptrade.tick()
    assert fake_api.acked["sig-1"]["status"] == "executed"


def test_a_rotated_token_is_explained_with_how_to_regenerate(fake_api: FakeQuantLink, ptrade: FakePTrade) -> None:
    ptrade.start(script_for(fake_api.api_base, auth_token="tt_old_token"))
    ptrade.tick()
    ptrade.tick()  # inside the quiet minute: not asked again
    errors = [message for level, message in ptrade.log.lines if level == "error"]
    assert len(errors) == 1 and "401" in errors[0] and "Generate the PTrade script again" in errors[0]
    assert sum(1 for _method, path, _h in fake_api.requests if path.startswith("/api/terminals/pull")) == 1


def test_holdings_are_posted_once_after_the_close(fake_api: FakeQuantLink, ptrade: FakePTrade) -> None:
    # The script's terminal, on a clock at 15:30 on a trading day (after_trading_end's time)
    ptrade.broker.hold("600000.SS", 1200, 10.0)
    ptrade.load(script_for(fake_api.api_base, report_after_close=time(15, 5)))
    settings = replace(SETTINGS, api_base=fake_api.api_base, report_after_close=time(15, 5))
    clock = SettableClock(datetime(2026, 11, 20, 15, 30, tzinfo=CHINA_TZ))
    terminal = PTradeTerminal(
        settings, NamespaceApi(ptrade.namespace), str(ptrade.research), market_calendar(), clock=clock
    )

    terminal.after_close(ptrade.context)
    terminal.after_close(ptrade.context)

    [report] = fake_api.positions
    assert report["positions"] == [{"security": "600000.SH", "volume": 1200, "avgPrice": 10.0}]
    assert (report["cash"], report["totalAsset"]) == (1_000_000.0, 1_012_000.0)
