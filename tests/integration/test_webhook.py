"""POST /api/webhooks/joinquant/{strategyId}[/positions]: authenticate, validate, dedup + record, fan out."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from quantlink import aws, relay
from quantlink.dal.queues import TerminalQueues
from quantlink.timeutil import now as real_now

if TYPE_CHECKING:
    from conftest import QuantLink, StrategyCreds, TerminalCreds

MAX_BODY = 64 * 1024


@pytest.fixture
def linked(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy, (terminal,) = ql.linked()
    return strategy, terminal


def assert_nothing_recorded(ql: QuantLink, before: list[dict[str, Any]], *terminals: TerminalCreds) -> None:
    assert ql.stack.items() == before
    for terminal in terminals:
        assert ql.stack.queue_depth(terminal.terminal_id) == 0


def throttled(operation: str = "SendMessage") -> ClientError:
    return ClientError({"Error": {"Code": "RequestThrottled", "Message": "slow down"}}, operation)


# ---- happy path ----------------------------------------------------------------------------------


def test_a_new_signal_is_recorded_fanned_out_and_queued_for_the_terminal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked

    reply = ql.webhook(strategy, ql.signal_body(seq=17))

    assert reply.status == 202
    assert reply.body == {"signalId": reply.body["signalId"], "duplicate": False, "deliveries": 1}
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["signalId"] == reply.body["signalId"]
    assert signal["status"] == "FANNED_OUT" and signal["deliveries"] == 1
    assert (signal["security"], signal["sourceSecurity"], signal["side"], signal["amount"]) == (
        "600000.SH",
        "600000.XSHG",
        "buy",
        1200,
    )
    (delivery,) = ql.stack.deliveries(strategy.strategy_id)
    assert (delivery["terminalId"], delivery["status"]) == (terminal.terminal_id, "QUEUED")
    (message,) = ql.stack.drain(terminal.terminal_id)
    assert message["Attributes"]["MessageGroupId"] == strategy.strategy_id
    assert message["Attributes"]["MessageDeduplicationId"] == signal["signalId"]
    assert json.loads(message["Body"])["security"] == "600000.SH"


def test_fan_out_sends_one_message_per_subscribed_terminal_and_none_to_the_unsubscribed(ql: QuantLink) -> None:
    # Given three subscribed terminals and one that is registered but not subscribed
    strategy, subscribed = ql.linked(terminals=3)
    bystander = ql.register_terminal(name="not subscribed")

    # When JoinQuant posts one order
    reply = ql.webhook(strategy, ql.signal_body())

    # Then each subscribed terminal's queue gets exactly one message, grouped by strategy
    assert reply.status == 202 and reply.body["deliveries"] == 3
    for terminal in subscribed:
        (message,) = ql.stack.drain(terminal.terminal_id)
        assert message["Attributes"]["MessageGroupId"] == strategy.strategy_id
        assert json.loads(message["Body"])["signalId"] == reply.body["signalId"]
    assert ql.stack.queue_depth(bystander.terminal_id) == 0
    deliveries = ql.stack.deliveries(strategy.strategy_id, reply.body["signalId"])
    assert sorted(d["terminalId"] for d in deliveries) == sorted(t.terminal_id for t in subscribed)


def test_a_signal_with_no_subscribers_is_recorded_with_zero_deliveries(ql: QuantLink) -> None:
    strategy = ql.create_strategy()

    reply = ql.webhook(strategy, ql.signal_body())

    assert reply.status == 202 and reply.body["deliveries"] == 0
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "FANNED_OUT" and ql.stack.deliveries(strategy.strategy_id) == []


def test_only_the_required_fields_are_enough(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = linked
    minimal = {"v": 1, "seq": 1, "order": {"security": "000001.XSHE", "side": "sell", "amount": 100}}

    reply = ql.webhook(strategy, minimal)

    assert reply.status == 202
    (pulled,) = ql.pulled(terminal)
    assert (pulled["security"], pulled["side"], pulled["amount"], pulled["style"]) == (
        "000001.SZ",
        "sell",
        100,
        "market",
    )
    assert pulled["limitPrice"] is None and pulled["price"] is None


def test_a_limit_order_without_a_style_is_relayed_as_a_limit_order(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked

    ql.send_signal(strategy, order={"style": None, "limitPrice": 10.48})

    (pulled,) = ql.pulled(terminal)
    assert (pulled["style"], pulled["limitPrice"]) == ("limit", 10.48)


# ---- dedup ---------------------------------------------------------------------------------------


def test_a_byte_identical_body_is_a_duplicate_delivered_only_once(ql: QuantLink) -> None:
    strategy, terminals = ql.linked(terminals=2)
    body = json.dumps(ql.signal_body(seq=3)).encode()

    first = ql.webhook(strategy, body)
    again = ql.webhook(strategy, body)

    assert first.status == 202
    assert again.status == 200
    assert again.body == {"signalId": first.body["signalId"], "duplicate": True}
    assert len(ql.stack.signals(strategy.strategy_id)) == 1
    assert len(ql.stack.deliveries(strategy.strategy_id)) == 2
    for terminal in terminals:
        assert ql.stack.queue_depth(terminal.terminal_id) == 1


def test_the_same_order_with_the_next_seq_is_a_new_signal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked

    first = ql.send_signal(strategy, seq=1)
    second = ql.send_signal(strategy, seq=2)

    assert first["signalId"] != second["signalId"]
    assert [s["seq"] for s in ql.pulled(terminal)] == [1, 2]


def test_after_the_dedup_window_an_identical_body_is_a_new_signal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, terminal = linked
    body = json.dumps(ql.signal_body()).encode()
    first = ql.webhook(strategy, body)
    webhook = ql.functions["webhook"].module
    window = webhook.runtime().settings.dedup_ttl_seconds

    # The marker is past its TTL (DynamoDB deletes expired items lazily; moto never does).
    monkeypatch.setattr(webhook, "now", lambda: real_now() + timedelta(seconds=window + 1))
    later = ql.webhook(strategy, body)

    assert later.status == 202 and later.body["signalId"] != first.body["signalId"]
    assert len(ql.stack.signals(strategy.strategy_id)) == 2
    assert ql.stack.queue_depth(terminal.terminal_id) == 2


def test_dedup_is_scoped_to_the_strategy(ql: QuantLink) -> None:
    one, other = ql.create_strategy(name="one"), ql.create_strategy(name="other")
    body = json.dumps(ql.signal_body()).encode()

    assert ql.webhook(one, body).status == 202
    assert ql.webhook(other, body).status == 202


# ---- a signal left RECEIVED is re-driven -----------------------------------------------------------


def test_a_failed_send_answers_503_and_the_identical_retry_re_drives_the_signal(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, terminal = linked
    body = json.dumps(ql.signal_body()).encode()
    real_send = TerminalQueues.send
    calls: list[str] = []

    def send_failing_once(self: TerminalQueues, queue_url: str, *args: Any, **kwargs: Any) -> None:
        calls.append(queue_url)
        if len(calls) == 1:
            raise throttled()
        real_send(self, queue_url, *args, **kwargs)

    monkeypatch.setattr(TerminalQueues, "send", send_failing_once)

    # Given SQS refuses the first send
    failed = ql.webhook(strategy, body)

    # Then the webhook asks JoinQuant to retry, and the signal stays RECEIVED, undelivered
    assert failed.status == 503 and failed.error_code() == "UNAVAILABLE"
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "RECEIVED"
    assert ql.stack.queue_depth(terminal.terminal_id) == 0

    # When JoinQuant retries with the same bytes
    retried = ql.webhook(strategy, body)

    # Then it is a duplicate of the same signal, and the retry finished the fan-out exactly once
    assert retried.status == 200 and retried.body == {"signalId": signal["signalId"], "duplicate": True}
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "FANNED_OUT" and signal["deliveries"] == 1
    assert len(ql.stack.deliveries(strategy.strategy_id)) == 1
    (message,) = ql.stack.drain(terminal.terminal_id)
    assert json.loads(message["Body"])["signalId"] == signal["signalId"]


def test_a_re_drive_after_a_partial_fan_out_still_gives_each_terminal_one_message(
    ql: QuantLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, (healthy, flaky) = ql.linked(terminals=2)
    body = json.dumps(ql.signal_body()).encode()
    flaky_url = ql.stack.queue_url(flaky.terminal_id)
    real_send = TerminalQueues.send
    refused: list[str] = []

    def send(self: TerminalQueues, queue_url: str, *args: Any, **kwargs: Any) -> None:
        if queue_url == flaky_url and not refused:
            refused.append(queue_url)
            raise throttled()
        real_send(self, queue_url, *args, **kwargs)

    monkeypatch.setattr(TerminalQueues, "send", send)

    # Given one terminal's send failed while the other's succeeded
    assert ql.webhook(strategy, body).status == 503
    assert (ql.stack.queue_depth(healthy.terminal_id), ql.stack.queue_depth(flaky.terminal_id)) == (1, 0)

    # When the retry re-drives the whole fan-out
    assert ql.webhook(strategy, body).status == 200

    # Then the re-send to the healthy terminal is deduplicated by SQS: one message each
    assert (ql.stack.queue_depth(healthy.terminal_id), ql.stack.queue_depth(flaky.terminal_id)) == (1, 1)
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "FANNED_OUT" and signal["deliveries"] == 2


class Crash(BaseException):
    """The process dying mid-request: nothing in the handler gets to clean up."""


def test_a_fan_out_that_died_is_re_driven_only_after_its_lease_runs_out(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, terminal = linked
    body = json.dumps(ql.signal_body()).encode()
    real_send = relay.send_deliveries

    def die_first(*args: Any, **kwargs: Any) -> int:
        monkeypatch.setattr(relay, "send_deliveries", real_send)
        raise Crash

    monkeypatch.setattr(relay, "send_deliveries", die_first)
    with pytest.raises(Crash):
        ql.webhook(strategy, body)
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "RECEIVED"

    # While the dead attempt's lease runs, a retry must not start a second fan-out.
    assert ql.webhook(strategy, body).body == {"signalId": signal["signalId"], "duplicate": True}
    assert ql.stack.signals(strategy.strategy_id)[0]["status"] == "RECEIVED"
    assert ql.stack.queue_depth(terminal.terminal_id) == 0

    lease = ql.functions["webhook"].module.runtime().settings.fanout_lease_seconds
    monkeypatch.setattr(relay, "now", lambda: real_now() + timedelta(seconds=lease + 1))
    assert ql.webhook(strategy, body).status == 200

    assert ql.stack.signals(strategy.strategy_id)[0]["status"] == "FANNED_OUT"
    assert ql.stack.queue_depth(terminal.terminal_id) == 1


# ---- authentication ------------------------------------------------------------------------------


def test_a_wrong_token_and_an_unknown_strategy_answer_the_same_401(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = linked
    other = ql.create_strategy(owner="bob")
    body = ql.signal_body()
    before = ql.stack.items()

    answers = [
        ql.webhook(strategy, body, token="qlw_not-the-token"),
        ql.webhook(strategy, body, token=other.token),
        ql.webhook(strategy, body, strategy_id="stg_0000000000000000"),
        ql.webhook(strategy, body, strategy_id="not-a-strategy-id"),
        ql.call(
            "webhook/signal",
            path_params={"strategyId": strategy.strategy_id},
            headers={"Authorization": None},
            body=json.dumps(body),
        ),
    ]

    assert {a.status for a in answers} == {401}
    assert {a.text for a in answers} == {answers[0].text}
    assert answers[0].error_code() == "UNAUTHORIZED"
    assert_nothing_recorded(ql, before, terminal)


# ---- bad input: nothing recorded, nothing delivered --------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"v": 1, "seq": 1, "order": {', id="truncated JSON"),
        pytest.param(b"v=1&seq=1", id="form encoded"),
        pytest.param(b"\xff\xfe{}", id="not UTF-8"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="a list"),
        pytest.param(b"null", id="null"),
    ],
)
def test_a_body_that_is_not_a_json_signal_is_a_validation_error(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], raw: bytes
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, raw)

    assert reply.status == 400 and reply.error_code() == "VALIDATION_ERROR"
    assert reply.body["details"]
    assert_nothing_recorded(ql, before, terminal)


def padded_signal(size: int) -> bytes:
    """A valid signal of exactly `size` bytes (the padding is an unknown field, which is ignored)."""
    body = {"v": 1, "seq": 1, "order": {"security": "600000.XSHG", "side": "buy", "amount": 100}, "pad": ""}
    overhead = len(json.dumps(body, separators=(",", ":")).encode())
    body["pad"] = "x" * (size - overhead)
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) == size
    return raw


def test_a_body_over_64_kib_is_refused_with_413(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, padded_signal(MAX_BODY + 1))

    assert reply.status == 413 and reply.error_code() == "PAYLOAD_TOO_LARGE"
    assert_nothing_recorded(ql, before, terminal)


def test_a_body_of_exactly_64_kib_is_accepted(ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = linked

    reply = ql.webhook(strategy, padded_signal(MAX_BODY))

    assert reply.status == 202 and ql.stack.queue_depth(terminal.terminal_id) == 1


@pytest.mark.parametrize("security", ["600000.XSHX", "600000.SH", "AAPL", "60000.XSHG", "600000.xshg", ""])
def test_an_unknown_exchange_suffix_or_malformed_code_is_a_validation_error(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], security: str
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, ql.signal_body(order={"security": security}))

    assert reply.status == 400 and reply.error_code() == "VALIDATION_ERROR"
    assert [d["field"] for d in reply.body["details"]] == ["order.security"]
    assert_nothing_recorded(ql, before, terminal)


def without(body: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    node = body
    for part in parents:
        node = node[part]
    del node[leaf]
    return body


@pytest.mark.parametrize("field", ["v", "seq", "order", "order.security", "order.side", "order.amount"])
def test_a_missing_required_field_is_a_validation_error_naming_it(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], field: str
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()

    reply = ql.webhook(strategy, without(ql.signal_body(), field))

    assert reply.status == 400 and reply.error_code() == "VALIDATION_ERROR"
    assert field in [d["field"] for d in reply.body["details"]]
    assert_nothing_recorded(ql, before, terminal)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        pytest.param({"order": {"side": "hold"}}, "order.side", id="side hold"),
        pytest.param({"order": {"side": "BUY"}}, "order.side", id="side upper case"),
        pytest.param({"order": {"amount": 0}}, "order.amount", id="amount zero"),
        pytest.param({"order": {"amount": -100}}, "order.amount", id="amount negative"),
        pytest.param({"order": {"amount": 12.5}}, "order.amount", id="amount fractional"),
        pytest.param({"v": 2}, "v", id="unknown version"),
        pytest.param({"seq": -1}, "seq", id="negative seq"),
    ],
)
def test_an_invalid_order_is_a_validation_error(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], override: dict[str, Any], field: str
) -> None:
    strategy, terminal = linked
    before = ql.stack.items()
    fields = dict(override)
    body = ql.signal_body(order=fields.pop("order", None), **fields)

    reply = ql.webhook(strategy, body)

    assert reply.status == 400 and reply.error_code() == "VALIDATION_ERROR"
    assert field in [d["field"] for d in reply.body["details"]]
    assert_nothing_recorded(ql, before, terminal)


def test_an_unknown_route_answers_the_api_404(ql: QuantLink) -> None:
    reply = ql.call("webhook/signal", resource="/api/webhooks/ricequant/{strategyId}")

    assert reply.status == 404
    assert reply.body == {"code": "NOT_FOUND", "message": reply.body["message"]}


# ---- positions snapshot ----------------------------------------------------------------------------


def positions(ql: QuantLink, strategy: StrategyCreds, body: Any, token: str | None = None) -> Any:
    return ql.call(
        "webhook/positions",
        path_params={"strategyId": strategy.strategy_id},
        headers={"Authorization": f"Bearer {token or strategy.token}"},
        body=body,
    )


def test_a_positions_snapshot_is_stored_for_the_strategy(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    snapshot = ql.sample_body("webhook/positions")

    reply = positions(ql, strategy, snapshot)

    assert reply.status == 202 and reply.body["positions"] == len(snapshot["positions"])
    (stored,) = ql.stack.items_under(f"STRATEGY#{strategy.strategy_id}", "POSITIONS#")
    assert stored["positions"] == snapshot["positions"]
    assert (stored["totalValue"], stored["cash"], stored["dt"]) == (
        snapshot["totalValue"],
        snapshot["cash"],
        snapshot["dt"],
    )


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        pytest.param({"security": "000001.XSHX"}, 400, "VALIDATION_ERROR", id="unknown suffix"),
        pytest.param({"amount": -1}, 400, "VALIDATION_ERROR", id="negative amount"),
        pytest.param({"security": None}, 400, "VALIDATION_ERROR", id="no security"),
    ],
)
def test_a_bad_position_is_refused_and_nothing_is_stored(
    ql: QuantLink, change: dict[str, Any], status: int, code: str
) -> None:
    strategy = ql.create_strategy()
    snapshot = ql.sample_body("webhook/positions")
    snapshot["positions"][1].update(change)
    before = ql.stack.items()

    reply = positions(ql, strategy, snapshot)

    assert (reply.status, reply.error_code()) == (status, code)
    assert any(d["field"].startswith("positions.1") for d in reply.body["details"])
    assert ql.stack.items() == before


def test_a_positions_snapshot_needs_the_strategy_token(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    before = ql.stack.items()

    reply = positions(ql, strategy, ql.sample_body("webhook/positions"), token="qlw_wrong")

    assert (reply.status, reply.error_code()) == (401, "UNAUTHORIZED")
    assert ql.stack.items() == before


# ---- the shortest path to the sends, and the per-strategy rate limit ----------------------------------


def aws_calls() -> list[str]:
    """The operations the functions' DynamoDB and SQS clients make from now on, in order."""
    calls: list[str] = []
    for client in (aws.dynamodb(), aws.sqs()):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


