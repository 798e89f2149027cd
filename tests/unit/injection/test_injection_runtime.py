"""The injected runtime at work inside the fake JoinQuant, with its HTTP seam (`_quantlink_urlopen`)
and its clock (`_quantlink_time`) replaced by fakes: bodies, retries, time budget, backtests,
pickling of `g`, and that nothing it does can raise into the strategy."""

from __future__ import annotations

import ast
import pickle
import re
import sys
from textwrap import dedent
from typing import Any

import pytest

from quantlink.injection import inject, sender_block
from quantlink.injection.runtime import runtime_source
from quantlink.models import JoinQuantPositionsBody, JoinQuantSignalBody
from tests.unit.injection.fake_joinquant import (
    FakeClock,
    FakeJoinQuant,
    FakeWebhook,
    price_of,
)

URL = "https://quantlink.example/api/webhooks/joinquant/st_runtime"
SENT_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")


def setup(
    code: str, run_type: str = "sim_trade", *, send_in_backtest: bool = False, **options: Any
) -> tuple[FakeJoinQuant, FakeWebhook, str]:
    clock = FakeClock()
    joinquant = FakeJoinQuant(run_type, clock=clock, **options)
    webhook = FakeWebhook(joinquant, clock)
    joinquant.transport = webhook
    injected = inject(dedent(code), webhook_url=URL, token="tok", send_in_backtest=send_in_backtest).code
    return joinquant, webhook, injected


ONE_BUY = """
    def initialize(context):
        run_daily(trade, '9:30')

    def trade(context):
        order_value('600000.XSHG', context.portfolio.available_cash / 2)
        log.info('after the order')
"""


def test_one_signal_with_the_fields_of_the_order_joinquant_returned() -> None:
    joinquant, webhook, code = setup(ONE_BUY)
    joinquant.run(code)
    (order,) = joinquant.placed
    (sent,) = webhook.order_sends()
    assert sent.url == URL
    assert sent.headers["authorization"] == "Bearer tok"
    assert sent.headers["content-type"] == "application/json"
    body = sent.json
    assert SENT_AT.match(body.pop("sentAt"))
    assert body == {
        "v": 1,
        "seq": 1,
        "runType": "sim_trade",
        "dt": "2026-11-16T09:30:00+08:00",
        "order": {
            "id": order.order_id,
            "fn": "order_value",
            "security": "600000.XSHG",
            "side": "buy",
            "amount": order.amount,
            "price": price_of("600000.XSHG", 0),
            "style": "market",
            "limitPrice": None,
        },
        "portfolio": {
            "totalValue": pytest.approx(joinquant.context.portfolio.total_value),
            "cash": pytest.approx(joinquant.context.portfolio.available_cash),
            "positionAfter": order.amount,
        },
    }
    JoinQuantSignalBody.model_validate_json(sent.body)


def test_the_arguments_are_not_evaluated_again_after_the_order() -> None:
    # Given an order sized from the cash it spends: re-reading `available_cash` afterwards
    # would describe a different (smaller) order
    joinquant, webhook, code = setup(ONE_BUY)
    joinquant.run(code)
    (order,) = joinquant.placed
    half_of_cash_after = joinquant.context.portfolio.available_cash / 2 / price_of("600000.XSHG", 0)
    assert order.amount > half_of_cash_after + 100
    assert webhook.signals()[0]["order"]["amount"] == order.amount


def test_limit_orders_and_orders_not_filled_yet() -> None:
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600036.XSHG', 1000)
            order('600036.XSHG', 400, LimitOrderStyle(9.99))
        """,
        fill=False,
    )
    joinquant.run(code)
    market, limit = (s["order"] for s in webhook.signals())
    assert (market["price"], market["style"], market["limitPrice"]) == (None, "market", None)  # no fill price yet
    assert (limit["price"], limit["style"], limit["limitPrice"]) == (9.99, "limit", 9.99)
    # Not filled: positionAfter is what the position becomes once the order fills
    assert [s["portfolio"]["positionAfter"] for s in webhook.signals()] == [1000, 400]


def test_sells() -> None:
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600036.XSHG', 1000)
            order_target('600036.XSHG', 400)
            order_target_value('600036.XSHG', 0)
        """
    )
    joinquant.run(code)
    sides = [(s["order"]["side"], s["order"]["amount"], s["portfolio"]["positionAfter"]) for s in webhook.signals()]
    assert sides == [("buy", 1000, 1000), ("sell", 600, 400), ("sell", 400, 0)]


def test_a_rejected_order_is_not_sent_and_the_next_one_is() -> None:
    joinquant, webhook, code = setup(
        """
        def trade(context):
            order('600000.XSHG', 100)
            order('600036.XSHG', 100)

        def initialize(context):
            run_daily(trade, '9:30')
        """
    )
    joinquant.reject_next = True
    joinquant.run(code)
    assert [o.status.name for o in joinquant.placed] == ["rejected", "filled"]
    assert [s["order"]["security"] for s in webhook.signals()] == ["600036.XSHG"]


