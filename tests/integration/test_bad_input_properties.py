"""Whatever a client sends to the webhook, positions and ack bodies (arbitrary JSON in every field,
extra and repeated keys, bytes that are not JSON): never a 5xx, every 4xx has the API.md error body,
and a 4xx writes nothing (the whole table and every queue are as they were). Handlers run in-process
on moto; the bodies come from tests/bodies.py, shared with the other tiers."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantlink_local.template import REPO_ROOT
from tests.bodies import mutated_bodies

if TYPE_CHECKING:
    from conftest import QuantLink, Reply, StrategyCreds, TerminalCreds

# Bounded so the four properties together run in seconds; derandomized so CI runs the same examples
# every time (a failure found here is a plain regression test to add, not a flake).
BOUNDED = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODE = re.compile(r"[A-Z][A-Z_]*")
EVENTS_DIR = REPO_ROOT / "events"


class Everything:
    """The whole table (a full scan) and each queue's depth, visible and in flight. What one example
    leaves is what the next one starts from, so each example costs one scan, not two."""

    def __init__(self, ql: QuantLink, *terminals: TerminalCreds) -> None:
        self.ql, self.terminals = ql, terminals
        self.last = self.now()

    def now(self) -> tuple[list[dict[str, Any]], list[int]]:
        return self.ql.stack.items(), [self.ql.stack.queue_depth(t.terminal_id) for t in self.terminals]

    def check(self, reply: Reply) -> None:
        before, self.last = self.last, self.now()
        assert_answered_as_api_md_says(reply, before, self.last)


def assert_answered_as_api_md_says(reply: Reply, before: object, after: object) -> None:
    assert reply.status < 500, reply.text
    if reply.status < 400:
        return
    body = reply.body
    assert isinstance(body, dict) and set(body) <= {"code", "message", "details"}, reply.text
    assert CODE.fullmatch(body["code"]) and isinstance(body["message"], str) and body["message"]
    if body["code"] == "VALIDATION_ERROR":
        assert reply.status == 400
        assert body["details"] and all(set(d) == {"field", "message"} for d in body["details"]), reply.text
    assert after == before, f"a {reply.status} wrote something"


def sample(name: str) -> dict[str, Any]:
    """The body of an events/ sample: the valid body the mutations start from."""
    loaded: dict[str, Any] = json.loads(json.loads((EVENTS_DIR / f"{name}.json").read_text("utf-8"))["body"])
    return loaded


@pytest.fixture
def linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    """Once per test: hypothesis runs every example of a test on the same moto account."""
    strategy, (terminal,) = ql.linked()
    return strategy, terminal


@pytest.fixture
def state(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> Everything:
    return Everything(ql, linked[1])


@pytest.fixture
def pulled(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> dict[str, Any]:
    strategy, terminal = linked
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    return signal


@pytest.fixture
def pulled_state(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], pulled: dict[str, Any]) -> Everything:
    return Everything(ql, linked[1])


@BOUNDED
@given(raw=mutated_bodies(sample("webhook/signal")))
def test_no_signal_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], state: Everything, raw: bytes
) -> None:
    strategy, _ = linked

    reply = ql.webhook(strategy, raw)

    state.check(reply)


@BOUNDED
@given(raw=mutated_bodies(sample("webhook/positions")))
def test_no_leader_positions_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], state: Everything, raw: bytes
) -> None:
    strategy, _ = linked

    reply = ql.call(
        "webhook/positions",
        path_params={"strategyId": strategy.strategy_id},
        headers={"Authorization": f"Bearer {strategy.token}"},
        body=raw,
    )

    state.check(reply)


@BOUNDED
@given(raw=mutated_bodies(sample("terminal_ack/positions")))
def test_no_terminal_positions_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], state: Everything, raw: bytes
) -> None:
    _, terminal = linked

    reply = ql.call("terminal_ack/positions", headers={"Authorization": f"Bearer {terminal.token}"}, body=raw)

    state.check(reply)


@BOUNDED
@given(data=st.data())
def test_no_ack_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink,
    linked: tuple[StrategyCreds, TerminalCreds],
    pulled: dict[str, Any],
    pulled_state: Everything,
    data: st.DataObject,
) -> None:
    _, terminal = linked
    state = pulled_state
    # The sample ack made real (this terminal's pulled signal), then mutated: a valid one settles it.
    ack = {**sample("terminal_ack/ack")["acks"][0], "signalId": pulled["signalId"], "ackToken": pulled["ackToken"]}
    raw = data.draw(mutated_bodies({"acks": [ack]}))

    reply = ql.ack(terminal, raw)

    state.check(reply)


# ---- QuantDinger and TradingView (quantlink.sources) ---------------------------------------------


@pytest.fixture
def quantdinger_linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy = ql.create_source_strategy("quantdinger")
    terminal = ql.register_terminal()
    assert ql.subscribe(terminal, strategy).status == 200
    return strategy, terminal


@pytest.fixture
def tradingview_linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy = ql.create_source_strategy("tradingview")
    terminal = ql.register_terminal()
    assert ql.subscribe(terminal, strategy).status == 200
    return strategy, terminal


# Values a signal-type, symbol or status field may be given beside arbitrary JSON.
QD_TEXT = st.sampled_from(
    ["open_long", "close_long", "open_short", "profile_test", "qd.signal", "qd.profile_test", "600000", "300750.SZ",
     "BSE:500325", "٦٠٠٠٠٠", "600000.SH\n", "failed", ""]
)  # fmt: skip


@BOUNDED
@given(data=st.data())
def test_no_signed_quantdinger_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink, quantdinger_linked: tuple[StrategyCreds, TerminalCreds], data: st.DataObject
) -> None:
    # Signed with the strategy's secret, so the mutations reach the body's validation, not only the signature.
    strategy, terminal = quantdinger_linked
    state = Everything(ql, terminal)
    body = ql.quantdinger_body()
    if data.draw(st.booleans()):
        body["signal"]["type"] = data.draw(QD_TEXT)
        body["instrument"]["symbol"] = data.draw(QD_TEXT)
    raw = data.draw(mutated_bodies(body))

    reply = ql.quantdinger(strategy, raw)

    state.check(reply)


@BOUNDED
@given(timestamp=st.text(max_size=16) | st.integers().map(str), signature=st.text(max_size=70))
def test_no_quantdinger_signature_header_causes_a_5xx_or_a_write(
    ql: QuantLink, quantdinger_linked: tuple[StrategyCreds, TerminalCreds], timestamp: str, signature: str
) -> None:
    strategy, terminal = quantdinger_linked
    state = Everything(ql, terminal)
    printable = {"X-QD-Timestamp": timestamp.replace("\r", "").replace("\n", ""), "X-QD-Signature": signature}

    reply = ql.quantdinger(strategy, ql.quantdinger_body(), secret=None, headers=printable)

    assert reply.status == 401, reply.text
    state.check(reply)


@BOUNDED
@given(data=st.data())
def test_no_tradingview_body_causes_a_5xx_or_a_write_on_a_4xx(
    ql: QuantLink, tradingview_linked: tuple[StrategyCreds, TerminalCreds], data: st.DataObject
) -> None:
    strategy, terminal = tradingview_linked
    state = Everything(ql, terminal)
    in_query = data.draw(st.booleans())
    body = ql.tradingview_body(strategy)
    if in_query:
        del body["token"]
    raw = data.draw(mutated_bodies(body))

    reply = ql.tradingview(strategy, raw, query={"token": strategy.token} if in_query else None)

    state.check(reply)