def test_no_write_stands_between_the_dedup_transaction_and_the_sends(ql: QuantLink) -> None:
    strategy, terminals = ql.linked(terminals=3)
    calls = aws_calls()

    assert ql.webhook(strategy, ql.signal_body(seq=1)).status == 202

    # The strategy's GetItem and the subscriptions Query (run alongside it), and the push lookup
    # (BatchGetItem, alongside the transaction), come before; then the transaction, holding the
    # delivery records; then only the sends, and last the FANNED_OUT update.
    transaction = calls.index("TransactWriteItems")
    assert sorted(calls[:transaction]) in (["GetItem", "Query"], ["BatchGetItem", "GetItem", "Query"])
    after = [c for c in calls[transaction + 1 :] if c != "BatchGetItem"]
    assert after == ["SendMessage"] * 3 + ["UpdateItem"]
    assert "BatchWriteItem" not in calls
    assert {d["status"] for d in ql.stack.deliveries(strategy.strategy_id)} == {"QUEUED"}
    assert all(ql.stack.queue_depth(t.terminal_id) == 1 for t in terminals)


def test_a_fan_out_past_one_transaction_reaches_every_terminal_once(ql: QuantLink) -> None:
    # Given more terminals than one TransactWriteItems holds (100 items with the marker and the record)
    strategy, terminals = ql.linked(terminals=105)

    reply = ql.webhook(strategy, ql.signal_body(seq=1))

    assert reply.status == 202 and reply.body["deliveries"] == 105
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "FANNED_OUT" and signal["deliveries"] == 105
    deliveries = ql.stack.deliveries(strategy.strategy_id)
    assert sorted(d["terminalId"] for d in deliveries) == sorted(t.terminal_id for t in terminals)
    assert all(ql.stack.queue_depth(t.terminal_id) == 1 for t in terminals)


