"""The terminal agent as a real subprocess on the local stack: webhook -> agent (paper executor) -> ack ->
timeline; a kill between execution and ack that must not execute the signal twice, even when the signal
comes back with a fresh ack token; and a risk guard's refusal, visible in the owner's timeline and in
`quantlink-terminal status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quantlink.acktokens import AckToken
from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack
from quantlink_terminal.activity import read_activity
from quantlink_terminal.cli import CRASH_AFTER_OUTCOME_ENV, CRASH_EXIT_CODE
from quantlink_terminal.clock import system_clock, to_iso
from quantlink_terminal.journal import Journal

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
                "[polling]",
                "idle_interval = 0",  # long-poll at any hour: the e2e suite runs at night too
                "push = false",  # the long-poll path; tests/e2e/test_agent_push.py takes the push path
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
    journal = Journal(str(folder / "journal.sqlite3"))
    try:
        entry = journal.get(signal_id)
    finally:
        journal.close()
    assert entry is not None, signal_id
    return entry.state


def orders_sent(folder: Path, signal_id: str) -> int:
    """How often the agent asked its executor to place this signal, over every run (the activity log)."""
    events = read_activity(str(folder / "quantlink-activity.jsonl"))
    return sum(1 for e in events if e["event"] == "order_sent" and e["signalId"] == signal_id)


def redeliver_now(stack: RunningStack, terminal_id: str, ack_token: str) -> None:
    """End the in-flight message's visibility timeout at once, as if its 60 s had passed: the next pull
    gets the signal again with a fresh receipt, so a fresh ackToken (quantlink/acktokens.py)."""
    sqs = stack.aws("sqs")
    [queue_url] = [url for url in sqs.list_queues()["QueueUrls"] if url.endswith(f"-{terminal_id}.fifo")]
    parsed = AckToken.parse(ack_token)
    assert parsed is not None, ack_token
    receipt = parsed.receipt
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)


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
    owner: OwnerClient,
    local_stack: RunningStack,
    terminal_setup: dict[str, Any],
    agents: list[AgentProcess],
) -> None:
    strategy, folder = terminal_setup["strategy"], terminal_setup["dir"]
    terminal_id = terminal_setup["terminal"]["terminalId"]

    # Given an agent that dies right after journaling the outcome, before acking
    first = AgentProcess(terminal_setup["config"], folder / "agent-1.log", crash_after_outcome=True)
    agents.append(first)
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(2))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]
    assert first.wait() in (-signal.SIGKILL, CRASH_EXIT_CODE), first.output()

    # Then the order was executed once, the outcome journaled, and the server never heard an ack
    assert paper_state(folder)["positions"]["600000.SH"]["volume"] == 1200
    assert journal_state(folder, signal_id) == "done" and orders_sent(folder, signal_id) == 1
    unacked = delivery_of(owner, strategy["strategyId"], signal_id)
    assert unacked is not None and unacked["status"] != "EXECUTED" and not unacked.get("ackedAt"), unacked

    # And the signal comes back with a fresh ack token, the journaled one no longer usable: the server
    # redelivers it, and the agent holds no token to ack it with before it pulls
    journal = Journal(str(folder / "journal.sqlite3"))
    entry = journal.get(signal_id)
    assert entry is not None and entry.ack_token
    redeliver_now(local_stack, terminal_id, entry.ack_token)
    journal.forget_ack_token(signal_id, to_iso(system_clock()))
    journal.close()

    # When the agent is started again
    second = AgentProcess(terminal_setup["config"], folder / "agent-2.log")
    agents.append(second)
    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED")
    assert second.interrupt() == 0, second.output()

    # Then it took the journal's "already handled" path: acked from the journal under the fresh token,
    # the executor never asked to place it again, the position held once
    assert f"signal {signal_id} was already handled" in second.output()
    assert orders_sent(folder, signal_id) == 1
    redelivered = [
        e for e in read_activity(str(folder / "quantlink-activity.jsonl"))
        if e["event"] == "signal_received" and e["signalId"] == signal_id
    ]  # fmt: skip
    assert [e["redelivery"] for e in redelivered] == [False, True]
    state = paper_state(folder)
    assert state["positions"]["600000.SH"]["volume"] == 1200
    assert len(state["orders"]) == 1
    assert journal_state(folder, signal_id) == "acked"
    for stamp in TIMESTAMPS:
        assert delivery[stamp], (stamp, delivery)
    assert f"acked {signal_id}" not in first.output()
    assert second.output().count(f"acked {signal_id}") == 1


def test_an_order_above_the_followers_limit_is_refused_with_the_reason_in_the_timeline_and_status(
    owner: OwnerClient, terminal_setup: dict[str, Any], agents: list[AgentProcess]
) -> None:
    strategy, folder, config = terminal_setup["strategy"], terminal_setup["dir"], terminal_setup["config"]
    # Given a follower whose own limit is 5,000 CNY per order
    config.write_text(config.read_text(encoding="utf-8") + "[risk]\nmax_order_value = 5000\n", encoding="utf-8")
    agent = AgentProcess(config, folder / "agent.log")
    agents.append(agent)

    # When the leader buys 1200 x 10.52 = 12,624 CNY
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(3))
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signalId"]

    # Then the owner's timeline shows the refusal and why, in both languages
    delivery = wait_for_delivery(owner, strategy["strategyId"], signal_id, "REJECTED")
    assert agent.interrupt() == 0, agent.output()
    assert "max_order_value" in delivery["error"] and "12,624.00" in delivery["error"]
    assert "5,000.00" in delivery["error"] and "超过单笔上限" in delivery["error"]
    assert delivery["ackedAt"] and not delivery["brokerOrderId"]
    assert paper_state(folder)["positions"] == {}
    assert orders_sent(folder, signal_id) == 0

    # And so does `quantlink-terminal status` on the trader's PC
    status = subprocess.run(
        [sys.executable, "-m", "quantlink_terminal", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [line] = [line for line in status.stdout.splitlines() if signal_id in line]
    assert "REJECTED" in line and "max_order_value" in line and "12,624.00" in line and "超过单笔上限" in line
    assert "1 refused" in status.stdout
