"""Push over the real local stack: the WebSocket API served from template.yaml, $connect's device
claim, PostToConnection reaching the socket, acks of pushed signals, 410 for a closed connection."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack

FINGERPRINT = "push-device-0001"


def push_url(stack: RunningStack) -> str:
    config = requests.get(f"{stack.api_base}/api/config", timeout=10).json()
    url: str = config["push"]["url"]
    return url


def open_socket(stack: RunningStack, token: str, fingerprint: str = FINGERPRINT) -> ClientConnection:
    return connect(
        push_url(stack),
        additional_headers={"Authorization": f"Bearer {token}", "X-Device-Fingerprint": fingerprint},
        ping_interval=None,
        open_timeout=10,
    )


def next_frame(socket: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(socket.recv(timeout=timeout))
    return frame


def subscribed_terminal(owner: OwnerClient) -> tuple[dict[str, Any], dict[str, Any]]:
    strategy = owner.create_strategy("pushed")
    terminal = owner.create_terminal("push-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    return strategy, terminal


def test_a_connected_terminal_gets_the_signal_pushed_and_acks_it_with_the_pushed_token(
    local_stack: RunningStack, owner: OwnerClient
) -> None:
    strategy, terminal = subscribed_terminal(owner)
    with open_socket(local_stack, terminal["authToken"]) as socket:
        # When JoinQuant posts an order
        answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))
        assert answer.status_code == 202, answer.text

        # Then it arrives on the socket as a pull item would, and its token settles it
        frame = next_frame(socket)
        assert frame["type"] == "signals"
        (item,) = frame["signals"]
        assert (item["signalId"], item["security"], item["side"]) == (answer.json()["signalId"], "600000.SH", "buy")
        (result,) = owner.ack(terminal["authToken"], [{**_ack(item)}])
        assert result == {"signalId": item["signalId"], "ok": True, "status": "EXECUTED"}

        # the keepalive is answered
        socket.send(json.dumps({"action": "ping"}))
        assert next_frame(socket) == {"type": "ping"}

    # The queued copy is dropped as settled: a pull finds nothing to do
    assert owner.pull(terminal["authToken"], FINGERPRINT, wait=0) == []
    (signal,) = owner.signals(strategy["strategyId"])
    (delivery,) = signal["deliveries"]
    assert delivery["status"] == "EXECUTED"
    assert delivery["pushedAt"] is not None
    # latency counts received -> pushed
    pushed = datetime.fromisoformat(delivery["pushedAt"]) - datetime.fromisoformat(delivery["receivedAt"])
    assert delivery["latencyMs"] == round(pushed.total_seconds() * 1000)


def test_a_signal_sent_while_disconnected_waits_in_the_queue_for_the_pull(
    local_stack: RunningStack, owner: OwnerClient
) -> None:
    strategy, terminal = subscribed_terminal(owner)
    with open_socket(local_stack, terminal["authToken"]):
        pass
    time.sleep(0.3)  # $disconnect runs after the close

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))

    assert answer.status_code == 202, answer.text
    (pulled,) = owner.pull(terminal["authToken"], FINGERPRINT, wait=0)
    assert pulled["signalId"] == answer.json()["signalId"]
    assert pulled["ackToken"].startswith("q1:")


def test_a_second_device_and_a_bad_token_are_refused_at_the_upgrade(
    local_stack: RunningStack, owner: OwnerClient
) -> None:
    _, terminal = subscribed_terminal(owner)
    with open_socket(local_stack, terminal["authToken"]):
        with pytest.raises(InvalidStatus) as taken:
            open_socket(local_stack, terminal["authToken"], fingerprint="another-device-02")
        assert taken.value.response.status_code == 409
        assert json.loads(taken.value.response.body)["code"] == "DEVICE_TAKEN_OVER"
        with pytest.raises(InvalidStatus) as wrong:
            open_socket(local_stack, terminal["authToken"] + "x")
        assert wrong.value.response.status_code == 401


def _ack(item: dict[str, Any]) -> dict[str, Any]:
    return {"signalId": item["signalId"], "ackToken": item["ackToken"], "status": "executed", "filled": item["amount"]}
