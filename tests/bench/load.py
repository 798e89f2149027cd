"""Load ([11/11] item 4): a trading morning's webhooks compressed into a minute on the local stack.

50 strategies, each followed by all of 20 terminals (1,000 subscriptions); half the terminals hold the push
WebSocket, half long-poll, all acking what they get, throughout. Each strategy sends its morning's orders
at random moments of the window, from 8 concurrent senders. Then every terminal must hold every signal
exactly once: a lost or duplicated delivery fails the bench. Latency (webhook sent -> the terminal has
it) is reported against the same relay measured idle just before the burst, in the same run, with the
local stack's memory (gateway and moto processes) over the run."""

from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from common import Figure, percentile
from push import PushBench, headers, push_url, rss_kib
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from quantlink_local.process import RunningStack

SENDERS = 8
DRAIN_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Shape:
    strategies: int
    terminals: int
    orders_per_strategy: int
    window_s: float


FULL = Shape(strategies=50, terminals=20, orders_per_strategy=10, window_s=60.0)
QUICK = Shape(strategies=10, terminals=4, orders_per_strategy=3, window_s=10.0)


@dataclass
class Received:
    """What one terminal got: every signal id with the moment it arrived (duplicates kept)."""

    signals: list[tuple[str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, items: list[dict[str, Any]]) -> None:
        at = time.perf_counter()
        with self.lock:
            self.signals += [(s["signalId"], at) for s in items]

    def ids(self) -> set[str]:
        with self.lock:
            return {signal_id for signal_id, _ in self.signals}


def stack_rss_kib(stack: RunningStack) -> int:
    """The gateway process and its children (the moto server)."""
    pid = stack.process.pid
    total = rss_kib(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        try:
            total += rss_kib(int(child))
        except (OSError, RuntimeError):
            continue
    return total


class LoadBench(PushBench):
    def __init__(self, stack: RunningStack, quick: bool) -> None:
        super().__init__(stack, quick)
        self.shape = QUICK if quick else FULL
        self.stop = threading.Event()
        self.errors: list[str] = []

    def setup(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        shape = self.shape
        with ThreadPoolExecutor(max_workers=8) as pool:
            strategies = list(pool.map(lambda i: self.owner.create_strategy(f"load-{i:02d}"), range(shape.strategies)))
            terminals = list(pool.map(lambda i: self.owner.create_terminal(f"load-t{i:02d}"), range(shape.terminals)))
            pairs = [(t, s) for t in terminals for s in strategies]
            list(pool.map(lambda p: self.owner.subscribe(p[0]["terminalId"], p[1]["strategyId"]), pairs))
        return strategies, terminals

    # ---- the terminals --------------------------------------------------------------------------------

    def long_poll(self, terminal: dict[str, Any], got: Received) -> None:
        session = requests.Session()
        device = f"load-poll-{terminal['terminalId']}"
        url = f"{self.stack.api_base}/api/terminals/pull"
        while not self.stop.is_set():
            try:
                answer = session.get(url, params={"wait": 5}, headers=headers(terminal, device), timeout=60)
                if answer.status_code != 200:
                    self.errors.append(f"pull {answer.status_code} {answer.text[:200]}")
                    time.sleep(0.5)
                    continue
                items = answer.json()["signals"]
                if items:
                    got.add(items)
                    self.ack(terminal, device, items)
            except (requests.RequestException, AssertionError) as error:
                self.errors.append(f"pull: {error!r}")
                time.sleep(0.5)

    def pushed(self, terminal: dict[str, Any], got: Received, ready: threading.Barrier) -> None:
        device = f"load-push-{terminal['terminalId']}"
        # Frames are read as they land and acked from another thread, in batches, as the agent's executor
        # does: an ack waiting for its answer must not hold the next frame up (it would time the bench).
        to_ack: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()

        def acker() -> None:
            while (items := to_ack.get()) is not None:
                while not to_ack.empty() and len(items) < 50:
                    more = to_ack.get()
                    if more is None:
                        to_ack.put(None)
                        break
                    items = items + more
                try:
                    self.ack(terminal, device, items)
                except (requests.RequestException, AssertionError) as error:
                    self.errors.append(f"push ack: {error!r}")

        acking = threading.Thread(target=acker)
        acking.start()
        with connect(push_url(self.stack), additional_headers=headers(terminal, device), ping_interval=None,
                     compression=None, open_timeout=60) as socket:  # fmt: skip
            ready.wait(timeout=120)
            while not self.stop.is_set():
                try:
                    frame = json.loads(socket.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except ConnectionClosed as error:
                    self.errors.append(f"push socket closed: {error!r}")
                    break
                items = frame.get("signals") or []
                if items:
                    got.add(items)
                    to_ack.put(items)
        to_ack.put(None)
        acking.join(timeout=90)
        # As the agent does on every (re)connect and as a safety net: a catch-up pull. Everything was
        # pushed and acked, so it must bring nothing (a signal here would be a second delivery).
        answer = requests.get(f"{self.stack.api_base}/api/terminals/pull", params={"wait": 0},
                              headers=headers(terminal, device), timeout=60)  # fmt: skip
        late = answer.json()["signals"]
        if late:
            got.add(late)
            self.ack(terminal, device, late)

    # ---- the morning ----------------------------------------------------------------------------------

    def idle_latency(self, strategy: dict[str, Any], terminals: list[dict[str, Any]], got: dict[str, Received],
                     samples: int) -> list[float]:  # fmt: skip
        """The same relay before the burst: one signal at a time, until every terminal has it."""
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            signal_id = self.post(strategy)
            deadline = started + 30
            while time.perf_counter() < deadline:
                arrived = [at for t in terminals for sid, at in list(got[t["terminalId"]].signals) if sid == signal_id]
                if len(arrived) >= len(terminals):
                    times += [(at - started) * 1000 for at in arrived]
                    break
                time.sleep(0.005)
        return times

    def run(self) -> dict[str, Any]:
        shape = self.shape
        strategies, terminals = self.setup()
        got = {t["terminalId"]: Received() for t in terminals}
        pushing = terminals[: len(terminals) // 2]
        polling = terminals[len(terminals) // 2 :]
        ready = threading.Barrier(len(pushing) + 1)
        threads = [threading.Thread(target=self.pushed, args=(t, got[t["terminalId"]], ready)) for t in pushing]
        threads += [threading.Thread(target=self.long_poll, args=(t, got[t["terminalId"]])) for t in polling]
        for thread in threads:
            thread.start()
        ready.wait(timeout=120)
        rss: list[int] = [stack_rss_kib(self.stack)]

        def sample_memory() -> None:
            while not self.stop.is_set():
                rss.append(stack_rss_kib(self.stack))
                time.sleep(1.0)

        sampler = threading.Thread(target=sample_memory, daemon=True)
        sampler.start()
        baseline = self.idle_latency(strategies[0], terminals, got, 5 if self.quick else 20)

        rng = random.Random(20261203)
        plan = sorted(
            (rng.uniform(0, shape.window_s), strategy)
            for strategy in strategies
            for _ in range(shape.orders_per_strategy)
        )  # fmt: skip
        sent: dict[str, float] = {}
        answered: list[float] = []
        lock = threading.Lock()
        burst_started = time.perf_counter()

        def send(item: tuple[float, dict[str, Any]]) -> None:
            offset, strategy = item
            delay = burst_started + offset - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            started = time.perf_counter()
            signal_id = self.post(strategy, timeout=120)
            with lock:
                sent[signal_id] = started
                answered.append((time.perf_counter() - started) * 1000)

        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            list(pool.map(send, plan))
        burst_s = time.perf_counter() - burst_started

        wanted = set(sent)
        deadline = time.perf_counter() + DRAIN_TIMEOUT_S
        while time.perf_counter() < deadline and any(not wanted <= got[t].ids() for t in got):
            time.sleep(0.2)
        drained_s = time.perf_counter() - burst_started
        self.stop.set()
        for thread in threads:
            thread.join(timeout=90)
        sampler.join(timeout=5)

        lost = duplicates = 0
        latencies: dict[str, list[float]] = defaultdict(list)
        for terminal in terminals:
            terminal_id = terminal["terminalId"]
            mode = "push" if terminal in pushing else "long-poll"
            seen: dict[str, float] = {}
            for signal_id, at in got[terminal_id].signals:
                if signal_id not in wanted:
                    continue  # the idle-latency signals
                if signal_id in seen:
                    duplicates += 1
                    continue
                seen[signal_id] = at
                latencies[mode].append((at - sent[signal_id]) * 1000)
            lost += len(wanted - set(seen))
        return {
            "signals": len(wanted), "deliveries": len(wanted) * len(terminals), "lost": lost,
            "duplicates": duplicates, "burst_s": burst_s, "drained_s": drained_s, "latencies": latencies,
            "baseline": baseline, "answered": answered, "rss_start_mib": rss[0] / 1024,
            "rss_peak_mib": max(rss) / 1024, "rss_end_mib": rss[-1] / 1024, "errors": self.errors,
        }  # fmt: skip


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    bench = LoadBench(stack, quick)
    shape = bench.shape
    result = bench.run()
    label = f"load {shape.strategies}×{shape.terminals}"
    floor = percentile(result["baseline"], 50)
    figures = [
        Figure(
            f"{label}: signals in a {shape.window_s:g} s morning, {SENDERS} senders",
            result["signals"],
            "signals",
            note=f"{result['deliveries']:,} deliveries; sent in {result['burst_s']:.1f} s, all delivered after "
            f"{result['drained_s']:.1f} s; lost {result['lost']}, duplicated {result['duplicates']}",
        ),
        Figure(
            f"{label}: webhook answer p50 / p95",
            percentile(result["answered"], 50),
            "ms",
            note=f"p95 {percentile(result['answered'], 95):,.0f} ms (each a fan-out to {shape.terminals} terminals)",
        ),
    ]
    for mode in ("push", "long-poll"):
        times = result["latencies"][mode]
        for pct in (50, 95, 99):
            value = percentile(times, pct)
            figures.append(
                Figure(
                    f"{label}: webhook → terminal has it, {mode} p{pct}",
                    value,
                    "ms",
                    ratio=value / floor,
                    floor=f"the same relay idle before the burst, p50 = {floor:,.0f} ms",
                    note=f"{len(times):,} deliveries" if pct == 50 else "",
                )
            )
    figures.append(
        Figure(
            f"{label}: local stack memory, peak",
            result["rss_peak_mib"],
            "MiB",
            note=f"gateway + moto RSS: {result['rss_start_mib']:,.0f} MiB at the start, "
            f"{result['rss_end_mib']:,.0f} MiB at the end",
        )
    )
    if result["errors"]:
        print(f"load: {len(result['errors'])} terminal-side errors, first: {result['errors'][:3]}")
    assert result["lost"] == 0, f"load: {result['lost']} deliveries lost"
    assert result["duplicates"] == 0, f"load: {result['duplicates']} deliveries duplicated"
    return figures


if __name__ == "__main__":
    import sys
    import tempfile

    from quantlink_local.process import start_stack

    with tempfile.TemporaryDirectory() as tmp:
        running = start_stack(Path(tmp))
        try:
            from run import table

            print(table(run(running, "--quick" in sys.argv)))
        finally:
            running.stop()
