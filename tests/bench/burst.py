"""A webhook burst on the local stack, bounded in time, with a stall watchdog.

`senders` threads post JoinQuant signals as fast as they are answered, for `seconds`, to strategies
with subscribed terminals (nobody pulls: the queues grow, as while a terminal is offline). Every
second the watchdog looks at when the last webhook was answered; if none was for `stall_seconds`,
it asks both processes for their threads' stacks (`kill -USR1` to the stack and to its moto server,
`kill -USR2` to moto for the backend lock's holder, all written to the stack's log), stops the
burst and reports the stall. So it can never hang: at worst it ends `stall_seconds` after the stall.

    .venv/bin/python tests/bench/burst.py --seconds 300 [--ephemeral] [--senders 8]

It prints the throughput of every 10 s window; `make bench` runs a short one on the realistic data
directory (persistence.burst_figures), and tests/e2e/test_stack_under_load.py is the stall's own check."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from quantlink_local.client import joinquant_signal
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.scheduler import PERIOD_OVERRIDE_VARIABLE

WINDOW_SECONDS = 10.0


@dataclass
class BurstResult:
    senders: int
    seconds: float
    answered: list[float] = field(default_factory=list)  # perf_counter of each 202, in order
    failures: list[str] = field(default_factory=list)
    stalled_at: float | None = None  # seconds into the burst when the watchdog fired

    @property
    def rate(self) -> float:
        return len(self.answered) / self.seconds if self.seconds else 0.0

    def windows(self, started: float) -> list[float]:
        """signals/s in each WINDOW_SECONDS window of the burst."""
        counts = [0] * max(1, int(self.seconds // WINDOW_SECONDS + (self.seconds % WINDOW_SECONDS > 0)))
        for at in self.answered:
            counts[min(len(counts) - 1, int((at - started) // WINDOW_SECONDS))] += 1
        return [c / WINDOW_SECONDS for c in counts]


def moto_pid(stack: RunningStack) -> int | None:
    children = Path(f"/proc/{stack.process.pid}/task/{stack.process.pid}/children").read_text().split()
    return int(children[0]) if children else None


def dump_threads(stack: RunningStack) -> None:
    """Every thread's stack of both processes, and the backend lock's holder, into the stack's log."""
    moto = moto_pid(stack)
    os.kill(stack.process.pid, signal.SIGUSR1)
    if moto is not None:
        os.kill(moto, signal.SIGUSR1)
        os.kill(moto, signal.SIGUSR2)
    time.sleep(1.0)


def setup(stack: RunningStack, strategies: int, terminals_each: int) -> list[dict[str, Any]]:
    owner = stack.new_owner()
    made = [owner.create_strategy(f"burst-{i}") for i in range(strategies)]
    for i, strategy in enumerate(made):
        for j in range(terminals_each):
            terminal = owner.create_terminal(f"burst-{i}-{j}")
            owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    return made


def burst(
    stack: RunningStack,
    strategies: list[dict[str, Any]],
    *,
    senders: int,
    seconds: float,
    stall_seconds: float = 15.0,
    first_seq: int = 1,
    progress: bool = False,
) -> BurstResult:
    result = BurstResult(senders, seconds)
    stop = threading.Event()
    lock = threading.Lock()
    sequence = iter(range(first_seq, 1 << 40))
    started = time.perf_counter()
    last = [started]

    def send(index: int) -> None:
        session = requests.Session()
        while not stop.is_set():
            with lock:
                seq = next(sequence)
            strategy = strategies[seq % len(strategies)]
            try:
                answer = session.post(
                    strategy["webhookUrl"], data=json.dumps(joinquant_signal(seq, amount=100)).encode(),
                    headers={"Authorization": f"Bearer {strategy['webhookToken']}"}, timeout=stall_seconds + 15,
                )  # fmt: skip
            except requests.RequestException as error:
                with lock:
                    result.failures.append(f"sender {index}: {type(error).__name__}")
                continue
            now = time.perf_counter()
            with lock:
                if answer.status_code == 202:
                    result.answered.append(now)
                    last[0] = now
                else:
                    result.failures.append(f"{answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(senders)]
    for thread in threads:
        thread.start()
    next_report = started + WINDOW_SECONDS
    while True:
        time.sleep(0.5)
        now = time.perf_counter()
        if now - started >= seconds:
            break
        if now - last[0] > stall_seconds:
            result.stalled_at = now - started
            dump_threads(stack)
            break
        if progress and now >= next_report:
            done = sum(1 for at in result.answered if at > next_report - WINDOW_SECONDS)
            print(f"  {now - started:5.0f} s: {done / WINDOW_SECONDS:6.1f} signals/s, "
                  f"{len(result.answered)} in all, {len(result.failures)} failed", flush=True)  # fmt: skip
            next_report += WINDOW_SECONDS
    stop.set()
    for thread in threads:
        thread.join(timeout=stall_seconds + 20)
    result.seconds = min(seconds, time.perf_counter() - started)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--strategies", type=int, default=4)
    parser.add_argument("--terminals", type=int, default=2, help="subscribed terminals per strategy")
    parser.add_argument("--stall-seconds", type=float, default=15)
    parser.add_argument("--ephemeral", action="store_true")
    parser.add_argument("--sweep-every", type=float, help="fire the rate() schedules (the sweep) this often, in s")
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory (kept when it stalls)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="quantlink-burst-"))
    env = {PERIOD_OVERRIDE_VARIABLE: str(args.sweep_every)} if args.sweep_every else None
    stack = start_stack(workdir, extra_args=["--ephemeral"] if args.ephemeral else None, env=env)
    try:
        strategies = setup(stack, args.strategies, args.terminals)
        result = burst(stack, strategies, senders=args.senders, seconds=args.seconds,
                       stall_seconds=args.stall_seconds, progress=True)  # fmt: skip
    finally:
        stack.stop()
    print(f"{len(result.answered)} signals in {result.seconds:.0f} s: {result.rate:.1f} signals/s; "
          f"{len(result.failures)} failed {result.failures[:3]}")  # fmt: skip
    if result.stalled_at is not None:
        print(f"STALLED at {result.stalled_at:.0f} s; thread dumps in {workdir / 'stack.log'}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
