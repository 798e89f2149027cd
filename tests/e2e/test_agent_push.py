"""The terminal agent on the push path, as a real subprocess on the local stack: a connected agent gets
a pushed signal and executes it once; a signal sent while it was stopped is pulled when it connects
again; connections dropped while signals are in flight lose nothing and execute nothing twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from quantlink_local.client import OwnerClient, post_webhook
from quantlink_local.process import RunningStack
from quantlink_terminal.activity import read_activity
from tests.e2e.test_terminal_agent import (
    AgentProcess,
    journal_state,
    orders_sent,
    paper_state,
    signal_body,
    wait_for_delivery,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for agent in started:  # never leave an agent behind a failed assertion
        agent.kill()


@pytest.fixture
def push_setup(owner: OwnerClient, local_stack: RunningStack, tmp_path: Path) -> dict[str, Any]:
    strategy = owner.create_strategy("push-agent")
    terminal = owner.create_terminal("push-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
    config = tmp_path / "config.toml"
    config.write_text(
        f'api_base = "{local_stack.api_base}"\nauth_token = "{terminal["authToken"]}"\n'
        f'terminal_id = "{terminal["terminalId"]}"\nexecutor = "paper"\njournal = "journal.sqlite3"\n'
        '[paper]\nstate_file = "paper.json"\ninitial_cash = 1000000.0\n[report]\nenabled = false\n'
        "[polling]\nidle_interval = 0\npush = true\n",
        encoding="utf-8",
    )
    return {"strategy": strategy, "terminal": terminal, "config": config, "dir": tmp_path}


def wait_for_push(folder: Path, connects: int = 1, timeout: float = 30) -> None:
    """Until the agent's activity log says it took delivery over push (`connects` times)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = folder / "quantlink-activity.jsonl"
        events = read_activity(str(log)) if log.exists() else []
        if sum(1 for e in events if e["event"] == "delivery" and e.get("mode") == "push") >= connects:
            return
        time.sleep(0.2)
    raise AssertionError("the agent never connected its push WebSocket")


def push_connection(stack: RunningStack, terminal_id: str) -> str | None:
    item = stack.aws("dynamodb").get_item(
        TableName="quantlink-local-main", Key={"pk": {"S": f"TERMINAL#{terminal_id}"}, "sk": {"S": "#META"}}
    )["Item"]
    connection = item.get("pushConnectionId", {}).get("S")
    return str(connection) if connection else None


def test_a_connected_agent_executes_a_pushed_signal_once(
    owner: OwnerClient, push_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder = push_setup["strategy"], push_setup["dir"]
    agent = AgentProcess(push_setup["config"], folder / "agent.log")
    agents.append(agent)
    wait_for_push(folder)

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(1))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]

    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED", timeout=30)
    assert agent.interrupt() == 0, agent.output()
    assert delivery["pushedAt"], delivery  # it came over the socket
    assert orders_sent(folder, signal_id) == 1
    assert paper_state(folder)["positions"]["600000.SH"]["volume"] == 1200
    assert journal_state(folder, signal_id) == "acked"


def test_a_signal_sent_while_the_agent_was_stopped_is_pulled_when_it_connects_again(
    owner: OwnerClient, local_stack: RunningStack, push_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder = push_setup["strategy"], push_setup["dir"]
    first = AgentProcess(push_setup["config"], folder / "agent-1.log")
    agents.append(first)
    wait_for_push(folder)
    assert first.interrupt() == 0, first.output()
    deadline = time.monotonic() + 10
    while push_connection(local_stack, push_setup["terminal"]["terminalId"]) and time.monotonic() < deadline:
        time.sleep(0.1)  # $disconnect forgot the connection

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(2))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]
    second = AgentProcess(push_setup["config"], folder / "agent-2.log")
    agents.append(second)

    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED", timeout=30)
    assert second.interrupt() == 0, second.output()
    assert delivery["pushedAt"] is None and delivery["pulledAt"], delivery  # the catch-up pull had it
    assert orders_sent(folder, signal_id) == 1


def test_connections_dropped_while_signals_are_in_flight_lose_nothing_and_execute_nothing_twice(
    owner: OwnerClient, local_stack: RunningStack, push_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder = push_setup["strategy"], push_setup["dir"]
    terminal_id = push_setup["terminal"]["terminalId"]
    management = local_stack.info["pushManagementUrl"]
    agent = AgentProcess(push_setup["config"], folder / "agent.log")
    agents.append(agent)
    wait_for_push(folder)

    # While signals arrive, the server keeps dropping the agent's socket (as API Gateway may)
    stop = threading.Event()
    drops: list[int] = []

    def drop_connections() -> None:
        while not stop.is_set():
            connection = push_connection(local_stack, terminal_id)
            if connection:
                answer = requests.delete(f"{management}/@connections/{quote(connection, safe='')}", timeout=5)
                drops.append(answer.status_code)
            stop.wait(0.15)

    dropper = threading.Thread(target=drop_connections)
    dropper.start()
    signal_ids = []
    try:
        for seq in range(10, 16):
            answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(seq, amount=100))
            assert answer.status_code == 202, answer.text
            signal_ids.append(answer.json()["signalId"])
            time.sleep(0.1)
    finally:
        stop.set()
        dropper.join()

    # Then every signal is executed, each exactly once
    for signal_id in signal_ids:
        wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED", timeout=60)
    assert agent.interrupt() == 0, agent.output()
    assert 204 in drops  # connections really were dropped
    assert [orders_sent(folder, s) for s in signal_ids] == [1] * len(signal_ids)
    assert paper_state(folder)["positions"]["600000.SH"]["volume"] == 100 * len(signal_ids)
    assert len(paper_state(folder)["orders"]) == len(signal_ids)
