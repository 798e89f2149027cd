"""The webhook answer time of each source on the local stack (request start -> its 202), interleaved so the
machine's drift hits all alike: QuantDinger (signature check, two-pass parse) and TradingView as ratios to
JoinQuant measured in the same run, and TradingView against its 3-second limit. Each strategy has one
subscribed terminal, so every sample is a full dedup + record + fan-out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from common import Figure, percentile

from quantlink_local.client import joinquant_signal, post_quantdinger, quantdinger_signal, tradingview_alert
from quantlink_local.process import RunningStack

TRADINGVIEW_LIMIT_MS = 3000.0


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    owner = stack.new_owner()
    terminal = owner.create_terminal("bench-sources")
    strategies = {
        source: owner.create_strategy(f"bench-{source}", source=source)
        for source in ("joinquant", "quantdinger", "tradingview")
    }
    for strategy in strategies.values():
        owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
    http = requests.Session()
    jq, qd, tv = strategies["joinquant"], strategies["quantdinger"], strategies["tradingview"]

    def joinquant(n: int) -> requests.Response:
        return http.post(
            jq["webhookUrl"], json=joinquant_signal(n, amount=100), timeout=30,
            headers={"Authorization": f"Bearer {jq['webhookToken']}"},
        )  # fmt: skip

    def quantdinger(n: int) -> requests.Response:
        body = quantdinger_signal(n, stake_amount=1052.0)
        return post_quantdinger(qd["webhookUrl"], qd["webhookToken"], qd["signingSecret"], body)

    def tradingview(n: int) -> requests.Response:
        alert = tradingview_alert(tv["webhookToken"], contracts=100, time_text=f"2026-11-20T01:31:{n % 60:02d}.{n}Z")
        return http.post(tv["webhookUrl"], json=alert, timeout=30)

    senders: dict[str, Callable[[int], requests.Response]] = {
        "JoinQuant": joinquant, "QuantDinger": quantdinger, "TradingView": tradingview
    }  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in senders}
    samples = 30 if quick else 150
    for n in range(1, samples + 6):
        for name, send in senders.items():
            start = time.perf_counter()
            answer = send(n)
            elapsed = (time.perf_counter() - start) * 1000
            if answer.status_code != 202:
                raise RuntimeError(f"{name} webhook answered {answer.status_code}: {answer.text}")
            if n > 5:  # the first five warm the execution environment
                times[name].append(elapsed)
    drain(owner, terminal)

    figures: list[Figure] = []
    floor = percentile(times["JoinQuant"], 50)
    figures.append(Figure(f"webhook answer p50, JoinQuant (1 terminal), n={samples}", floor, "ms"))
    for name in ("QuantDinger", "TradingView"):
        value = percentile(times[name], 50)
        figures.append(
            Figure(
                f"webhook answer p50, {name} (1 terminal), n={samples}",
                value,
                "ms",
                ratio=value / floor,
                floor=f"JoinQuant's p50 in the same run, {floor:.1f} ms",
                target=1.2,
            )
        )
    worst = percentile(times["TradingView"], 99)
    figures.append(
        Figure(
            f"webhook answer p99, TradingView, n={samples}",
            worst,
            "ms",
            ratio=worst / TRADINGVIEW_LIMIT_MS,
            floor="TradingView's 3 s limit",
            target=0.1,
        )
    )
    return figures


def drain(owner: Any, terminal: dict[str, Any]) -> None:
    """Ack what the samples queued, so the terminal's queue is left empty."""
    while signals := owner.pull(terminal["authToken"], "bench-sources-device", wait=0):
        owner.ack(
            terminal["authToken"],
            [{"signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed"} for s in signals],
        )
