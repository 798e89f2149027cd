"""Persistence benchmarks on a realistic data directory: the restart time; what a SIGKILL of the
moto server in the middle of a webhook burst loses (answered webhooks missing after the restart:
the journal makes it none); the power-loss window (how long an answered write waits for its fsync);
the cost of the journal on the relay's p50, against the same stack run with --ephemeral, samples
alternating between the two; and under a burst, the journal's growth per signal and what each
compaction (the snapshot the journal is folded into) takes and holds the backend lock for."""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import burst
import relay
import requests
from common import BENCH_RATE_LIMIT, Figure, percentile

from quantlink_local.client import OwnerClient, joinquant_signal
from quantlink_local.persistence import COMPACT_EVERY_VARIABLE, STATS_PATH
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.scheduler import PERIOD_OVERRIDE_VARIABLE
from quantlink_local.template import PARAMETER_OVERRIDES, REPO_ROOT, TEMPLATE_PATH

COMPACT_EVERY_IN_BURST = 10  # seconds: a 45 s burst sees a few compactions (60 s otherwise)


def populate(stack: RunningStack, strategies: int, terminals: int, signals: int) -> OwnerClient:
    """`strategies` strategies, `terminals` terminals (each subscribed to one strategy, in turn),
    and `signals` signals sent through the webhook, spread over the strategies and left queued."""
    owner = stack.new_owner()
    made = [owner.create_strategy(f"realistic-{i}") for i in range(strategies)]
    for i in range(terminals):
        terminal = owner.create_terminal(f"pc-{i}")
        owner.subscribe(terminal["terminalId"], made[i % strategies]["strategyId"])

    def send(index: int) -> None:
        session = requests.Session()
        for n in range(index, signals, 8):
            strategy = made[n % strategies]
            answer = session.post(
                strategy["webhookUrl"], json=joinquant_signal(n + 1, amount=100), timeout=60,
                headers={"Authorization": f"Bearer {strategy['webhookToken']}"},
            )  # fmt: skip
            if answer.status_code != 202:
                raise RuntimeError(f"populating: webhook answered {answer.status_code} {answer.text}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(8)))
    return owner


def snapshot_stats(stack: RunningStack) -> dict[str, Any]:
    stats: dict[str, Any] = requests.get(f"{stack.moto_endpoint}{STATS_PATH}", timeout=10).json()
    return stats


def realistic_dir(cache: Path, quick: bool) -> tuple[Path, dict[str, int]]:
    """A data directory of a busy owner, built once per template.yaml and moto version (it takes
    minutes: every signal goes through the real webhook) and kept in .artifacts/; copied per use."""
    size = {"strategies": 50, "terminals": 100, "signals": 1000 if quick else 10_000}
    digest = hashlib.sha256(TEMPLATE_PATH.read_bytes() + version("moto").encode()).hexdigest()[:12]
    kept = cache / f"bench-data-{size['signals']}-{digest}"
    if not (kept / "data" / "aws-state.bin").exists():
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        stack = start_stack(kept)
        try:
            started = time.monotonic()
            populate(stack, size["strategies"], size["terminals"], size["signals"])
            print(f"  built the realistic data directory in {time.monotonic() - started:.0f} s", flush=True)
        finally:
            stack.stop()
    return kept, size


def copy_of(kept: Path, where: Path) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(kept, where)
    return where


def restart_figures(kept: Path, scratch: Path, size: dict[str, int]) -> list[Figure]:
    """Spawn → ready, three times (the first loads the directory as it was built, in whatever format
    that was; each clean stop folds the journal into a snapshot)."""
    workdir = copy_of(kept, scratch / "restart")
    port = json.loads((workdir / "data" / "stack.json").read_text(encoding="utf-8"))["apiPort"]
    times, loads, replays = [], [], []
    stats: dict[str, Any] = {}
    for _ in range(3):
        started = time.monotonic()
        stack = start_stack(workdir, port=port)
        times.append(time.monotonic() - started)
        try:
            assert requests.get(f"{stack.api_base}/api/health", timeout=10).status_code == 200
            stats = snapshot_stats(stack)
            loads.append(stats["loadMs"])
            replays.append(stats["replayMs"])
        finally:
            stack.stop()
    label = f"{size['strategies']} strategies, {size['terminals']} terminals, {size['signals']:,} signals"
    restart = statistics.median(times)
    runs = ", ".join(f"{t:.1f}" for t in times)
    return [
        Figure(f"restart, spawn → ready ({label}), median of 3", restart, "s", target=None,
               note=f"target < 5 s: {'met' if restart < 5 else '**missed**'}; runs {runs} s; "
                    f"of which loading the state {statistics.median(loads) / 1000:.2f} s (replaying the journal "
                    f"{statistics.median(replays):.0f} ms); data directory {stats['bytes'] / 1e6:.1f} MB"),
    ]  # fmt: skip


def kill_figures(kept: Path, scratch: Path, quick: bool) -> list[Figure]:
    """A webhook burst (8 senders, 8 strategies) on the realistic directory, the stack and its moto
    server SIGKILLed in the middle of it; after a restart, every webhook answered 202 before the kill
    must have its signal (the crash window of a process kill, in answered writes lost)."""
    workdir = copy_of(kept, scratch / "kill")
    port = json.loads((workdir / "data" / "stack.json").read_text(encoding="utf-8"))["apiPort"]
    env = {PARAMETER_OVERRIDES: BENCH_RATE_LIMIT}
    stack = start_stack(workdir, port=port, env=env)
    owner = stack.new_owner()
    strategies = [owner.create_strategy(f"kill-{i}") for i in range(8)]
    answered: list[tuple[str, str]] = []  # (strategy id, signal id) of every 202
    killed = threading.Event()
    lock = threading.Lock()  # `answered`, between the senders

    def send(index: int) -> None:
        session = requests.Session()
        strategy = strategies[index]
        seq = 1
        while not killed.is_set():
            try:
                answer = session.post(strategy["webhookUrl"], json=joinquant_signal(seq, amount=100), timeout=30,
                                      headers={"Authorization": f"Bearer {strategy['webhookToken']}"})  # fmt: skip
            except requests.RequestException:
                continue  # the stack was killed under it
            if answer.status_code == 202:
                with lock:
                    answered.append((strategy["strategyId"], answer.json()["signalId"]))
            seq += 1

    senders = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(8)]
    for sender in senders:
        sender.start()
    time.sleep(4 if quick else 10)
    stack.crash()  # while senders wait for answers; no 202 can come after it
    killed.set()
    for sender in senders:
        sender.join(35)
    before_kill = list(answered)
    started = time.monotonic()
    restarted = start_stack(workdir, port=port, env=env)
    restart = time.monotonic() - started
    try:
        replay = snapshot_stats(restarted)
        kept_ids: set[str] = set()
        for strategy in strategies:
            query: dict[str, Any] = {"limit": 200}
            while True:
                page = owner.request("GET", f"/api/strategies/{strategy['strategyId']}/signals", params=query).json()
                kept_ids |= {item["signalId"] for item in page["items"]}
                if not page.get("nextBefore"):
                    break
                query["before"] = page["nextBefore"]
    finally:
        restarted.stop()
    lost = [signal for _, signal in before_kill if signal not in kept_ids]
    return [
        Figure("answered webhooks lost by a SIGKILL of the stack mid-burst (crash window of a process kill)",
               len(lost), "signals",
               note=f"target 0: {'met' if not lost else '**missed**'}; {len(before_kill)} answered 202 before the "
                    "kill, 8 senders, then the restart lists every strategy's signals"),
        Figure("restart after that kill, spawn → ready (the journal since the last snapshot replayed)", restart, "s",
               note=f"replaying {replay['replayedRecords']:,} records took {replay['replayMs']:.0f} ms of a "
                    f"{replay['loadMs'] / 1000:.2f} s load"),
    ]  # fmt: skip


