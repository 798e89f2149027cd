"""The corpus: realistic JoinQuant strategies, injected and then run under the fake JoinQuant.

For every strategy: the output compiles, injecting is idempotent, stripping gives back the file's
exact bytes (also as CRLF and tab-indented variants), the injected strategy places exactly the
orders the original places, and each order reaches the webhook once, in order, with its fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quantlink.injection import inject, strip
from quantlink.models import JoinQuantPositionsBody, JoinQuantSignalBody
from tests.unit.injection.fake_joinquant import FakeClock, FakeJoinQuant, FakeWebhook, OrderStatus

CORPUS = Path(__file__).parent / "corpus"
URL = "https://quantlink.example/api/webhooks/joinquant/st_corpus"
DAYS = 3

# file -> (order call sites reported, warnings)
EXPECTED = {
    "aliases_from_jqdata.py": (3, 0),
    "before_and_after_trading.py": (2, 0),
    "bollinger_mean_reversion.py": (4, 0),
    "chinese_heavy.py": (2, 0),
    "closures_and_globals.py": (1, 0),
    "crlf_rebalance.py": (2, 0),
    "daily_rebalance_hs300.py": (2, 0),
    "decorated_helpers.py": (2, 0),
    "docstring_future_imports.py": (3, 0),
    "dual_thrust_intraday.py": (4, 0),
    "etf_momentum_rotation.py": (2, 0),
    "fstring_logging.py": (2, 0),
    "grid_trading.py": (3, 0),
    "industry_etf_rotation.py": (1, 0),
    "intraday_ma_cross.py": (4, 0),
    "jq_default_template.py": (3, 0),
    "kuanke_wizard_style.py": (3, 0),
    "lambdas_and_comprehensions.py": (4, 0),
    "limit_orders.py": (2, 0),
    "method_calls_left_alone.py": (1, 0),
    "multi_factor_score.py": (2, 0),
    "no_initialize.py": (2, 0),
    "one_line_suites.py": (4, 0),
    "pair_trading.py": (6, 0),
    "passed_as_value.py": (1, 2),
    "return_and_conditions.py": (4, 0),
    "shadowing_wrapper_same_name.py": (1, 0),
    "small_cap_picker.py": (2, 0),
    "stop_loss_take_profit.py": (4, 0),
    "strategy_class.py": (2, 0),
    "tabs_indented.py": (2, 0),
    "user_buy_sell_functions.py": (2, 0),
    "weekly_monthly_schedules.py": (3, 0),
    "with_and_try.py": (3, 0),
    "wrapper_safe_order.py": (1, 0),
}
MINUTE_BARS = {"grid_trading.py", "intraday_ma_cross.py", "dual_thrust_intraday.py"}
# Reported after the statement (a list comprehension) or by a later report (a function passed
# around): still once each and in order, but not before the next order is placed.
BATCHED = {"lambdas_and_comprehensions.py", "passed_as_value.py"}

FILES = sorted(p.name for p in CORPUS.glob("*.py"))


def read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def run(code: str, name: str, run_type: str = "sim_trade") -> tuple[FakeJoinQuant, FakeWebhook]:
    clock = FakeClock()
    joinquant = FakeJoinQuant(run_type, frequency="minute" if name in MINUTE_BARS else "day", clock=clock)
    webhook = FakeWebhook(joinquant, clock)
    joinquant.transport = webhook
    return joinquant.run(code, days=DAYS), webhook


def test_the_corpus_is_large_and_listed() -> None:
    assert len(FILES) >= 30
    assert sorted(EXPECTED) == FILES


def test_the_corpus_covers_what_strategies_look_like() -> None:
    sources = {name: (CORPUS / name).read_bytes() for name in FILES}
    assert any(b"\r\n" in data for data in sources.values())
    assert any(b"\n\t" in data for data in sources.values())
    assert sum(b"from jqdata import *" in data for data in sources.values()) >= 25
    assert any(b"from kuanke.wizard import *" in data for data in sources.values())
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in data.decode()) for data in sources.values()) >= 25


@pytest.mark.parametrize("name", FILES)
def test_inject_compiles_is_idempotent_and_strips_back_byte_for_byte(name: str) -> None:
    code = read(name)
    result = inject(code, webhook_url=URL, token="tok")
    assert (result.injected, len(result.warnings)) == EXPECTED[name], result.warnings
    compile(result.code, name, "exec", dont_inherit=True)
    assert inject(result.code, webhook_url=URL, token="tok").code == result.code
    assert strip(result.code) == code
    for line in result.code.splitlines():
        if line not in code.splitlines():
            assert line.endswith("# quantlink:injected") or "send_signal_to_quantlink(" in line, line


@pytest.mark.parametrize("name", FILES)
def test_crlf_and_tab_variants_strip_back_byte_for_byte(name: str) -> None:
    code = read(name)
    crlf = code.replace("\r\n", "\n").replace("\n", "\r\n")
    tabs = "\n".join(line.replace("    ", "\t") for line in code.splitlines()) + "\n"
    for variant in (crlf, tabs):
        try:
            compile(variant, name, "exec")
        except SyntaxError:  # four spaces inside a string literal, say: not this variant then
            continue
        injected = inject(variant, webhook_url=URL, token="tok").code
        assert strip(injected) == variant
        assert inject(injected, webhook_url=URL, token="tok").code == injected
        if variant is crlf:
            assert injected.count("\r\n") == injected.count("\n")  # every line, ours too, in CRLF


@pytest.mark.parametrize("name", FILES)
def test_injected_strategy_trades_the_same_and_reports_every_order_once_in_order(name: str) -> None:
    original, _ = run(read(name), name)
    joinquant, webhook = run(inject(read(name), webhook_url=URL, token="tok").code, name)

    # Then the strategy does what it did before injection
    assert [(o.security, o.is_buy, o.amount) for o in joinquant.placed] == [
        (o.security, o.is_buy, o.amount) for o in original.placed
    ]
    placed = [o for o in joinquant.placed if o.status is not OrderStatus.rejected]
    assert placed, "a corpus strategy that places no order proves nothing"

    # And each order was sent once, in order, with the fields of the Order JoinQuant returned
    signals = webhook.signals()
    assert [s["order"]["id"] for s in signals] == [o.order_id for o in placed]
    assert [s["seq"] for s in signals] == list(range(1, len(signals) + 1))  # across the daily restarts
    for signal, order in zip(signals, placed, strict=True):
        JoinQuantSignalBody.model_validate(signal)  # what the webhook accepts
        assert signal["runType"] == "sim_trade"
        assert signal["dt"] == order.add_time.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        assert signal["order"]["security"] == order.security
        assert signal["order"]["side"] == ("buy" if order.is_buy else "sell")
        assert signal["order"]["amount"] == order.amount
        assert signal["order"]["fn"] in {None, *EXPECTED_FUNCTIONS}
    assert all(sent.headers["authorization"] == "Bearer tok" for sent in webhook.sent)
    if name not in BATCHED:  # sent right after the order, before the strategy placed the next one
        order_sends = [sent for sent in webhook.sent if not sent.url.endswith("/positions")]
        assert [sent.orders_placed for sent in order_sends] == list(range(1, len(order_sends) + 1))

    # And the daily positions report went out once a day
    positions = webhook.positions()
    assert len(positions) == DAYS
    for body in positions:
        JoinQuantPositionsBody.model_validate(body)


EXPECTED_FUNCTIONS = {
    "order",
    "order_target",
    "order_value",
    "order_target_value",
    "order_target_percent",
    "order_to",
    "order_shares",
    "buy",
    "sell",
}


@pytest.mark.parametrize("name", FILES)
def test_a_backtest_sends_nothing(name: str) -> None:
    joinquant, webhook = run(inject(read(name), webhook_url=URL, token="tok").code, name, "simple_backtest")
    assert joinquant.placed
    assert webhook.sent == []
