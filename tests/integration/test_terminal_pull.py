"""GET /api/terminals/pull: authenticate, claim or check the device, long-poll the terminal's queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from quantlink import relay
from quantlink.acktokens import AckToken
from quantlink.dal.queues import TerminalQueues
from quantlink.timeutil import now as real_now

if TYPE_CHECKING:
    from conftest import QuantLink, StrategyCreds, TerminalCreds

OTHER_DEVICE = "laptop-0b5e8d2c94a17f36"
WIRE_FIELDS = {
    "origin",  # "source" (API.md): "sync" only for an owner-approved drift repair
    "signalId",
    "ackToken",
    "strategyId",
    "seq",
    "security",
    "sourceSecurity",
    "side",
    "amount",
    "price",
    "style",
    "limitPrice",
    "leader",
    "sizing",
    "createdAt",
    "expiresAt",
}


@pytest.fixture
def linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy, (terminal,) = ql.linked()
    return strategy, terminal


def assert_untouched(ql: QuantLink, before: list[dict[str, Any]], terminal: TerminalCreds, waiting: int) -> None:
    """Nothing written (no claim, no lastSeenAt, no PULLED) and nothing taken from the queue."""
    assert ql.stack.items() == before
    assert ql.stack.visible_messages(terminal.terminal_id) == waiting


# ---- happy path ----------------------------------------------------------------------------------


def test_a_pull_returns_the_signal_in_the_wire_form_and_marks_it_pulled(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    sent = ql.send_signal(strategy, seq=5)

    (signal,) = ql.pulled(terminal)

    assert set(signal) == WIRE_FIELDS
    assert signal["signalId"] == sent["signalId"] and signal["strategyId"] == strategy.strategy_id
    assert (signal["seq"], signal["security"], signal["sourceSecurity"]) == (5, "600000.SH", "600000.XSHG")
    assert (signal["side"], signal["amount"], signal["price"], signal["style"]) == ("buy", 1200, 10.52, "market")
    assert signal["leader"] == {"totalValue": 1000000.0, "positionAfter": 1200}
    assert signal["origin"] == "source"
    token = AckToken.parse(signal["ackToken"])
    assert token is not None and token.strategy_id == strategy.strategy_id
    created, expires = datetime.fromisoformat(signal["createdAt"]), datetime.fromisoformat(signal["expiresAt"])
    assert expires - created == timedelta(seconds=300) and created.utcoffset() is not None
    (delivery,) = ql.stack.deliveries(strategy.strategy_id)
    assert delivery["status"] == "PULLED" and "pulledAt" in delivery


@pytest.mark.parametrize(
    ("source", "exchange"), [("600000.XSHG", "600000.SH"), ("000001.XSHE", "000001.SZ"), ("430047.XBSE", "430047.BJ")]
)
def test_securities_reach_the_terminal_in_exchange_form(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], source: str, exchange: str
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy, order={"security": source})

    (signal,) = ql.pulled(terminal)

    assert (signal["security"], signal["sourceSecurity"]) == (exchange, source)


def test_the_subscription_sizing_travels_with_the_signal(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    terminal = ql.register_terminal()
    assert ql.subscribe(terminal, strategy, {"sizing": {"mode": "fixed", "multiplier": 2.5}}).status == 200
    ql.send_signal(strategy)

    (signal,) = ql.pulled(terminal)

    assert signal["sizing"] == {"mode": "fixed", "multiplier": 2.5}


def test_a_pull_records_last_seen_and_binds_the_device(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    _, terminal = linked
    assert ql.terminal_view(terminal)["lastSeenAt"] is None

    assert ql.pulled(terminal) == []

    view = ql.terminal_view(terminal)
    assert view["deviceBound"] is True
    assert datetime.fromisoformat(view["lastSeenAt"]) <= real_now()


def test_signals_of_one_strategy_arrive_in_webhook_order(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    orders = [("600000.XSHG", "sell"), ("000001.XSHE", "buy"), ("600000.XSHG", "buy"), ("300750.XSHE", "sell")]
    for seq, (security, side) in enumerate(orders, start=1):
        ql.send_signal(strategy, seq=seq, order={"security": security, "side": side})

    first = ql.pulled(terminal, max_signals="2")
    ql.ack(terminal, [ql.executed(s) for s in first])
    rest = ql.pulled(terminal, max_signals="10")

    assert [s["seq"] for s in first + rest] == [1, 2, 3, 4]
    assert [(s["sourceSecurity"], s["side"]) for s in first + rest] == orders


def test_a_signal_not_acked_in_time_is_delivered_again_keeping_the_first_pull_time(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    (first,) = ql.pulled(terminal)
    first_pull = ql.stack.deliveries(strategy.strategy_id)[0]["pulledAt"]

    # Given the terminal died before acking: the message's visibility timeout runs out
    expire_visibility(ql, terminal, first)

    (again,) = ql.pulled(terminal)

    assert again["signalId"] == first["signalId"]
    (delivery,) = ql.stack.deliveries(strategy.strategy_id)
    assert delivery["status"] == "PULLED" and delivery["pulledAt"] == first_pull


def test_a_redelivered_copy_of_a_settled_signal_is_dropped(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    # The outcome is recorded but SQS refuses the delete (a receipt gone stale), so it delivers again.
    with monkeypatch.context() as refusing:
        refusing.setattr(TerminalQueues, "delete_message", lambda *args: False)
        assert ql.ack(terminal, [ql.executed(signal)]).body["results"][0]["ok"] is True
    assert ql.stack.queue_depth(terminal.terminal_id) == 1
    expire_visibility(ql, terminal, signal)

    assert ql.pulled(terminal) == []

    assert ql.stack.queue_depth(terminal.terminal_id) == 0
    assert ql.stack.deliveries(strategy.strategy_id)[0]["status"] == "EXECUTED"


def expire_visibility(ql: QuantLink, terminal: TerminalCreds, pulled: dict[str, Any]) -> None:
    """As if the terminal died before acking: the message's visibility timeout runs out now."""
    token = AckToken.parse(pulled["ackToken"])
    assert token is not None
    ql.stack.sqs.change_message_visibility(
        QueueUrl=ql.stack.queue_url(terminal.terminal_id), ReceiptHandle=token.receipt, VisibilityTimeout=0
    )