def test_backtests_send_nothing_unless_the_owner_opts_in() -> None:
    joinquant, webhook, code = setup(ONE_BUY, "simple_backtest")
    joinquant.run(code, days=2)
    assert len(joinquant.placed) == 2 and webhook.sent == []

    joinquant, webhook, code = setup(ONE_BUY, "full_backtest", send_in_backtest=True)
    assert "QUANTLINK_SEND_IN_BACKTEST = True" in code
    joinquant.run(code, days=2)
    assert [s["runType"] for s in webhook.signals()] == ["full_backtest", "full_backtest"]


def test_seq_and_reported_ids_live_in_g_and_survive_the_daily_restart() -> None:
    joinquant, webhook, code = setup(ONE_BUY)
    joinquant.run(code, days=3)
    assert [s["seq"] for s in webhook.signals()] == [1, 2, 3]
    restored = pickle.loads(pickle.dumps(joinquant.g))
    assert restored.quantlink_seq == 3
    assert restored.quantlink_reported["ids"] == [joinquant.placed[-1].order_id]
    assert not any(name.startswith("__") for name in vars(restored) if "quantlink" in name)


def test_a_helper_without_context_still_reports_after_a_restart() -> None:
    # Given the first order of each (re)started process placed by a helper that has no `context`
    joinquant, webhook, code = setup(
        """
        def buy_one(security):
            order(security, 100)

        def handle_data(context, data):
            buy_one('000001.XSHE')
        """
    )
    assert "send_signal_to_quantlink(None, 'order')" in code
    joinquant.run(code, days=2)
    assert [s["dt"][:10] for s in webhook.signals()] == ["2026-11-16", "2026-11-17"]


def test_a_retry_sends_the_same_bytes_and_the_webhook_drops_it_as_a_duplicate() -> None:
    joinquant, webhook, code = setup(ONE_BUY)
    webhook.script = ["lost", 503]  # taken but the answer lost; then a 503; then through
    joinquant.run(code)
    tries = [s.body for s in webhook.order_sends()]
    assert len(tries) == 3 and len(set(tries)) == 1
    assert [a["duplicate"] for a in webhook.answers[:2]] == [False, True]
    assert webhook.clock is not None and len(webhook.clock.slept) == 2


def test_at_most_three_tries_then_the_report_is_dropped_and_logged() -> None:
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600000.XSHG', 100)
            order('600036.XSHG', 100)
        """
    )
    webhook.script = [500, 500, 500]
    joinquant.run(code)
    assert [s.json["order"]["security"] for s in webhook.order_sends()] == ["600000.XSHG"] * 3 + ["600036.XSHG"]
    assert [s["seq"] for s in webhook.signals()] == [2]  # the gap tells QuantLink one report was lost
    assert any("after 3 tries" in line for line in joinquant.log.warnings())


def test_a_refusal_is_not_retried() -> None:
    joinquant, webhook, code = setup(ONE_BUY)
    webhook.script = [401]
    joinquant.run(code)
    assert len(webhook.order_sends()) == 1
    assert any("HTTP 401" in line for line in joinquant.log.warnings())


def test_a_dead_webhook_holds_a_bar_up_for_a_few_seconds_at_most() -> None:
    # Given a webhook that times out on every try, and a bar that places four orders
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            for security in ['600000.XSHG', '600036.XSHG', '601318.XSHG', '000001.XSHE']:
                order(security, 100)
            g.done = True
        """
    )
    clock = webhook.clock
    assert clock is not None
    webhook.script = ["timeout"] * 20
    joinquant.load(code)
    joinquant._call("initialize")
    joinquant._at(0, "09:30")
    started = clock.now

    # When the bar runs
    joinquant._call("trade")

    # Then it was held up for the time budget at most, tries and pauses included
    assert joinquant.g.done
    assert 4.0 < clock.now - started <= 5.0 + 1e-6
    assert [s.json["order"]["security"] for s in webhook.order_sends()] == ["600000.XSHG"] * 3
    assert webhook.signals() == []

    # And once the webhook answers, the reports left waiting go out first, in order
    webhook.script = []
    joinquant._at(0, "15:05")
    joinquant.namespace["quantlink_report_positions"](joinquant.context)
    assert [s["order"]["security"] for s in webhook.signals()] == ["600036.XSHG", "601318.XSHG", "000001.XSHE"]
    assert [s["seq"] for s in webhook.signals()] == [2, 3, 4]
    assert len(webhook.positions()) == 1


