"""Bad input found by fuzzing (issue 7, item 9), one regression test per finding: each is a 400
VALIDATION_ERROR naming the field, with nothing written and nothing queued."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from quantlink.acktokens import AckToken
from tests.bodies import Obj, Raw, render

if TYPE_CHECKING:
    from conftest import QuantLink, Reply, StrategyCreds, TerminalCreds

# What answered 500 before (or reached a terminal): not finite, too large for any order, too small to
# be anything but noise, or an integer longer than any store keeps.
BAD_NUMBERS = [
    pytest.param(Raw("NaN"), id="NaN"),
    pytest.param(Raw("Infinity"), id="Infinity"),
    pytest.param(Raw("-Infinity"), id="-Infinity"),
    pytest.param(Raw("1e999"), id="1e999"),
    pytest.param(Raw("1e-200"), id="1e-200"),
    pytest.param(Raw("1" + "0" * 400), id="10^400"),
]


@pytest.fixture
def linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy, (terminal,) = ql.linked()
    return strategy, terminal


def with_field(body: dict[str, Any], dotted: str, value: Any) -> bytes:
    """The body with one field set to a value json.dumps cannot write (a Raw number token)."""
    *parents, leaf = dotted.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(leaf) if isinstance(node, list) else leaf] = value
    return render(body).encode("utf-8")


def assert_refused(reply: Reply, field: str | None, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR"), reply.text
    if field is not None:
        assert field in [d["field"] for d in reply.body["details"]], reply.text
    assert after == before


def positions(ql: QuantLink, strategy: StrategyCreds, raw: bytes) -> Reply:
    return ql.call(
        "webhook/positions",
        path_params={"strategyId": strategy.strategy_id},
        headers={"Authorization": f"Bearer {strategy.token}"},
        body=raw,
    )


# ---- numbers: finite and within bounds ---------------------------------------------------------------


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["order.price", "order.amount", "order.limitPrice", "portfolio.totalValue",
                                   "portfolio.cash", "portfolio.positionAfter", "seq"])  # fmt: skip
def test_a_webhook_number_that_is_not_finite_or_out_of_range_is_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], field: str, number: Raw
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, with_field(ql.signal_body(), field, number))

    assert_refused(
        reply, field if number.text not in ("NaN", "Infinity", "-Infinity") else None, before, ql.stack.items()
    )
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["positions.0.amount", "positions.0.price", "totalValue", "cash"])
def test_a_leader_positions_number_that_is_not_finite_or_out_of_range_is_refused(
    ql: QuantLink, field: str, number: Raw
) -> None:
    strategy = ql.create_strategy()
    before = ql.stack.items()

    reply = positions(ql, strategy, with_field(ql.sample_body("webhook/positions"), field, number))

    assert_refused(reply, None, before, ql.stack.items())


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["positions.0.volume", "positions.0.avgPrice", "cash", "totalAsset"])
def test_a_holdings_number_that_is_not_finite_or_out_of_range_is_refused(
    ql: QuantLink, field: str, number: Raw
) -> None:
    terminal = ql.register_terminal()
    before = ql.stack.items()

    reply = ql.call(
        "terminal_ack/positions",
        headers={"Authorization": f"Bearer {terminal.token}"},
        body=with_field(ql.sample_body("terminal_ack/positions"), field, number),
    )

    assert_refused(reply, None, before, ql.stack.items())


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("field", ["acks.0.filled", "acks.0.avgPrice"])
def test_an_ack_number_that_is_not_finite_or_out_of_range_is_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], field: str, number: Raw
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    before = ql.stack.items()

    reply = ql.ack(terminal, with_field({"acks": [ql.executed(signal)]}, field, number))

    assert_refused(reply, None, before, ql.stack.items())
    assert ql.stack.deliveries(strategy.strategy_id)[0]["status"] == "PULLED"


@pytest.mark.parametrize("number", [*BAD_NUMBERS, pytest.param(101, id="over 100"), pytest.param(0, id="zero")])
def test_a_sizing_multiplier_that_is_not_finite_or_out_of_range_is_refused(ql: QuantLink, number: Any) -> None:
    strategy, terminal = ql.create_strategy(), ql.register_terminal()
    before = ql.stack.items()

    reply = ql.subscribe(
        terminal, strategy, with_field({"sizing": {"mode": "ratio", "multiplier": 1}}, "sizing.multiplier", number)
    )

    assert_refused(reply, None, before, ql.stack.items())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("order.amount", 10**9 + 1, id="amount past 10^9 shares"),
        pytest.param("order.amount", 10**30, id="amount 10^30"),
        pytest.param("order.price", 10**6 + 0.01, id="price past 10^6 CNY"),
        pytest.param("order.limitPrice", 10**6 + 0.01, id="limit price past 10^6 CNY"),
        pytest.param("order.price", -0.01, id="negative price"),
        pytest.param("portfolio.totalValue", 10**13 + 1, id="total value past 10^13 CNY"),
        pytest.param("seq", 2**53, id="seq past 2^53 - 1"),
    ],
)
def test_amounts_and_prices_past_their_bounds_are_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], field: str, value: Any
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, with_field(ql.signal_body(), field, value))

    assert_refused(reply, field, before, ql.stack.items())
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_the_largest_order_within_bounds_reaches_the_terminal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked

    ql.send_signal(strategy, order={"amount": 10**9, "price": 10**6, "limitPrice": 0.001})

    (pulled,) = ql.pulled(terminal)
    assert (pulled["amount"], pulled["price"], pulled["limitPrice"]) == (10**9, 10**6, 0.001)


# ---- the signal body is strict: each field a JSON value of its own kind ------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("v", True, id="v true"),
        pytest.param("v", 1.0, id="v 1.0"),
        pytest.param("seq", "17", id="seq a string"),
        pytest.param("order.amount", "100", id="amount a string"),
        pytest.param("order.amount", True, id="amount true"),
        pytest.param("order.amount", 100.0, id="amount 100.0"),
        pytest.param("order.price", "10", id="price a string"),
        pytest.param("order.side", ["buy"], id="side a list"),
        pytest.param("order.id", 1234567, id="order id a number"),
        pytest.param("portfolio.cash", False, id="cash false"),
    ],
)
def test_a_field_of_the_wrong_json_kind_is_refused_not_coerced(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], field: str, value: Any
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, with_field(ql.signal_body(), field, value))

    assert_refused(reply, field, before, ql.stack.items())
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_an_integral_price_is_a_number_and_accepted(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = linked

    ql.send_signal(strategy, order={"price": 10})

    assert ql.pulled(terminal)[0]["price"] == 10


# ---- strict JSON: no repeated keys --------------------------------------------------------------------


@pytest.mark.parametrize("where", ["order", "top"])
def test_a_body_with_a_repeated_key_is_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], where: str
) -> None:
    strategy, terminal = linked
    body = ql.signal_body()
    if where == "order":
        order = Obj((*body["order"].items(), ("side", "sell")))
        raw = render({**body, "order": order})
    else:
        raw = render(Obj((*body.items(), ("seq", 18))))
    before = ql.stack.items()

    reply = ql.webhook(strategy, raw.encode())

    assert_refused(reply, "body", before, ql.stack.items())
    assert "appears twice" in reply.body["details"][0]["message"]
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_an_ack_batch_with_a_repeated_key_is_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    ack = ql.executed(signal)
    before = ql.stack.items()

    reply = ql.ack(terminal, render({"acks": [Obj((*ack.items(), ("status", "failed")))]}))

    assert_refused(reply, "body", before, ql.stack.items())


# ---- security codes: exactly the ASCII form -------------------------------------------------------------


@pytest.mark.parametrize(
    "security",
    [
        pytest.param("٦٠٠٠٠٠.XSHG", id="Arabic-Indic digits"),
        pytest.param("６００００0.XSHG", id="fullwidth digits"),
        pytest.param("600000.XSHG\n", id="trailing newline"),
        pytest.param("600000.XSHG ", id="trailing space"),
        pytest.param("600000.ＸSHG", id="fullwidth letter"),
    ],
)
def test_a_security_code_not_in_the_exact_ascii_form_is_refused(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], security: str
) -> None:
    strategy, _ = linked
    before = ql.stack.items()

    signal = ql.webhook(strategy, ql.signal_body(order={"security": security}))
    snapshot = ql.sample_body("webhook/positions")
    snapshot["positions"][0]["security"] = security
    leader = positions(ql, strategy, json.dumps(snapshot).encode())

    assert_refused(signal, "order.security", before, ql.stack.items())
    assert_refused(leader, "positions.0.security", before, ql.stack.items())


# ---- an ack must match a delivery this terminal pulled ------------------------------------------------


def test_an_ack_with_a_made_up_receipt_settles_nothing(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    # Given one signal this terminal pulled and one it never pulled
    strategy, terminal = linked
    ql.send_signal(strategy, seq=1)
    (pulled,) = ql.pulled(terminal, max_signals="1")
    never = ql.send_signal(strategy, seq=2)
    made_up = AckToken.for_queue(strategy.strategy_id, "made-up-receipt").encode()
    before = ql.stack.items()

    # When the terminal acks both with a token whose receipt nobody handed out
    reply = ql.ack(
        terminal,
        [ql.executed(pulled, ackToken=made_up), ql.executed(pulled, signalId=never["signalId"], ackToken=made_up)],
    )

    # Then neither is settled: the never-pulled one stays QUEUED, the pulled one PULLED
    assert [r["ok"] for r in reply.body["results"]] == [False, False]
    assert {r["code"] for r in reply.body["results"]} == {"NOT_FOUND"}
    assert ql.stack.items() == before
    assert ql.ack(terminal, [ql.executed(pulled)]).body["results"][0]["status"] == "EXECUTED"