# ---- expiry --------------------------------------------------------------------------------------


def test_an_expired_signal_is_not_delivered_and_its_delivery_is_marked_expired(
    ql: QuantLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a short-lived strategy's signal and a fresh one from a long-lived strategy
    short = ql.create_strategy(name="short", signalTtlSeconds=5)
    long = ql.create_strategy(name="long", signalTtlSeconds=600)
    terminal = ql.register_terminal()
    for strategy in (short, long):
        assert ql.subscribe(terminal, strategy).status == 200
    stale = ql.send_signal(short)
    fresh = ql.send_signal(long)

    # When the terminal pulls a minute later
    monkeypatch.setattr(relay, "now", lambda: real_now() + timedelta(seconds=60))
    pulled = ql.pulled(terminal)

    # Then only the fresh signal is delivered; the stale one is marked EXPIRED and dropped from the queue
    assert [s["signalId"] for s in pulled] == [fresh["signalId"]]
    (expired,) = ql.stack.deliveries(short.strategy_id, stale["signalId"])
    assert expired["status"] == "EXPIRED" and "expiredAt" in expired
    assert ql.stack.queue_depth(terminal.terminal_id) == 1  # the fresh one, in flight until acked
    assert ql.timeline(short)[0]["deliveries"][0]["status"] == "EXPIRED"


# ---- the bound device ----------------------------------------------------------------------------


def test_a_second_device_is_refused_with_409_and_consumes_nothing(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    assert ql.pulled(terminal, device=ql.device) == []
    ql.send_signal(strategy)
    before = ql.stack.items()

    reply = ql.pull(terminal, device=OTHER_DEVICE)

    assert (reply.status, reply.error_code()) == (409, "DEVICE_TAKEN_OVER")
    assert_untouched(ql, before, terminal, waiting=1)
    assert len(ql.pulled(terminal, device=ql.device)) == 1


def test_after_a_release_the_next_device_claims_the_terminal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    assert ql.pulled(terminal, device=ql.device) == []

    released = ql.owner_call(
        "owner_api/release_device", terminal.owner, path_params={"terminalId": terminal.terminal_id}
    )
    ql.send_signal(strategy)

    assert released.status == 200 and released.body["deviceBound"] is False
    assert len(ql.pulled(terminal, device=OTHER_DEVICE)) == 1
    assert ql.pull(terminal, device=ql.device).status == 409


@pytest.mark.parametrize(
    "device",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("short7!", id="7 characters"),
        pytest.param("x" * 129, id="129 characters"),
        pytest.param("tab\there-12345", id="not printable"),
    ],
)
def test_a_missing_or_malformed_fingerprint_is_a_validation_error(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], device: str | None
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    before = ql.stack.items()

    reply = ql.pull(terminal, device=device)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert [d["field"] for d in reply.body["details"]] == ["header.X-Device-Fingerprint"]
    assert_untouched(ql, before, terminal, waiting=1)


@pytest.mark.parametrize("device", ["8chars!!", "y" * 128])
def test_fingerprints_of_8_and_128_characters_are_accepted(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], device: str
) -> None:
    _, terminal = linked

    assert ql.pull(terminal, device=device).status == 200