def relay_cost(kept: Path, scratch: Path, quick: bool) -> list[Figure]:
    """Relay p50 on the realistic directory with persistence (every write journaled before it is
    answered) vs the same stack with --ephemeral (which starts empty: the table size costs the relay
    nothing measurable, the moto patches see to that), in alternating blocks."""
    persisted = start_stack(copy_of(kept, scratch / "persisted"), port=0)
    ephemeral = start_stack(scratch / "ephemeral", extra_args=["--ephemeral"])
    try:
        benches = {name: relay.Bench(stack, quick) for name, stack in (("on", persisted), ("off", ephemeral))}
        setups = {}
        for name, bench in benches.items():
            strategy, (terminal,) = bench.strategy_with_terminals(1)
            headers = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "bench-device-1"}
            setups[name] = (strategy, requests.Session(), headers)
            for _ in range(5):  # warm: cold starts
                bench.relay_once(*setups[name])
        samples: dict[str, list[float]] = {"on": [], "off": []}
        blocks, per_block = (4, 5) if quick else (10, 10)
        before = snapshot_stats(persisted)
        for _ in range(blocks):
            for name in ("off", "on"):
                samples[name] += [benches[name].relay_once(*setups[name]) for _ in range(per_block)]
        after = snapshot_stats(persisted)
    finally:
        persisted.stop()
        ephemeral.stop()
    on, off = percentile(samples["on"], 50), percentile(samples["off"], 50)
    n = len(samples["on"])
    per_relay = (after["journaledBytes"] - before["journaledBytes"]) / n
    return [
        Figure(f"relay p50 with persistence (realistic directory), n={n}", on, "ms", ratio=on / off,
               floor=f"the same relay with --ephemeral, p50 = {off:.1f} ms", target=1.1,
               note=f"{after['snapshots'] - before['snapshots']} compactions meanwhile; "
                    f"{per_relay / 1000:.1f} kB journaled per relay"),
        Figure(f"relay p95 with persistence, n={n}", percentile(samples["on"], 95), "ms",
               ratio=percentile(samples["on"], 95) / percentile(samples["off"], 95),
               floor=f"--ephemeral p95 = {percentile(samples['off'], 95):.1f} ms"),
    ]  # fmt: skip


