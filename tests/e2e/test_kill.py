"""A process killed outright (SIGKILL) in the middle of a request: while JoinQuant-like senders post
webhooks and real paper terminal agents pull, execute and ack, the local stack is killed at random
moments, once its gateway process alone (the moto server then saves and exits, as an orphan does) and
once the gateway and the moto server together (a machine-level crash: what the last snapshot missed is
gone), a few times each, and restarted on the same data directory and port. The senders retry a webhook
byte-identically until it is answered, as the injected code does; the agents keep their journals.
Asserted from the agents' own records: every signal whose webhook was answered 2xx reached every
subscribed terminal and was executed exactly once there, nothing was executed twice, and every
timeline ends EXECUTED."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from quantlink import faults
from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack, start_stack
from quantlink_terminal.activity import read_activity
from tests.e2e.test_agent_push import wait_for_push
from tests.e2e.test_faults import FaultStack, journal_entries, run_sweep
from tests.e2e.test_persistence import port_of
from tests.e2e.test_terminal_agent import AgentProcess, agents, paper_agent_config, paper_state, signal_body

__all__ = ["agents"]  # the fixture

pytestmark = pytest.mark.e2e

# The kills: "gateway" SIGKILLs the stack's process alone (the gateway and the functions run in it; its
# moto server saves its state and exits when orphaned); "crash" SIGKILLs the moto server and then the
# stack, so nobody saves anything.
KILLS_PER_TEST = 3
# A crash keeps what was answered only because the moto server journals every write before it answers
# (journal.py): with the snapshots alone it took back their last ~1.5 s, and this case caught both
# results (a body executed twice under a second signal id, an answered signal lost).
FLOWING = 2  # answered webhooks per strategy since the last restart before a round's kill is timed
KILL_AFTER = (0.0, 1.5)  # seconds after that, drawn at random
TERMINALS = {  # label: (push, the strategies it subscribes to)
    "poll-a": (False, ("alpha", "beta")),
    "poll-b": (False, ("alpha",)),
    "push-c": (True, ("beta",)),
}
SEND_INTERVAL = 0.15  # between two signals of one strategy
TRY_TIMEOUT = 2.0  # one HTTP try, as the injected code's QUANTLINK_TRY_TIMEOUT_SECONDS
ANSWER_DEADLINE = 90  # a webhook not answered 2xx or 4xx by then is a 5xx that never goes away
SETTLE_SECONDS = 60
STACK_ENV = {"VISIBILITY_TIMEOUT_SECONDS": "5"}  # a message pulled by a killed request is back in 5 s, not 60


@dataclass
class Sender:
    """One strategy's JoinQuant side: each order's body serialized once and re-sent byte for byte on a
    5xx, a 408 / 429 or a broken connection (injection/runtime.py `_quantlink_post`), until a 2xx, or a
    4xx the same bytes would get again. Unlike the injected code it never gives up after 3 tries: the
    guarantee is about signals that were answered, so every signal is driven to an answer."""

    name: str
    strategy: dict[str, Any]
    answered: dict[int, str] = field(default_factory=dict)  # seq -> signalId of its 2xx
    refused: dict[int, int] = field(default_factory=dict)  # seq -> 4xx status
    tries: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # "503 UNAVAILABLE", "ConnectionError", ...

    def post(self, seq: int) -> None:
        body = json.dumps(signal_body(seq, amount=100), separators=(",", ":")).encode()
        headers = {"Authorization": f"Bearer {self.strategy['webhookToken']}", "Content-Type": "application/json"}
        deadline = time.monotonic() + ANSWER_DEADLINE
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            self.tries += 1
            try:
                answer = requests.post(self.strategy["webhookUrl"], data=body, headers=headers, timeout=TRY_TIMEOUT)
            except requests.RequestException as error:  # refused: the stack is down; else cut mid-request
                refused = "refused" in str(error)
                self.failures[f"{type(error).__name__}{' (refused)' if refused else ''}"] += 1
            else:
                if answer.status_code < 300:
                    self.answered[seq] = answer.json()["signalId"]
                    return
                if answer.status_code < 500 and answer.status_code not in (408, 429):
                    self.refused[seq] = answer.status_code
                    return
                self.failures[f"{answer.status_code} {flat_code(answer)}"] += 1
            time.sleep(min(0.2 * attempt, 0.5))
        raise AssertionError(f"{self.name} seq {seq}: no answer but 5xx for {ANSWER_DEADLINE} s: {self.failures}")


def flat_code(answer: requests.Response) -> str:
    """The error body's code; a 5xx without API.md's flat body is recorded as such, and fails the test."""
    try:
        code = answer.json().get("code")
    except ValueError:
        code = None
    return str(code) if code else "NOT-A-FLAT-ERROR-BODY"


def send_until(sender: Sender, stop: threading.Event, errors: list[BaseException]) -> None:
    seq = 0
    try:
        while not stop.is_set():
            seq += 1
            sender.post(seq)
            time.sleep(SEND_INTERVAL)
    except BaseException as error:  # noqa: BLE001 - reported by the test's thread
        errors.append(error)


def wait_for_traffic(senders: dict[str, Sender], answers: int, timeout: float = 60) -> None:
    """Until every strategy has had `answers` more webhooks answered: the stack is serving again."""
    targets = {name: len(sender.answered) + answers for name, sender in senders.items()}
    deadline = time.monotonic() + timeout
    while any(len(senders[name].answered) < target for name, target in targets.items()):
        assert time.monotonic() < deadline, {name: s.failures for name, s in senders.items()}
        time.sleep(0.05)


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_gone(pids: list[int], timeout: float = 30) -> None:
    """Until the orphaned moto server has saved its state and exited (it holds the data directory's lock)."""
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in state_of(pid) for pid in pids):
        assert time.monotonic() < deadline, f"the moto server {pids} outlived its stack by {timeout} s"
        time.sleep(0.1)