@pytest.fixture
def limited(ql: QuantLink, monkeypatch: pytest.MonkeyPatch) -> int:
    """The webhook function cold-started with a limit of 3 signals an hour (the template's Parameters)."""
    monkeypatch.setenv("WEBHOOK_RATE_LIMIT", "3")
    monkeypatch.setenv("WEBHOOK_RATE_WINDOW_SECONDS", "3600")
    ql.functions["webhook"].clear_caches()
    seconds_left = 3600 - real_now().timestamp() % 3600
    if seconds_left < 5:  # the test must not straddle two windows
        time.sleep(seconds_left + 0.1)
    return 3


def test_past_the_rate_limit_a_webhook_answers_429_with_retry_after_and_records_nothing(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], limited: int
) -> None:
    strategy, terminal = linked
    other = ql.create_strategy()  # the limit is per strategy
    for seq in range(1, limited + 1):
        assert ql.webhook(strategy, ql.signal_body(seq=seq)).status == 202
    before = ql.stack.items()

    refused = ql.webhook(strategy, ql.signal_body(seq=limited + 1))

    assert refused.status == 429
    assert refused.body["code"] == "RATE_LIMITED" and isinstance(refused.body["message"], str)
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert refused.body["details"] == {"limit": 3, "windowSeconds": 3600, "retryAfterSeconds": retry_after}
    assert_nothing_recorded(ql, before)
    assert ql.stack.queue_depth(terminal.terminal_id) == limited
    # JoinQuant's retry of a recorded signal is still its duplicate, not refused
    assert ql.webhook(strategy, ql.signal_body(seq=1)).body["duplicate"] is True
    assert ql.webhook(other, ql.signal_body(seq=1)).status == 202


def test_duplicates_do_not_count_against_the_rate_limit(
    ql: QuantLink, linked: tuple[StrategyCreds, TerminalCreds], limited: int
) -> None:
    strategy, _ = linked
    assert ql.webhook(strategy, ql.signal_body(seq=1)).status == 202
    for _ in range(5):
        assert ql.webhook(strategy, ql.signal_body(seq=1)).status == 200
    assert [ql.webhook(strategy, ql.signal_body(seq=seq)).status for seq in (2, 3, 4)] == [202, 202, 429]
