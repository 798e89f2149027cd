"""Persistence benchmarks: the restart time of a stack with a realistic data directory, the
crash window (how far a snapshot lags the state), and the cost of the snapshots on the relay's
p50, against the same stack run with --ephemeral, samples alternating between the two."""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path
from typing import Any

import relay
import requests
from common import Figure, percentile

from quantlink_local.client import OwnerClient, joinquant_signal
from quantlink_local.persistence import STATS_PATH
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.template import REPO_ROOT, TEMPLATE_PATH


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


def wait_until_saved(stack: RunningStack) -> None:
    """Until every change is on disk (no snapshot pending or running)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        stats = snapshot_stats(stack)
        if not stats["dirty"] and not stats["busy"]:
            return
        time.sleep(0.1)
    raise RuntimeError("the snapshots did not catch up")


def wait_for_snapshot(stack: RunningStack) -> dict[str, Any]:
    """Until a snapshot has caught up with the last write; its stats."""
    before = snapshot_stats(stack)["snapshots"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        stats = snapshot_stats(stack)
        if stats["snapshots"] > before:
            return stats
    raise RuntimeError("no snapshot was taken")


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
    workdir = copy_of(kept, scratch / "restart")
    port = json.loads((workdir / "data" / "stack.json").read_text(encoding="utf-8"))["apiPort"]
    times, loads = [], []
    stats: dict[str, Any] = {}
    for _ in range(3):
        started = time.monotonic()
        stack = start_stack(workdir, port=port)
        times.append(time.monotonic() - started)
        try:
            assert requests.get(f"{stack.api_base}/api/health", timeout=10).status_code == 200
            stats = snapshot_stats(stack)
            loads.append(stats["loadMs"])
            # the crash window at this size: one webhook's worth of change, until it is on disk
            owner = stack.new_owner()
            strategy = owner.create_strategy("after restart")
            wait_for_snapshot(stack)
            requests.post(strategy["webhookUrl"], json=joinquant_signal(1), timeout=30,
                          headers={"Authorization": f"Bearer {strategy['webhookToken']}"})  # fmt: skip
            stats = wait_for_snapshot(stack)
        finally:
            stack.stop()
    label = f"{size['strategies']} strategies, {size['terminals']} terminals, {size['signals']:,} signals"
    restart = statistics.median(times)
    window = (stats["intervalMs"] + stats["lastDurationMs"]) / 1000
    return [
        Figure(f"restart, spawn → ready ({label}), median of 3", restart, "s", target=None,
               note=f"target < 5 s: {'met' if restart < 5 else '**missed**'}; of which loading the state "
                    f"{statistics.median(loads) / 1000:.2f} s; data directory {stats['bytes'] / 1e6:.1f} MB"),
        Figure(f"crash window ({label}): snapshot interval + one snapshot", window, "s",
               note=f"target ≤ 1 s: {'met' if window <= 1 else '**missed**'}; the snapshot after one webhook "
                    f"took {stats['lastDurationMs']:.0f} ms"),
    ]  # fmt: skip


def relay_cost(kept: Path, scratch: Path, quick: bool) -> list[Figure]:
    """Relay p50 on the realistic directory with persistence vs the same stack with --ephemeral
    (which starts empty: the table size costs the relay nothing measurable, the moto patches see to
    that), in alternating blocks; a block starts when the persisted stack's snapshots are done."""
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
        for _ in range(blocks):
            for name in ("off", "on"):
                if name == "off":
                    wait_until_saved(persisted)
                samples[name] += [benches[name].relay_once(*setups[name]) for _ in range(per_block)]
    finally:
        persisted.stop()
        ephemeral.stop()
    on, off = percentile(samples["on"], 50), percentile(samples["off"], 50)
    n = len(samples["on"])
    return [
        Figure(f"relay p50 with persistence (realistic directory), n={n}", on, "ms", ratio=on / off,
               floor=f"the same relay with --ephemeral, p50 = {off:.1f} ms", target=1.1),
        Figure(f"relay p95 with persistence, n={n}", percentile(samples["on"], 95), "ms",
               ratio=percentile(samples["on"], 95) / percentile(samples["off"], 95),
               floor=f"--ephemeral p95 = {percentile(samples['off'], 95):.1f} ms"),
    ]  # fmt: skip


def run(scratch: Path, quick: bool) -> list[Figure]:
    kept, size = realistic_dir(REPO_ROOT / ".artifacts", quick)
    return restart_figures(kept, scratch, size) + relay_cost(kept, scratch, quick)