def state_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (FileNotFoundError, IndexError):
        return "gone"


def kill(stack: RunningStack, how: str) -> None:
    """SIGKILL, `how` as KILLS_PER_TEST says, and wait until the moto server is gone too."""
    moto = children_of(stack.process.pid)
    if how == "crash":
        stack.crash()
    else:
        stack.kill()
    wait_gone(moto)


def activity(folder: Path) -> list[dict[str, Any]]:
    log = folder / "quantlink-activity.jsonl"
    return list(read_activity(str(log))) if log.exists() else []


def executions_by_order(folder: Path) -> Counter[tuple[str, int]]:
    """Orders the agent sent to its broker, per (strategyId, seq): the webhook body they came from, so a
    signal recorded twice under two ids (a retry after a lost record) shows as two."""
    events = activity(folder)
    origin = {e["signalId"]: (e["strategyId"], e["seq"]) for e in events if e["event"] == "signal_received"}
    return Counter(origin[e["signalId"]] for e in events if e["event"] == "order_sent")


def orders_by_signal(folder: Path) -> Counter[str]:
    return Counter(e["signalId"] for e in activity(folder) if e["event"] == "order_sent")


def expected_by_terminal(senders: dict[str, Sender]) -> dict[str, set[str]]:
    """Per terminal, the answered signals of the strategies it subscribes to."""
    return {
        label: {sid for name in names for sid in senders[name].answered.values()}
        for label, (_, names) in TERMINALS.items()
    }


def unsettled(owner: OwnerClient, senders: dict[str, Sender], folders: dict[str, Path]) -> list[str]:
    """What is not settled yet: an answered signal not EXECUTED in its timeline, or not acked in the
    journal of a terminal subscribed to its strategy."""
    waiting = []
    for sender in senders.values():
        timeline = {item["signalId"]: item for item in owner.signals(sender.strategy["strategyId"])}
        for seq, sid in sender.answered.items():
            item = timeline.get(sid)
            if item is None or item["status"] != "EXECUTED":
                deliveries = item and [(d["terminalId"], d["status"]) for d in item["deliveries"]]
                waiting.append(f"{sender.name} seq {seq} {sid}: {item and item['status']} {deliveries}")
    for label, ids in expected_by_terminal(senders).items():
        journal = journal_entries(folders[label])
        waiting += [f"{label} journal {sid}: {journal.get(sid)}" for sid in ids if journal.get(sid) != "acked"]
    return waiting


