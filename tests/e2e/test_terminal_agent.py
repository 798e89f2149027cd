"""The terminal agent as a real subprocess on the local stack: webhook -> agent (paper executor) ->
ack -> timeline, and a kill between execution and ack that must not execute the signal twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack
from quantlink_terminal.cli import CRASH_AFTER_OUTCOME_ENV, CRASH_EXIT_CODE

pytestmark = pytest.mark.e2e

TIMESTAMPS = ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt")


def signal_body(seq: int, amount: int = 1200) -> dict[str, Any]:
    return joinquant_signal(seq, amount=amount, fn="order")


class AgentProcess:
    """`quantlink-terminal run` in its own process, as a trader runs it."""

    def __init__(self, config: Path, log: Path, crash_after_outcome: bool = False) -> None:
        env = {key: value for key, value in os.environ.items() if key != CRASH_AFTER_OUTCOME_ENV}
        if crash_after_outcome:
            env[CRASH_AFTER_OUTCOME_ENV] = "1"
        self.log = log
        self._log_file = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quantlink_terminal", "run", "--config", str(config)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log_file.close()

    def interrupt(self) -> int:
        """Ctrl-C: the agent finishes what it holds, acks, exits 0."""
        self.process.send_signal(signal.SIGINT)
        return self.wait()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")


@pytest.fixture
def terminal_setup(owner: OwnerClient, local_stack: RunningStack, tmp_path: Path) -> dict[str, Any]:
    strategy = owner.create_strategy("agent-e2e")
    terminal = owner.create_terminal("paper-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
    config = tmp_path / "config.toml"
    config.write_text(
        "\n".join(
            [
                f'api_base = "{local_stack.api_base}"',
                f'auth_token = "{terminal["authToken"]}"',
                f'terminal_id = "{terminal["terminalId"]}"',
                'executor = "paper"',
                'journal = "journal.sqlite3"',
                "[paper]",
                'state_file = "paper.json"',
                "initial_cash = 1000000.0",
                "[report]",
                "enabled = false",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return {"strategy": strategy, "terminal": terminal, "config": config, "dir": tmp_path}


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for agent in started:  # never leave an agent behind a failed assertion
        agent.kill()


def delivery_of(owner: OwnerClient, strategy_id: str, signal_id: str) -> dict[str, Any] | None:
    for item in owner.signals(strategy_id):
        if item["signalId"] == signal_id:
            deliveries: list[dict[str, Any]] = item["deliveries"]
            assert len(deliveries) == 1, deliveries
            return deliveries[0]
    return None


def wait_for_delivery(
    owner: OwnerClient, strategy_id: str, signal_id: str, status: str, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        delivery = delivery_of(owner, strategy_id, signal_id)
        if delivery is not None and delivery["status"] == status:
            return delivery
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery of {signal_id} never became {status}: {delivery}")
        time.sleep(0.5)


def paper_state(folder: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((folder / "paper.json").read_text(encoding="utf-8"))
    return state


def journal_state(folder: Path, signal_id: str) -> str:
    with sqlite3.connect(folder / "journal.sqlite3") as db:
        (state,) = db.execute("SELECT state FROM executions WHERE signal_id = ?", (signal_id,)).fetchone()
    return str(state)


def test_agent_executes_a_webhook_signal_and_acks_it(
    owner: OwnerClient, terminal_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder = terminal_setup["strategy"], terminal_setup["dir"]
    agent = AgentProcess(terminal_setup["config"], folder / "agent.log")
    agents.append(agent)

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(1))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]

    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED")
    assert agent.interrupt() == 0, agent.output()

    for stamp in TIMESTAMPS:
        assert delivery[stamp], (stamp, delivery)
    assert delivery["terminalId"] == terminal_setup["terminal"]["terminalId"]
    assert paper_state(folder)["positions"]["600000.SH"]["volume"] == 1200
    assert journal_state(folder, signal_id) == "acked"


def test_agent_killed_between_execution_and_ack_executes_once(
    owner: OwnerClient, terminal_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder = terminal_setup["strategy"], terminal_setup["dir"]

    # Given an agent that dies right after journaling the outcome, before acking
    first = AgentProcess(terminal_setup["config"], folder / "agent-1.log", crash_after_outcome=True)
    agents.append(first)
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(2))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]
    assert first.wait() in (-signal.SIGKILL, CRASH_EXIT_CODE), first.output()

    # Then the order was executed, the outcome journaled, and the server never heard an ack
    assert paper_state(folder)["positions"]["600000.SH"]["volume"] == 1200
    assert journal_state(folder, signal_id) == "done"
    unacked = delivery_of(owner, strategy["strategyId"], signal_id)
    assert unacked is not None and unacked["status"] != "EXECUTED" and not unacked.get("ackedAt"), unacked

    # When the agent is started again
    second = AgentProcess(terminal_setup["config"], folder / "agent-2.log")
    agents.append(second)
    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED")
    assert second.interrupt() == 0, second.output()

    # Then the signal is acked once, from the journal, and the position is held once
    state = paper_state(folder)
    assert state["positions"]["600000.SH"]["volume"] == 1200
    assert len(state["orders"]) == 1
    assert journal_state(folder, signal_id) == "acked"
    for stamp in TIMESTAMPS:
        assert delivery[stamp], (stamp, delivery)
    assert f"acked {signal_id}" not in first.output()
    assert second.output().count(f"acked {signal_id}") == 1
