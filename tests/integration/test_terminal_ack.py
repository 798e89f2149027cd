"""POST /api/terminals/ack (record the outcome, delete the message) and /api/terminals/positions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import QuantLink, StrategyCreds, TerminalCreds

OTHER_DEVICE = "laptop-0b5e8d2c94a17f36"


@pytest.fixture
def pulled(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds, dict[str, Any]]:
    """A strategy, its terminal, and one signal the terminal has pulled (and not acked yet)."""
    strategy, (terminal,) = ql.linked()
    ql.send_signal(strategy)
    (signal,) = ql.pulled(terminal)
    return strategy, terminal, signal


def delivery(ql: QuantLink, strategy: StrategyCreds) -> dict[str, Any]:
    (only,) = ql.stack.deliveries(strategy.strategy_id)
    return only


def assert_still_pulled(
    ql: QuantLink, strategy: StrategyCreds, terminal: TerminalCreds, before: list[dict[str, Any]]
) -> None:
    """Nothing recorded and the message still waiting for an ack."""
    assert ql.stack.items() == before
    assert delivery(ql, strategy)["status"] == "PULLED"
    assert ql.stack.queue_depth(terminal.terminal_id) == 1


# ---- happy path ----------------------------------------------------------------------------------


def test_an_executed_ack_is_recorded_and_the_message_deleted(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled

    reply = ql.ack(terminal, [ql.executed(signal)])

    assert reply.status == 200
    assert reply.body == {"results": [{"signalId": signal["signalId"], "ok": True, "status": "EXECUTED"}]}
    recorded = delivery(ql, strategy)
    assert recorded["status"] == "EXECUTED" and "ackedAt" in recorded
    assert recorded["outcome"] == {
        "brokerOrderId": "1082130433",
        "filled": 1200,
        "avgPrice": 10.53,
        "executedAt": "2026-11-20T01:31:03.456+00:00",
    }
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_the_timeline_shows_every_step_of_an_executed_signal(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    ql.ack(terminal, [ql.executed(signal)])

    (item,) = ql.timeline(strategy)

    assert item["signalId"] == signal["signalId"] and item["status"] == "EXECUTED"
    (step,) = item["deliveries"]
    assert (step["terminalId"], step["status"]) == (terminal.terminal_id, "EXECUTED")
    received, queued, pulled_at, acked = (
        datetime.fromisoformat(step[k]) for k in ("receivedAt", "queuedAt", "pulledAt", "ackedAt")
    )
    assert received <= queued <= pulled_at <= acked
    assert step["executedAt"] == "2026-11-20T01:31:03.456+00:00"
    assert step["latencyMs"] == round((pulled_at - received).total_seconds() * 1000)


@pytest.mark.parametrize(
    ("status", "fields", "recorded"),
    [
        ("failed", {"error": "insufficient cash", "filled": 0}, "FAILED"),
        ("rejected", {"brokerOrderId": None, "filled": None, "avgPrice": None, "executedAt": None}, "REJECTED"),
    ],
)
def test_failed_and_rejected_outcomes_are_recorded(
    ql: QuantLink,
    pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]],
    status: str,
    fields: dict[str, Any],
    recorded: str,
) -> None:
    strategy, terminal, signal = pulled

    reply = ql.ack(terminal, [ql.executed(signal, status=status, **fields)])

    assert reply.body["results"] == [{"signalId": signal["signalId"], "ok": True, "status": recorded}]
    assert delivery(ql, strategy)["status"] == recorded
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_only_signal_id_ack_token_and_status_are_required(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled

    reply = ql.ack(terminal, [{"signalId": signal["signalId"], "ackToken": signal["ackToken"], "status": "rejected"}])

    assert reply.body["results"][0]["ok"] is True
    assert delivery(ql, strategy)["status"] == "REJECTED"


def test_acking_twice_is_harmless_and_keeps_the_first_outcome(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    first = ql.ack(terminal, [ql.executed(signal)])
    after_first = delivery(ql, strategy)

    second = ql.ack(terminal, [ql.executed(signal, status="failed", error="late duplicate", brokerOrderId="999")])

    assert (
        first.body == second.body == {"results": [{"signalId": signal["signalId"], "ok": True, "status": "EXECUTED"}]}
    )
    assert delivery(ql, strategy) == after_first


def test_ten_acks_in_one_request_are_all_recorded(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    for seq in range(10):
        ql.send_signal(strategy, seq=seq)
    signals = ql.pulled(terminal)
    assert len(signals) == 10

    reply = ql.ack(terminal, [ql.executed(s) for s in signals])

    assert [r["signalId"] for r in reply.body["results"]] == [s["signalId"] for s in signals]
    assert all(r["ok"] for r in reply.body["results"])
    assert {d["status"] for d in ql.stack.deliveries(strategy.strategy_id)} == {"EXECUTED"}
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_the_device_header_is_optional_on_ack(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled

    reply = ql.ack(terminal, [ql.executed(signal)], device=None)

    assert reply.body["results"][0]["ok"] is True and delivery(ql, strategy)["status"] == "EXECUTED"


# ---- acks that settle nothing ----------------------------------------------------------------------


def test_an_ack_for_an_unknown_signal_is_not_ok_and_writes_nothing(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal, signalId="sig_00000000000000000000")])

    assert reply.status == 200
    assert reply.body["results"] == [
        {
            "signalId": "sig_00000000000000000000",
            "ok": False,
            "code": "NOT_FOUND",
            "message": "no such signal for this terminal",
        }
    ]
    assert_still_pulled(ql, strategy, terminal, before)


def test_an_ack_for_another_terminals_signal_is_not_ok_and_writes_nothing(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    intruder = ql.register_terminal(owner="bob")
    before = ql.stack.items()

    reply = ql.ack(intruder, [ql.executed(signal)])

    assert reply.status == 200 and reply.body["results"][0]["ok"] is False
    assert_still_pulled(ql, strategy, terminal, before)


@pytest.mark.parametrize("token", ["no-separator", "sig_123:receipt", ":receipt", "stg_abc:"])
def test_a_malformed_ack_token_is_not_ok_and_writes_nothing(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]], token: str
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal, ackToken=token)])

    assert reply.status == 200
    assert reply.body["results"][0] | {"message": ""} == {
        "signalId": signal["signalId"],
        "ok": False,
        "code": "VALIDATION_ERROR",
        "message": "",
    }
    assert_still_pulled(ql, strategy, terminal, before)


# ---- bad requests: 4xx, nothing recorded -------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 11])
def test_an_empty_batch_or_more_than_ten_acks_is_a_validation_error(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]], count: int
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal)] * count)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert [d["field"] for d in reply.body["details"]] == ["acks"]
    assert_still_pulled(ql, strategy, terminal, before)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"signalId": None}, "acks.0.signalId", id="no signalId"),
        pytest.param({"ackToken": None}, "acks.0.ackToken", id="no ackToken"),
        pytest.param({"status": None}, "acks.0.status", id="no status"),
        pytest.param({"status": "done"}, "acks.0.status", id="unknown status"),
        pytest.param({"executedAt": "2026-11-20T09:31:03"}, "acks.0.executedAt", id="time without offset"),
    ],
)
def test_a_missing_or_invalid_ack_field_is_a_validation_error(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]], change: dict[str, Any], field: str
) -> None:
    strategy, terminal, signal = pulled
    ack = {k: v for k, v in {**ql.executed(signal), **change}.items() if v is not None}
    before = ql.stack.items()

    reply = ql.ack(terminal, [ack])

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert field in [d["field"] for d in reply.body["details"]]
    assert_still_pulled(ql, strategy, terminal, before)


@pytest.mark.parametrize("raw", [b'{"acks": [', b"", b'{"acks": {}}', b"\xff\xfe"])
def test_a_body_that_is_not_an_ack_batch_is_a_validation_error(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]], raw: bytes
) -> None:
    strategy, terminal, _ = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, raw)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert_still_pulled(ql, strategy, terminal, before)


def test_an_ack_from_another_device_is_refused_with_409(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal)], device=OTHER_DEVICE)

    assert (reply.status, reply.error_code()) == (409, "DEVICE_TAKEN_OVER")
    assert_still_pulled(ql, strategy, terminal, before)


def test_an_ack_with_a_wrong_token_is_refused_with_401(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal)], token=f"{terminal.terminal_id}.wrong")

    assert (reply.status, reply.error_code()) == (401, "UNAUTHORIZED")
    assert_still_pulled(ql, strategy, terminal, before)


def test_an_ack_body_over_64_kib_is_refused_with_413(
    ql: QuantLink, pulled: tuple[StrategyCreds, TerminalCreds, dict[str, Any]]
) -> None:
    strategy, terminal, signal = pulled
    before = ql.stack.items()

    reply = ql.ack(terminal, [ql.executed(signal, error="x" * (64 * 1024))])

    assert (reply.status, reply.error_code()) == (413, "PAYLOAD_TOO_LARGE")
    assert_still_pulled(ql, strategy, terminal, before)


# ---- holdings reports ----------------------------------------------------------------------------


def report(ql: QuantLink, terminal: TerminalCreds, body: Any, **headers: str | None) -> Any:
    return ql.call(
        "terminal_ack/positions",
        headers={"Authorization": f"Bearer {terminal.token}", **{k.replace("_", "-"): v for k, v in headers.items()}},
        body=body,
    )


def test_a_holdings_report_is_stored_for_the_terminal(ql: QuantLink) -> None:
    terminal = ql.register_terminal()
    holdings = ql.sample_body("terminal_ack/positions")

    reply = report(ql, terminal, holdings)

    assert reply.status == 202 and reply.body["positions"] == 1
    (stored,) = ql.stack.items_under(f"TERMINAL#{terminal.terminal_id}", "POSITIONS#")
    assert stored["positions"] == holdings["positions"]
    assert (stored["cash"], stored["totalAsset"]) == (holdings["cash"], holdings["totalAsset"])
    assert datetime.fromisoformat(stored["asOf"]) == datetime.fromisoformat(holdings["asOf"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"asOf": None}, "asOf", id="no asOf"),
        pytest.param({"asOf": "2026-11-20T15:01:00"}, "asOf", id="asOf without offset"),
        pytest.param(
            {"positions": [{"security": "600000.SH", "volume": -5}]}, "positions.0.volume", id="negative volume"
        ),
        pytest.param({"positions": None}, "positions", id="no positions"),
    ],
)
def test_an_invalid_holdings_report_is_refused_and_nothing_is_stored(
    ql: QuantLink, change: dict[str, Any], field: str
) -> None:
    terminal = ql.register_terminal()
    body = {k: v for k, v in {**ql.sample_body("terminal_ack/positions"), **change}.items() if v is not None}
    before = ql.stack.items()

    reply = report(ql, terminal, body)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert field in [d["field"] for d in reply.body["details"]]
    assert ql.stack.items() == before


def test_a_holdings_report_from_another_device_or_with_a_wrong_token_is_refused(ql: QuantLink) -> None:
    terminal = ql.register_terminal()
    assert ql.pulled(terminal) == []  # binds the sample device
    holdings = ql.sample_body("terminal_ack/positions")
    before = ql.stack.items()

    other_device = report(ql, terminal, holdings, X_Device_Fingerprint=OTHER_DEVICE)
    wrong_token = report(ql, terminal, holdings, Authorization=f"Bearer {terminal.terminal_id}.wrong")

    assert (other_device.status, other_device.error_code()) == (409, "DEVICE_TAKEN_OVER")
    assert (wrong_token.status, wrong_token.error_code()) == (401, "UNAUTHORIZED")
    assert ql.stack.items() == before


def test_an_unknown_route_answers_the_api_404(ql: QuantLink) -> None:
    reply = ql.call("terminal_ack/ack", resource="/api/terminals/nack")

    assert reply.status == 404 and reply.body == {"code": "NOT_FOUND", "message": reply.body["message"]}
