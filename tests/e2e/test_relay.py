"""The relay over HTTP on the real local stack: webhook → per-terminal FIFO → long-poll pull → ack."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import start_stack


def signal_body(seq: int, security: str = "600000.XSHG", side: str = "buy", amount: int = 1200) -> dict:
    return joinquant_signal(seq, security=security, side=side, amount=amount)


def test_webhook_to_pull_to_ack_records_five_timestamps(owner: OwnerClient) -> None:
    # Given a strategy and a subscribed terminal that is already long-polling
    strategy = owner.create_strategy("rebalance")
    terminal = owner.create_terminal("office-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "ratio"})
    pulled: list[dict] = []
    poller = threading.Thread(
        target=lambda: pulled.extend(owner.pull(terminal["authToken"], "device-abc-123", wait=10))
    )
    poller.start()

    # When JoinQuant posts an order
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(1))
    poller.join(timeout=20)

    # Then the waiting long-poll returns it in exchange form, and the ack completes the timeline
    assert answer.status_code == 202, answer.text
    assert answer.json()["deliveries"] == 1
    assert [s["signalId"] for s in pulled] == [answer.json()["signalId"]]
    signal = pulled[0]
    assert (signal["security"], signal["sourceSecurity"], signal["side"], signal["amount"]) == (
        "600000.SH",
        "600000.XSHG",
        "buy",
        1200,
    )
    assert signal["sizing"]["mode"] == "ratio"
    assert signal["leader"] == {"totalValue": 1000000.0, "positionAfter": 1200}
    results = owner.ack(
        terminal["authToken"],
        [
            {
                "signalId": signal["signalId"],
                "ackToken": signal["ackToken"],
                "status": "executed",
                "brokerOrderId": "B1",
                "filled": 1200,
                "avgPrice": 10.5,
                "executedAt": "2026-11-20T09:31:03.000+08:00",
            }
        ],
    )
    assert results == [{"signalId": signal["signalId"], "ok": True, "status": "EXECUTED"}]

    (timeline,) = owner.signals(strategy["strategyId"])
    (delivery,) = timeline["deliveries"]
    assert timeline["status"] == "EXECUTED"  # the signal's own status follows its one delivery
    assert delivery["status"] == "EXECUTED"
    for stamp in ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt"):
        assert delivery[stamp], stamp
    assert delivery["latencyMs"] >= 0
    assert delivery["brokerOrderId"] == "B1"
    # nothing left to pull: the ack deleted the message
    assert owner.pull(terminal["authToken"], "device-abc-123", wait=0) == []


def test_fifty_identical_webhooks_make_one_signal_and_one_delivery_per_terminal(owner: OwnerClient) -> None:
    strategy = owner.create_strategy("burst")
    terminals = [owner.create_terminal(f"pc-{i}") for i in range(3)]
    for terminal in terminals:
        owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    body = json.dumps(signal_body(7)).encode()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(
            pool.map(lambda _: post_webhook(strategy["webhookUrl"], strategy["webhookToken"], body), range(50))
        )

    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(202) == 1 and statuses.count(200) == 49, statuses
    assert len({a.json()["signalId"] for a in answers}) == 1
    (timeline,) = owner.signals(strategy["strategyId"])
    assert len(timeline["deliveries"]) == 3
    for terminal in terminals:
        got = owner.pull(terminal["authToken"], f"device-{terminal['terminalId']}", wait=1)
        assert len(got) == 1
        # and nothing else is waiting behind it
        owner.ack(
            terminal["authToken"],
            [{"signalId": got[0]["signalId"], "ackToken": got[0]["ackToken"], "status": "executed"}],
        )
        assert owner.pull(terminal["authToken"], f"device-{terminal['terminalId']}", wait=0) == []


def test_two_devices_racing_for_one_terminal_exactly_one_wins(owner: OwnerClient) -> None:
    terminal = owner.create_terminal("contested")
    barrier = threading.Barrier(8)

    def claim(index: int) -> int:
        barrier.wait()
        response = requests.get(
            f"{owner.api_base}/api/terminals/pull",
            params={"wait": 0},
            headers={
                "Authorization": f"Bearer {terminal['authToken']}",
                "X-Device-Fingerprint": f"device-number-{index}",
            },
            timeout=30,
        )
        return response.status_code if response.status_code == 200 else response.json()["code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(claim, range(8)))

    assert outcomes.count(200) == 1, outcomes
    assert outcomes.count("DEVICE_TAKEN_OVER") == 7, outcomes


def test_signals_reach_terminals_in_webhook_order(owner: OwnerClient) -> None:
    strategy = owner.create_strategy("ordered")
    terminal = owner.create_terminal("pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    for seq in range(1, 8):
        assert post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(seq)).status_code == 202
    got = owner.pull(terminal["authToken"], "device-order-1", wait=1)
    assert [s["seq"] for s in got] == list(range(1, 8))


def test_many_long_polls_are_served_at_once(owner: OwnerClient) -> None:
    # Given 12 terminals all long-polling (more than any fixed worker pool of the emulator would hold)
    strategy = owner.create_strategy("fan")
    terminals = [owner.create_terminal(f"pc-{i}") for i in range(12)]
    for terminal in terminals:
        owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    with ThreadPoolExecutor(max_workers=12) as pool:
        polls = [pool.submit(owner.pull, t["authToken"], f"dev-{t['terminalId']}", 15) for t in terminals]
        # When one signal arrives while they all wait
        answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(1))
        results = [p.result(timeout=30) for p in polls]
    # Then every long-poll returns it
    assert answer.json()["deliveries"] == 12
    assert all(len(r) == 1 and r[0]["signalId"] == answer.json()["signalId"] for r in results)


def test_stack_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    assert requests.get(f"{stack.api_base}/api/health", timeout=10).status_code == 200
    assert stack.stop() == 0
    # the moto server went with it
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.moto_endpoint}/moto-api/", timeout=2)