# ---- authentication and parameters ---------------------------------------------------------------


def test_a_wrong_or_malformed_token_is_refused_with_401(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    stranger = ql.register_terminal(owner="bob")
    ql.send_signal(strategy)
    before = ql.stack.items()

    answers = [
        ql.pull(terminal, token=f"{terminal.terminal_id}.not-the-secret"),
        ql.pull(terminal, token=f"{terminal.terminal_id}.{stranger.token.split('.', 1)[1]}"),
        ql.pull(terminal, token="trm_0000000000000000.secret"),
        ql.pull(terminal, token="no-dot-at-all"),
        ql.pull(terminal, token=strategy.token),
    ]

    assert [(a.status, a.error_code()) for a in answers] == [(401, "UNAUTHORIZED")] * len(answers)
    assert_untouched(ql, before, terminal, waiting=1)


@pytest.mark.parametrize(
    ("wait", "max_signals", "field"),
    [
        ("21", "10", "query.wait"),
        ("-1", "10", "query.wait"),
        ("soon", "10", "query.wait"),
        ("0", "0", "query.max"),
        ("0", "11", "query.max"),
        ("0", "ten", "query.max"),
    ],
)
def test_wait_and_max_out_of_range_are_validation_errors(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], wait: str, max_signals: str, field: str
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    before = ql.stack.items()

    reply = ql.pull(terminal, wait=wait, max_signals=max_signals)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert [d["field"] for d in reply.body["details"]] == [field]
    assert_untouched(ql, before, terminal, waiting=1)


def test_without_wait_and_max_the_pull_long_polls_20_seconds_for_up_to_10_signals(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, terminal = linked
    ql.send_signal(strategy)
    asked: list[tuple[int, int]] = []
    real_receive = TerminalQueues.receive

    def receive(self: TerminalQueues, queue_url: str, *, max_messages: int, wait_seconds: int) -> Any:
        asked.append((wait_seconds, max_messages))
        return real_receive(self, queue_url, max_messages=max_messages, wait_seconds=0)

    monkeypatch.setattr(TerminalQueues, "receive", receive)

    reply = ql.pull(terminal, wait=None, max_signals=None)

    assert reply.status == 200 and len(reply.body["signals"]) == 1
    assert asked == [(20, 10)]


def test_max_limits_how_many_signals_one_pull_returns(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    for seq in range(1, 4):
        ql.send_signal(strategy, seq=seq)

    assert [s["seq"] for s in ql.pulled(terminal, max_signals="1")] == [1]
