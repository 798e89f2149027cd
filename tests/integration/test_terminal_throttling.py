"""Per-terminal throttling (quantlink.throttling) through the pull and ack functions: the limits come
from template.yaml's Parameters, a call past them answers 429 RATE_LIMITED with Retry-After and does
nothing, and another terminal is not slowed down by it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from quantlink import aws
from quantlink.dal import keys
from quantlink.settings import TerminalSettings

if TYPE_CHECKING:
    from conftest import Function, QuantLink, TerminalCreds

    from quantlink_local.template import Template


def test_the_limits_are_the_templates_parameters_in_the_terminal_functions_environment(
    ql: QuantLink, template: Template
) -> None:
    parameters = template.data["Parameters"]
    environment = ql.stack.environment
    assert environment["PULL_RATE_LIMIT"] == str(parameters["TerminalPullLimit"]["Default"])
    assert environment["ACK_RATE_LIMIT"] == str(parameters["TerminalAckLimit"]["Default"])
    assert environment["RATE_WINDOW_SECONDS"] == str(parameters["TerminalRateWindowSeconds"]["Default"])
    settings = TerminalSettings.from_environ(environment)
    # Far above a working agent: 3 long-polls a minute; a 50-signal burst is 5 pulls and 50 acks.
    assert settings.pull_rate().limit * 60 / settings.rate_window_seconds >= 10 * (3 + 5)
    assert settings.ack_rate().limit * 60 / settings.rate_window_seconds >= 10 * 50


@pytest.fixture
def low_limits(ql: QuantLink, monkeypatch: pytest.MonkeyPatch, functions: dict[str, Function]) -> None:
    """Two pulls and two acks per hour: a cold start of the terminal functions with these variables
    (after the stack set the template's)."""
    for name, value in (("PULL_RATE_LIMIT", "2"), ("ACK_RATE_LIMIT", "2"), ("RATE_WINDOW_SECONDS", "3600")):
        monkeypatch.setenv(name, value)
    for function in ("terminal_pull", "terminal_ack"):
        functions[function].clear_caches()


def assert_rate_limited(reply: Any) -> None:
    assert reply.status == 429, reply.text
    assert reply.body["code"] == "RATE_LIMITED" and set(reply.body) == {"code", "message"}
    assert 1 <= int(reply.headers["Retry-After"]) <= 3600


@pytest.mark.usefixtures("low_limits")
def test_a_pull_past_the_limit_is_429_and_leaves_the_signal_queued(ql: QuantLink) -> None:
    strategy, (terminal, other) = ql.linked(terminals=2)
    assert ql.pulled(terminal) == []
    assert ql.pulled(terminal) == []
    ql.send_signal(strategy)

    assert_rate_limited(ql.pull(terminal))
    assert ql.stack.visible_messages(terminal.terminal_id) == 1  # not received: it waits for a later pull
    (delivery,) = [d for d in ql.stack.deliveries(strategy.strategy_id) if d["terminalId"] == terminal.terminal_id]
    assert delivery["status"] == "QUEUED"
    # Each terminal has its own counter.
    (pulled,) = ql.pulled(other)
    assert pulled["side"] == "buy"


@pytest.mark.usefixtures("low_limits")
def test_acks_and_holdings_reports_share_the_ack_limit_and_a_refused_ack_records_nothing(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    positions = ql.call("terminal_ack/positions", headers=_auth(ql, terminal))
    assert positions.status == 202, positions.text
    assert ql.ack(terminal, []).status in (200, 400)  # counted whatever the body says

    before = ql.stack.items()
    assert_rate_limited(ql.ack(terminal, [ql.executed(signal)]))
    assert ql.stack.items() == before
    assert ql.stack.queue_depth(terminal.terminal_id) == 1  # the message was not deleted


def _auth(ql: QuantLink, terminal: TerminalCreds) -> dict[str, str]:
    return {"Authorization": f"Bearer {terminal.token}", "X-Device-Fingerprint": ql.device}


def test_the_pull_counts_itself_in_the_write_it_already_made(ql: QuantLink) -> None:
    """No extra round trip: an empty pull is still one GetItem (authenticate) and one UpdateItem (the
    device claim, which now also advances the window), and one ReceiveMessage."""
    _, (terminal,) = ql.linked()
    assert ql.pulled(terminal) == []  # the cold start's own calls are not counted
    calls: list[str] = []
    for client in (aws.dynamodb(), aws.sqs()):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    assert ql.pulled(terminal) == []
    assert sorted(calls) == ["GetItem", "ReceiveMessage", "UpdateItem"]
    stored = ql.stack.item(keys.terminal_pk(terminal.terminal_id), keys.META)
    assert stored is not None and stored["pullCount"] == 2
