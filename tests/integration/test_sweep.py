"""The sweeper on moto: a webhook that dies after recording the signal and before its fan-out is
finished by the sweep, and every terminal gets the signal exactly once; unpulled deliveries expire."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from quantlink import faults
from quantlink_local.gateway import LambdaContext
from tests.integration.conftest import QuantLink, load_event


def sweep(ql: QuantLink, at: datetime) -> dict[str, Any]:
    event = {**load_event("sweep/scheduled"), "now": at.isoformat()}
    result: dict[str, Any] = ql.functions["sweep"].handler()(event, LambdaContext(function_name="SweepFunction"))
    return result


def test_a_webhook_dying_before_fan_out_is_redriven_by_the_sweep_exactly_once_per_terminal(ql: QuantLink) -> None:
    strategy, terminals = ql.linked(terminals=3)

    # Given a webhook that crashes right after its transaction (dedup marker, RECEIVED signal and its
    # QUEUED delivery records), before any send
    with faults.armed(faults.AFTER_RECORD):
        crashed = ql.webhook(strategy, ql.signal_body(seq=1))
    assert crashed.status == 500
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "RECEIVED"
    recorded = ql.stack.deliveries(strategy.strategy_id)
    assert sorted((d["terminalId"], d["status"]) for d in recorded) == sorted(
        (t.terminal_id, "QUEUED") for t in terminals
    )
    assert all(ql.stack.queue_depth(t.terminal_id) == 0 for t in terminals)

    # When the sweep runs before the signal counts as stuck, nothing happens; after, it is re-driven
    received = datetime.fromisoformat(signal["receivedAt"])
    assert sweep(ql, received + timedelta(seconds=5))["handled"]["redriveStuckSignals"] == 0
    first = sweep(ql, received + timedelta(minutes=3))
    second = sweep(ql, received + timedelta(minutes=4))  # overlapping / repeated sweeps change nothing

    # Then every terminal has it exactly once, and the signal is FANNED_OUT off the sweeper's list
    assert first["handled"]["redriveStuckSignals"] == 1 and second["handled"]["redriveStuckSignals"] == 0
    (after,) = ql.stack.signals(strategy.strategy_id)
    assert after["status"] == "FANNED_OUT" and "gsi1pk" not in after and after["deliveries"] == len(terminals)
    assert len(ql.stack.deliveries(strategy.strategy_id)) == len(terminals)  # the re-drive wrote none twice
    for terminal in terminals:
        (pulled,) = ql.pulled(terminal)
        assert pulled["signalId"] == signal["signalId"]
        assert ql.pulled(terminal) == []
    # JoinQuant's retry of the same body is a duplicate and sends nothing more
    assert ql.webhook(strategy, ql.signal_body(seq=1)).body["duplicate"] is True
    assert all(ql.stack.queue_depth(t.terminal_id) == 1 for t in terminals)  # the pulled, unacked copy only


def test_a_paused_strategys_stuck_signal_is_not_redriven(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    with faults.armed(faults.AFTER_RECORD):
        assert ql.webhook(strategy, ql.signal_body(seq=2)).status == 500
    assert ql.owner_call("owner_api/update_strategy", "alice", path_params={"strategyId": strategy.strategy_id},
                         body={"paused": True}).status == 200  # fmt: skip
    assert sweep(ql, datetime.now(UTC) + timedelta(minutes=5))["handled"]["redriveStuckSignals"] == 0
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_deliveries_never_pulled_expire_at_their_ttl_and_pulled_ones_do_not(ql: QuantLink) -> None:
    strategy, (idle, busy) = ql.linked(terminals=2)
    sent = ql.send_signal(strategy, seq=3)
    assert len(ql.pulled(busy)) == 1
    (signal,) = ql.stack.signals(strategy.strategy_id)
    expires = datetime.fromisoformat(signal["expiresAt"])

    assert sweep(ql, expires - timedelta(seconds=1))["handled"]["expireUnpulledDeliveries"] == 0
    assert sweep(ql, expires + timedelta(seconds=1))["handled"]["expireUnpulledDeliveries"] == 1
    assert sweep(ql, expires + timedelta(seconds=2))["handled"]["expireUnpulledDeliveries"] == 0

    status = {d["terminalId"]: d["status"] for d in ql.stack.deliveries(strategy.strategy_id, sent["signalId"])}
    assert status == {idle.terminal_id: "EXPIRED", busy.terminal_id: "PULLED"}
    assert ql.pulled(idle) == []  # the queued copy is dropped at pull, never executed


def test_two_sweeps_running_at_once_fan_a_stuck_signal_out_once(ql: QuantLink) -> None:
    strategy, terminals = ql.linked(terminals=2)
    with faults.armed(faults.AFTER_RECORD):
        assert ql.webhook(strategy, ql.signal_body(seq=4)).status == 500
    at = datetime.now(UTC) + timedelta(minutes=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: sweep(ql, at), range(2)))
    assert sorted(r["handled"]["redriveStuckSignals"] for r in results) == [0, 1]  # the lease decides
    assert [ql.stack.queue_depth(t.terminal_id) for t in terminals] == [1, 1]
