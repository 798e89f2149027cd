"""Persistence benchmarks: the restart time of a stack with a realistic data directory, the
crash window (how far a snapshot lags the state), and the cost of the snapshots on the relay's
p50, against the same stack run with --ephemeral, samples alternating between the two."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from common import Figure, percentile

from quantlink_local.client import OwnerClient, joinquant_signal
from quantlink_local.persistence import STATS_PATH
from quantlink_local.process import RunningStack, start_stack


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