def test_left_over_reports_go_first_at_the_next_bar_in_order() -> None:
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')
            run_daily(later, '10:00')

        def trade(context):
            for security in ['600000.XSHG', '600036.XSHG', '601318.XSHG']:
                order(security, 100)

        def later(context):
            order('000001.XSHE', 100)
        """
    )
    webhook.script = [("slow", 4.95)]  # the first report eats the 9:30 bar's time budget
    joinquant.run(code)
    securities = [s["order"]["security"] for s in webhook.signals()]
    assert securities == ["600000.XSHG", "600036.XSHG", "601318.XSHG", "000001.XSHE"]
    sends = webhook.order_sends()
    assert [s.orders_placed for s in sends] == [1, 4, 4, 4]  # the other two waited for the 10:00 bar
    assert [s["seq"] for s in webhook.signals()] == [1, 2, 3, 4]


def test_nothing_the_runtime_meets_raises_into_the_strategy() -> None:
    joinquant, _, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600000.XSHG', 100)
            g.after_first = True
            order('600036.XSHG', 100)
            g.after_second = True
        """
    )

    def exploding_transport(request: Any, timeout: float) -> Any:
        raise RuntimeError("socket module is broken")

    joinquant.transport = exploding_transport
    joinquant.load(code)
    joinquant.namespace["get_orders"] = lambda: 1 / 0 if joinquant.placed[-1].security == "600036.XSHG" else {}
    joinquant._call("initialize")
    joinquant._at(0, "09:30")
    joinquant._call("trade")
    assert joinquant.g.after_first and joinquant.g.after_second
    warnings = joinquant.log.warnings()
    assert any("ZeroDivisionError" in line for line in warnings)


def test_positions_are_reported_once_a_day_from_the_portfolio() -> None:
    joinquant, webhook, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600000.XSHG', 300)
            order('000001.XSHE', 200)
        """
    )
    joinquant.run(code)
    (sent,) = [s for s in webhook.sent if s.url.endswith("/positions")]
    assert sent.url == URL + "/positions"
    body = JoinQuantPositionsBody.model_validate_json(sent.body)
    assert body.dt == "2026-11-16T15:05:00+08:00"
    assert [(p.security, p.amount, p.price) for p in body.positions] == [
        ("000001.XSHE", 200, price_of("000001.XSHE", 0)),
        ("600000.XSHG", 300, price_of("600000.XSHG", 0)),
    ]
    assert body.cash == pytest.approx(joinquant.context.portfolio.available_cash)
    assert body.total_value == pytest.approx(joinquant.context.portfolio.total_value)


def test_the_wrapped_call_hands_back_joinquants_order() -> None:
    joinquant, webhook, code = setup(
        """
        def place(security):
            return order(security, 100)

        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            g.first = place('600000.XSHG')
            g.second = (lambda: order('600036.XSHG', 100))()
        """
    )
    assert "return send_signal_to_quantlink(None, 'order', order(security, 100))" in code
    joinquant.run(code)
    assert joinquant.g.first is joinquant.placed[0]
    assert joinquant.g.second is joinquant.placed[1]
    assert len(webhook.signals()) == 2


def test_the_runtime_is_python_36_standard_library_and_ascii() -> None:
    source = runtime_source()
    tree = ast.parse(source, feature_version=(3, 6))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported and imported <= set(sys.stdlib_module_names) | {"urllib.request", "urllib.error"}
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    assert not any(isinstance(node, ast.JoinedStr) for node in ast.walk(tree))  # f-strings: 3.6 has them, keep it plain
    source.encode("ascii")
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assigned = {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)
    }
    assert all("quantlink" in name.lower() for name in defined | assigned)


def test_manual_integration_sends_what_injection_sends() -> None:
    """Given the sender block pasted by hand and the documented calls added by hand (docs/INJECTION.md,
    "Manual integration"), when the strategy runs, then JoinQuant's orders and positions reach the
    webhook exactly as they do from injected code."""
    strategy = """
        def initialize(context):
            run_daily(quantlink_report_positions, '15:05')
            run_daily(trade, '9:30')

        def trade(context):
            order('600000.XSHG', 300)
            send_signal_to_quantlink(context, "order")
            order_target('000001.XSHE', 200)
            send_signal_to_quantlink(context, "order_target")
        """
    manual_joinquant = FakeJoinQuant(clock=(manual_clock := FakeClock()))
    manual = FakeWebhook(manual_joinquant, manual_clock)
    manual_joinquant.transport = manual
    manual_joinquant.run(sender_block(webhook_url=URL, token="tok") + dedent(strategy))

    injected_joinquant, injected, code = setup(
        """
        def initialize(context):
            run_daily(trade, '9:30')

        def trade(context):
            order('600000.XSHG', 300)
            order_target('000001.XSHE', 200)
        """
    )
    injected_joinquant.run(code)

    def comparable(webhook: FakeWebhook) -> list[tuple[str, dict[str, Any]]]:
        sends = []
        for sent in webhook.sent:
            body = dict(sent.json)
            body.pop("sentAt", None)
            body.get("order", {}).pop("id", None)
            sends.append((sent.url, body))
        return sends

    assert [body["order"]["fn"] for _, body in comparable(manual) if "order" in body] == ["order", "order_target"]
    assert comparable(manual) == comparable(injected)
    assert len(manual.order_sends()) == 2