@pytest.mark.parametrize("how", ["gateway", "crash"])
def test_sigkill_mid_request_loses_no_answered_signal_and_executes_none_twice(
    how: str, agents: list[AgentProcess], tmp_path: Path
) -> None:
    seed = int(os.environ.get("QUANTLINK_KILL_SEED") or time.time())
    rng = random.Random(seed)
    workdir, data = tmp_path / "stack", tmp_path / "stack" / "data"
    stack = start_stack(workdir, data_dir=data, env=STACK_ENV)
    port = port_of(stack)
    plan = workdir / "faults.json"  # none armed: the by-hand sweep's plan file
    faults.write_plan(plan, {})
    try:
        # Given two strategies, three terminals run by real paper agents (one on push), subscribed across
        owner = stack.new_owner()
        senders = {name: Sender(name, owner.create_strategy(f"kill {name}")) for name in ("alpha", "beta")}
        folders: dict[str, Path] = {}
        for label, (push, names) in TERMINALS.items():
            terminal = owner.create_terminal(label)
            for name in names:
                owner.subscribe(terminal["terminalId"], senders[name].strategy["strategyId"], {"mode": "mirror"})
            folder = folders[label] = tmp_path / label
            folder.mkdir()
            config = paper_agent_config(stack, terminal, folder, push=push)
            if push:  # its safety pull every 5 s, not 5 min: a push lost with a killed gateway is found soon
                config.write_text(config.read_text() + "push_pull_interval = 5\npush_idle_pull_interval = 5\n")
            agents.append(AgentProcess(config, folder / "agent.log"))
        wait_for_push(folders["push-c"], timeout=45)

        # When, while both strategies send and the agents pull, execute and ack, the stack is SIGKILLed
        # at random moments and restarted on its data directory and port each time
        stop, errors = threading.Event(), list[BaseException]()
        threads = [threading.Thread(target=send_until, args=(s, stop, errors), daemon=True) for s in senders.values()]
        for thread in threads:
            thread.start()
        kills: list[float] = []  # seconds after the traffic was flowing again
        for _ in range(KILLS_PER_TEST):
            wait_for_traffic(senders, FLOWING)
            kills.append(round(rng.uniform(*KILL_AFTER), 2))
            time.sleep(kills[-1])
            kill(stack, how)
            stack = start_stack(workdir, data_dir=data, port=port, env=STACK_ENV)
        wait_for_traffic(senders, FLOWING)  # some traffic on the last restart too
        stop.set()
        for thread in threads:
            thread.join(timeout=ANSWER_DEADLINE + 10)
        assert not errors, errors

        # Then it all settles, the sweeper run as its schedule would (by hand here, its clock ahead)
        deadline = time.monotonic() + SETTLE_SECONDS
        sweeps = 0
        while (waiting := unsettled(owner, senders, folders)) and time.monotonic() < deadline:
            time.sleep(3)
            run_sweep(FaultStack(stack, plan, data))
            sweeps += 1
        expected = expected_by_terminal(senders)
        executed = {label: orders_by_signal(folder) for label, folder in folders.items()}
        by_order = {label: executions_by_order(folder) for label, folder in folders.items()}
        missing = sum(len(ids - set(executed[label])) for label, ids in expected.items())
        twice = sum(n - 1 for counts in by_order.values() for n in counts.values() if n > 1)
        failures = sum((s.failures for s in senders.values()), Counter())
        print(
            f"FIGURES kill {how}: seed {seed}, {len(kills)} kills at {kills} s into flowing traffic,"
            f" signals answered {sum(len(s.answered) for s in senders.values())},"
            f" deliveries {sum(len(ids) for ids in expected.values())},"
            f" executions {sum(sum(counts.values()) for counts in executed.values())},"
            f" executed twice {twice}, deliveries lost {missing}, sweeps {sweeps},"
            f" webhook tries {sum(s.tries for s in senders.values())}, failed tries {dict(failures)}"
        )
        assert not waiting, (how, kills, seed, waiting)

        # Every webhook was answered, each 5xx on the way with the flat error body, none refused
        for sender in senders.values():
            assert not sender.refused, (sender.name, sender.refused)
            assert "NOT-A-FLAT-ERROR-BODY" not in " ".join(sender.failures), (sender.name, sender.failures)
            assert sorted(sender.answered) == list(range(1, len(sender.answered) + 1))
            assert len(set(sender.answered.values())) == len(sender.answered)  # one signal per body
        # Per terminal, from the agent's records: every answered signal of its strategies executed once,
        # nothing else executed, no webhook body executed under two signal ids, every one acked
        for label, folder in folders.items():
            assert executed[label] == dict.fromkeys(expected[label], 1), label
            assert set(by_order[label].values()) == {1}, (label, by_order[label])
            assert len(paper_state(folder)["orders"]) == len(expected[label]), label
            journal = journal_entries(folder)
            assert set(journal) == expected[label] and set(journal.values()) == {"acked"}, label
        # Every timeline holds exactly the answered signals, each EXECUTED, one EXECUTED delivery per
        # subscribed terminal
        subscribers = Counter(name for _, names in TERMINALS.values() for name in names)
        for sender in senders.values():
            timeline = {item["signalId"]: item for item in owner.signals(sender.strategy["strategyId"])}
            assert set(timeline) == set(sender.answered.values()), sender.name
            for item in timeline.values():
                assert item["status"] == "EXECUTED", item
                assert len(item["deliveries"]) == subscribers[sender.name], item
                assert {d["status"] for d in item["deliveries"]} == {"EXECUTED"}, item
        for agent in agents:
            assert agent.interrupt() == 0, agent.output()
    finally:
        stack.stop()
