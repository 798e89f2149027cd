"""Before / after of the webhook's path: two local stacks at once, this tree's and another tree's (an
earlier commit: `git archive <commit> | tar -x -C DIR`, run on this venv with DIR first on PYTHONPATH),
their samples interleaved A B A B so the drift of a shared machine hits both alike.

    .venv/bin/python tests/bench/webhook_ab.py --base DIR [-n 200] [--aws-latency-ms 5]

Prints, per tree, p50 / p95 of webhook start -> the terminal's waiting long-poll returns it (as relay.py
measures it), p50 / p95 of webhook start -> its 202 (the signal queued for its one terminal and marked
FANNED_OUT), and the p50 webhook time of a fan-out to 100 and to 150 terminals.

On moto every call costs about the same CPU on one shared server, so a round trip saved or overlapped
shows little; `--aws-latency-ms` adds that many milliseconds to every AWS call the stacks' functions
make (a network round trip, as in AWS), which is what the path's shape changes."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from common import BENCH_RATE_LIMIT, percentile
from relay import Bench

from quantlink_local.process import start_stack
from quantlink_local.template import PARAMETER_OVERRIDES

# Loaded by the stacks' processes at start (on PYTHONPATH): every botocore request waits first.
LATENCY_HOOK = """
import os, time
import botocore.endpoint
_delay = float(os.environ.get("QUANTLINK_BENCH_AWS_LATENCY_MS", "0")) / 1000
_send = botocore.endpoint.Endpoint._send
def _slow_send(self, request):
    time.sleep(_delay)
    return _send(self, request)
if _delay:
    botocore.endpoint.Endpoint._send = _slow_send
"""


def timed_post(bench: Bench, strategy: dict[str, Any], terminals: int) -> float:
    start = time.perf_counter()
    answer = bench.post(strategy, bench.next_body())
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 202 or answer.json()["deliveries"] != terminals:
        raise RuntimeError(f"webhook answered {answer.status_code} {answer.text}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="the tree to compare with (its repo root)")
    parser.add_argument("-n", type=int, default=200, help="samples of each latency (after 5 warm-ups)")
    parser.add_argument("--aws-latency-ms", type=float, default=0.0, help="added to every AWS call of the stacks")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="webhook-ab-"))
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(LATENCY_HOOK)
    env = {"QUANTLINK_BENCH_AWS_LATENCY_MS": str(args.aws_latency_ms)}
    base_path = f"{hook}:{args.base.resolve()}/layers/core:{args.base.resolve()}/infra"
    stacks = {
        "after": start_stack(
            tmp / "after",
            extra_args=["--ephemeral"],
            env={**env, "PYTHONPATH": str(hook), PARAMETER_OVERRIDES: BENCH_RATE_LIMIT},
        ),
        "before": start_stack(tmp / "before", extra_args=["--ephemeral"], env={**env, "PYTHONPATH": base_path}),
    }
    try:
        benches = {name: Bench(stack, quick=False) for name, stack in stacks.items()}
        relayed: dict[str, list[float]] = {name: [] for name in benches}
        answered: dict[str, list[float]] = {name: [] for name in benches}
        setups = {}
        for name, bench in benches.items():
            strategy, (terminal,) = bench.strategy_with_terminals(1)
            headers = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "bench-device-1"}
            setups[name] = (strategy, requests.Session(), headers, bench.strategy_with_terminals(1)[0])
        for i in range(args.n + 5):
            for name, bench in benches.items():
                strategy, puller, headers, unpulled = setups[name]
                relay_ms = bench.relay_once(strategy, puller, headers)
                answer_ms = timed_post(bench, unpulled, 1)
                if i >= 5:
                    relayed[name].append(relay_ms)
                    answered[name].append(answer_ms)
        results: dict[str, dict[str, float]] = {
            name: {
                **{f"webhook -> long-poll returns p{q} (ms)": percentile(relayed[name], q) for q in (50, 95)},
                **{f"webhook -> 202 p{q} (ms)": percentile(answered[name], q) for q in (50, 95)},
            }
            for name in benches
        }
        for terminals in (100, 150):
            fanned = {name: bench.strategy_with_terminals(terminals)[0] for name, bench in benches.items()}
            times: dict[str, list[float]] = {name: [] for name in benches}
            for i in range(11):
                for name, bench in benches.items():
                    elapsed = timed_post(bench, fanned[name], terminals)
                    if i:
                        times[name].append(elapsed)
            for name in benches:
                results[name][f"fan-out to {terminals} terminals p50 (ms)"] = percentile(times[name], 50)
        print(json.dumps({name: {k: round(v, 1) for k, v in r.items()} for name, r in results.items()}, indent=1))
    finally:
        for stack in stacks.values():
            stack.stop()


if __name__ == "__main__":
    main()
