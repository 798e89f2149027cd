"""Fault injection on the local stack (quantlink/faults.py, armed through $QUANTLINK_FAULTS): one crash
point or one failing AWS call per case, with real paper terminal agents on both delivery paths (two
long-polling, one on the push WebSocket) and the sweeper run by hand (`quantlink schedule run Sweep`).
Whatever broke, as the agents' journals and activity logs tell it: every signal reaches every subscribed
terminal exactly once, and every timeline ends EXECUTED with every step stamped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from quantlink import faults
from quantlink.faults import Fault
from quantlink_local.client import OwnerClient, post_webhook
from quantlink_local.process import RunningStack, start_stack
from quantlink_terminal.activity import read_activity
from quantlink_terminal.journal import Journal
from tests.e2e.test_agent_push import wait_for_push
from tests.e2e.test_terminal_agent import AgentProcess, agents, paper_agent_config, paper_state, signal_body

__all__ = ["agents"]  # the fixture, shared with the agent's own e2e tests

pytestmark = pytest.mark.e2e

SIGNALS = 3  # per case, to each of the three terminals
TERMINALS = (("poll-a", False), ("poll-b", False), ("push-c", True))
VISIBILITY_SECONDS = 5  # the test terminals' queues: a message received and never acked comes back in 5 s, not 60
# The sweep's clock: past the stuck threshold (60 s) and the webhook's fan-out lease (15 s), so the
# signals a fault left RECEIVED are due now rather than in a minute.
SWEEP_AHEAD = timedelta(seconds=90)
SETTLE_SECONDS = 120
TIMESTAMPS = ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt")


@dataclass(frozen=True)
class Case:
    plan: dict[str, Fault]
    sender_retries: bool = False  # the strategy re-sends the same body on a 5xx (injected code does)
    # A webhook answers 5xx: surely (a crash point on its path), never, or maybe (a shared AWS call)
    webhook_fails: bool | None = False
    agents_retry: bool = False  # an agent surely met a 5xx (the fault is on its path) and retried


ATTEMPTS = 4  # quantlink.aws: botocore's standard mode, 3 retries; PostToConnection 2 retries
PUSH_ATTEMPTS = 3

CASES = {
    # webhook: after the transaction; the strategy does not retry, the sweeper re-drives
    "webhook-after-record": Case({faults.AFTER_RECORD: Fault(times=1)}, webhook_fails=True),
    # ... the strategy retries: the duplicate re-drives under the lease
    "webhook-after-record-retried": Case(
        {faults.AFTER_RECORD: Fault(times=2)}, sender_retries=True, webhook_fails=True
    ),
    # mid-fan-out: 1 of 3 sends done, the other two die (first signal); the sweeper finishes it
    "fanout-after-1-of-3": Case({faults.FANOUT_SEND: Fault(skip=1, times=2)}, webhook_fails=True),
    # push: posted to the socket, never marked pushed (two signals)
    "push-after-post": Case({faults.PUSH_AFTER_POST: Fault(times=2)}),
    # push: $connect recorded the connection and died before answering the upgrade
    "push-after-connect": Case({faults.PUSH_AFTER_CONNECT: Fault(times=1)}),
    # pull: received from the queue, not written PULLED; then written PULLED, never answered
    "pull-after-receive": Case({faults.PULL_AFTER_RECEIVE: Fault(times=2)}, agents_retry=True),
    "pull-after-mark": Case({faults.PULL_AFTER_MARK: Fault(times=2)}, agents_retry=True),
    # ack: recorded, message not deleted; then deleted, never answered
    "ack-after-record": Case({faults.ACK_AFTER_RECORD: Fault(times=2)}, agents_retry=True),
    "ack-after-delete": Case({faults.ACK_AFTER_DELETE: Fault(times=2)}, agents_retry=True),
    # sweep: two signals left RECEIVED, the re-drive step dies after the first; the next sweep finishes
    "sweep-after-redrive": Case(
        {faults.AFTER_RECORD: Fault(times=2), faults.SWEEP_AFTER_REDRIVE: Fault(times=1)}, webhook_fails=True
    ),
    # AWS: DynamoDB throttles the webhook's transaction once: botocore's retry absorbs it ...
    "ddb-transact-throttled-once": Case(
        {faults.aws_call("dynamodb", "TransactWriteItems"): Fault(times=1, error=faults.THROTTLED)}
    ),
    # ... and on every attempt: the webhook answers 5xx, nothing recorded, the strategy retries
    "ddb-transact-throttled": Case(
        {faults.aws_call("dynamodb", "TransactWriteItems"): Fault(times=ATTEMPTS, error=faults.THROTTLED)},
        sender_retries=True,
        webhook_fails=True,
    ),
    # SQS unavailable from the 2nd SendMessage on, for every attempt of the first signal's other two sends:
    # the fan-out fails after 1 of 3, the sweeper re-drives
    "sqs-send-5xx": Case(
        {faults.aws_call("sqs", "SendMessage"): Fault(skip=1, times=2 * ATTEMPTS)}, webhook_fails=True
    ),
    # SQS throttles the agents' receives, and is unavailable for deletes (acks), past the retries
    "sqs-receive-throttled": Case(
        {faults.aws_call("sqs", "ReceiveMessage"): Fault(times=2 * ATTEMPTS, error=faults.SQS_THROTTLED)}
    ),
    "sqs-delete-5xx": Case({faults.aws_call("sqs", "DeleteMessage"): Fault(times=2 * ATTEMPTS)}),
    # DynamoDB throttles the 3rd UpdateItem on (whichever: a PULLED write, an outcome, a push mark, FANNED_OUT)
    "ddb-update-throttled": Case(
        {faults.aws_call("dynamodb", "UpdateItem"): Fault(skip=2, times=ATTEMPTS, error=faults.THROTTLED)},
        webhook_fails=None,
    ),
    # PostToConnection unavailable for two pushes: their pushed copy is lost, the queued one serves
    "push-post-5xx": Case(
        {faults.aws_call("apigatewaymanagementapi", "PostToConnection"): Fault(times=2 * PUSH_ATTEMPTS)}
    ),
}


@dataclass(frozen=True)
class FaultStack:
    stack: RunningStack
    plan: Path  # $QUANTLINK_FAULTS of the stack and of the by-hand sweeps
    data_dir: Path


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    workdir = tmp_path_factory.mktemp("fault-stack")
    plan = workdir / "faults.json"
    faults.write_plan(plan, {})
    stack = start_stack(workdir, data_dir=workdir / "data", env={faults.ENV: str(plan)})
    # The stack's stdout is a pipe start_stack stops reading at the banner, and every injected crash logs
    # a traceback there: drained, or the stack blocks on a full pipe (64 KiB) and stops answering.
    drain = threading.Thread(target=copy_lines, args=(stack, workdir / "stack.out"), daemon=True)
    drain.start()
    yield FaultStack(stack, plan, workdir / "data")
    stack.stop()
    drain.join(timeout=10)


def copy_lines(stack: RunningStack, path: Path) -> None:
    assert stack.process.stdout is not None
    with path.open("w", encoding="utf-8") as out:
        for line in stack.process.stdout:
            out.write(line)


def shorten_visibility(stack: RunningStack, terminal_id: str) -> None:
    sqs = stack.aws("sqs")
    [queue_url] = [url for url in sqs.list_queues()["QueueUrls"] if url.endswith(f"-{terminal_id}.fifo")]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)})


def send(strategy: dict[str, Any], seq: int, *, retries: bool) -> list[int]:
    """Post one signal; with `retries`, re-send the same body on a 5xx as the injected code does. The
    status codes it got, in order."""
    codes = []
    for _ in range(6):
        answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], signal_body(seq))
        codes.append(answer.status_code)
        assert answer.status_code < 500 or answer.json().get("code"), answer.text  # a flat error body
        if answer.status_code < 500 or not retries:
            break
        time.sleep(0.5)
    return codes


def run_sweep(fault_stack: FaultStack) -> dict[str, Any]:
    """`quantlink schedule run Sweep`, armed with the same plan as the stack."""
    at = (datetime.now(UTC) + SWEEP_AHEAD).isoformat(timespec="seconds")
    command = [sys.executable, "-m", "quantlink.cli", "schedule", "run", "Sweep", "--now", at,
               "--data-dir", str(fault_stack.data_dir)]  # fmt: skip
    env = {**os.environ, faults.ENV: str(fault_stack.plan)}
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert ran.returncode == 0, ran.stderr
    # stdout: the function's warnings (one JSON line each: "re-driving a stuck signal"), then the result
    result: dict[str, Any] = json.loads(ran.stdout[ran.stdout.index('{\n  "handled"') :])
    return result


def journal_entries(folder: Path) -> dict[str, str]:
    journal = Journal(str(folder / "journal.sqlite3"))
    try:
        return {entry.signal_id: entry.state for entry in journal.recent(1000)}
    finally:
        journal.close()


def orders_sent(folder: Path) -> dict[str, int]:
    log = folder / "quantlink-activity.jsonl"
    counts: dict[str, int] = {}
    for event in read_activity(str(log)) if log.exists() else []:
        if event["event"] == "order_sent":
            counts[event["signalId"]] = counts.get(event["signalId"], 0) + 1
    return counts


def settled(timeline: list[dict[str, Any]], folders: list[Path]) -> bool:
    if len(timeline) != SIGNALS or any(item["status"] != "EXECUTED" for item in timeline):
        return False
    ids = {item["signalId"] for item in timeline}
    return all(set(journal_entries(f)) == ids and set(journal_entries(f).values()) == {"acked"} for f in folders)


@pytest.mark.parametrize("name", list(CASES))
def test_every_signal_reaches_every_terminal_once_whatever_fails(
    name: str, fault_stack: FaultStack, agents: list[AgentProcess], tmp_path: Path
) -> None:
    stack, plan = fault_stack.stack, fault_stack.plan
    case = CASES[name]
    owner: OwnerClient = stack.new_owner()
    strategy = owner.create_strategy(f"faults {name}")
    folders = []
    for label, push in TERMINALS:
        terminal = owner.create_terminal(label)
        owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
        shorten_visibility(stack, terminal["terminalId"])
        folder = tmp_path / label
        folder.mkdir()
        config = paper_agent_config(stack, terminal, folder, push=push)
        if push:  # the safety pull that finds a queued copy whose push was lost: every 5 s here, not 5 min
            config.write_text(config.read_text() + "push_pull_interval = 5\npush_idle_pull_interval = 5\n")
        folders.append((folder, config))

    # Given the fault armed, and three agents running (one of them on push)
    faults.write_plan(plan, case.plan)
    fired_before = len(faults.read_fired(plan))
    for folder, config in folders:
        agents.append(AgentProcess(config, folder / "agent.log"))
    wait_for_push(folders[2][0], timeout=45)

    # When the strategy sends its signals
    answers = [send(strategy, seq, retries=case.sender_retries) for seq in range(1, SIGNALS + 1)]
    assert all(codes[-1] < 500 for codes in answers) or not case.sender_retries, answers
    if case.webhook_fails is not None:
        assert any(code >= 500 for codes in answers for code in codes) == case.webhook_fails, answers

    # Then, with the sweeper run as its schedule would (every few seconds here, its clock ahead), it all settles
    paths = [folder for folder, _ in folders]
    deadline = time.monotonic() + SETTLE_SECONDS
    sweeps: list[dict[str, Any]] = []
    while not settled(timeline := owner.signals(strategy["strategyId"]), paths):
        assert time.monotonic() < deadline, (name, answers, sweeps, timeline)
        time.sleep(3)
        sweeps.append(run_sweep(fault_stack))
    faults.write_plan(plan, {})
    fired = faults.read_fired(plan)[fired_before:]
    for point in case.plan:
        assert point in fired, (point, fired)  # the fault did happen
    if faults.SWEEP_AFTER_REDRIVE in case.plan:
        assert any("redriveStuckSignals" in s["failed"] for s in sweeps), sweeps

    # Exactly once per terminal, from the agents' own records
    ids = {item["signalId"] for item in timeline}
    assert len(ids) == SIGNALS
    for folder in paths:
        assert journal_entries(folder) == dict.fromkeys(ids, "acked"), folder.name
        assert orders_sent(folder) == dict.fromkeys(ids, 1), folder.name
        assert len(paper_state(folder)["orders"]) == SIGNALS, folder.name
    # Every timeline ends EXECUTED, each delivery stamped at every step
    for item in timeline:
        assert item["status"] == "EXECUTED" and item["fannedOutAt"], item
        assert len(item["deliveries"]) == len(TERMINALS), item
        for delivery in item["deliveries"]:
            assert delivery["status"] == "EXECUTED", delivery
            for stamp in TIMESTAMPS:
                assert delivery[stamp], (stamp, delivery)
    for agent in agents:
        assert agent.interrupt() == 0, agent.output()
    if case.agents_retry:  # a failed pull backs off and retries; a failed ack is deferred to the next round
        retried = ("retrying in", "ack deferred")
        assert any(word in agent.output() for agent in agents for word in retried), [a.output() for a in agents]
    failures = sum(code >= 500 for codes in answers for code in codes)
    print(
        f"FIGURES {name}: {SIGNALS} signals x {len(TERMINALS)} terminals, faults fired {len(fired)},"
        f" webhook 5xx {failures}, sweeps {len(sweeps)}"
    )