def burst_figures(kept: Path, scratch: Path, size: dict[str, int], quick: bool) -> list[Figure]:
    """An 8-sender webhook burst on the realistic directory, the sweep firing every 15 s (it is every
    3 minutes otherwise) and a compaction every 10 s while dirty (60 s otherwise): the throughput of
    every 10 s window (the watchdog fails the bench if no webhook is answered for 15 s), the journal's
    growth per signal, the fsync lag (the power-loss window), and what each compaction takes."""
    seconds = 20.0 if quick else 45.0
    env = {PERIOD_OVERRIDE_VARIABLE: "15", COMPACT_EVERY_VARIABLE: str(COMPACT_EVERY_IN_BURST)}
    stack = start_stack(copy_of(kept, scratch / "burst"), port=0, env=env)
    durations: list[float] = []
    holds: list[float] = []
    lags: list[float] = []
    done = threading.Event()

    def watch() -> None:
        seen = snapshot_stats(stack)["snapshots"]
        while not done.wait(0.1):
            stats = snapshot_stats(stack)
            lags.append(stats["lastFsyncLagMs"])
            if stats["snapshots"] > seen:
                seen = stats["snapshots"]
                durations.append(stats["lastDurationMs"])
                holds.append(stats["lastLockHoldMs"])

    try:
        strategies = burst.setup(stack, 4, 2)
        before = snapshot_stats(stack)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        result = burst.burst(stack, strategies, senders=8, seconds=seconds, first_seq=20_000_000)
        done.set()
        watcher.join(5)
        after = snapshot_stats(stack)
    finally:
        done.set()
        stack.stop()
    if result.stalled_at is not None:
        raise RuntimeError(f"the realistic burst stalled at {result.stalled_at:.0f} s; dumps: {stack.log}")
    if result.failures or not durations:
        raise RuntimeError(f"the burst: {len(result.failures)} failed webhooks {result.failures[:3]}, "
                           f"{len(durations)} compactions")  # fmt: skip
    windows = result.windows(result.answered[0])
    label = f"{size['signals']:,}-signal directory"
    per_signal = (after["journaledBytes"] - before["journaledBytes"]) / len(result.answered)
    lag = max(lags)
    window = after["fsyncIntervalMs"] + lag
    return [
        Figure(f"8-sender burst on the {label}, {seconds:.0f} s, sweep every 15 s", result.rate, "signals/s",
               note=f"slowest 10 s window {min(windows[:-1] or windows):.1f} signals/s; no stall"),
        Figure("journal growth per signal during that burst (webhook, fan-out to 2 terminals, sweep)",
               per_signal / 1000, "kB",
               note=f"{(after['journaledBytes'] - before['journaledBytes']) / 1e6:.1f} MB for "
                    f"{len(result.answered)} signals"),
        Figure(f"compaction (snapshot) during that burst, every {COMPACT_EVERY_IN_BURST} s, median of "
               f"{len(durations)}", statistics.median(durations), "ms",
               note=f"longest {max(durations):.0f} ms; each held the backend lock (its fork) for a median "
                    f"{statistics.median(holds):.1f} ms, longest {max(holds):.1f} ms"),
        Figure(f"power-loss window during that burst (fsync interval + longest fsync lag, {label})",
               window / 1000, "s",
               note=f"target ≤ 1 s: {'met' if window <= 1000 else '**missed**'}; a process kill loses nothing "
                    f"answered (see above); longest fsync lag {lag:.0f} ms"),
    ]  # fmt: skip


def run(scratch: Path, quick: bool) -> list[Figure]:
    kept, size = realistic_dir(REPO_ROOT / ".artifacts", quick)
    return (
        restart_figures(kept, scratch, size)
        + kill_figures(kept, scratch, quick)
        + relay_cost(kept, scratch, quick)
        + burst_figures(kept, scratch, size, quick)
    )
