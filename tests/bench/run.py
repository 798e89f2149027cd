"""`make bench`: start the local stack, run every benchmark, print the figures (each where it can be
as a ratio to a floor measured in the same run) and write them to docs/PERFORMANCE.md.

Exits 1 if a benchmark finds a correctness problem (a lost or duplicated signal) or a stall; a missed
speed target is reported, not hidden, and does not fail the run (use --strict for that). It never
hangs: each phase that waits has its own deadline, and past DEADLINE_SECONDS in all every thread's
stack is printed and the run exits 1."""

from __future__ import annotations

import argparse
import faulthandler
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cost
import load
import persistence
import push
import relay
import sharing
import sources
import spa
from common import BENCH_RATE_LIMIT, Figure

from quantlink_local.process import start_stack
from quantlink_local.template import PARAMETER_OVERRIDES

BENCHES = ("relay", "sharing", "sources", "push", "load", "spa", "persistence", "cost", "injection")
DEADLINE_SECONDS = 3600  # a whole run takes ~15 min on 2 cores (more the first time: the realistic directory)


def table(figures: list[Figure]) -> str:
    lines = ["| figure | value | ratio | floor | target | met | note |", "|---|---:|---:|---|---:|:-:|---|"]
    for f in figures:
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        target = f"≤ {f.target:g}×" if f.target is not None else ""
        met = {True: "yes", False: "**no**", None: ""}[f.met]
        lines.append(f"| {f.name} | {f.value:,.1f} {f.unit} | {ratio} | {f.floor} | {target} | {met} | {f.note} |")
    return "\n".join(lines)


def findings(figures: list[Figure]) -> str:
    """What a reader should take from the figures, computed from them (never a stale sentence)."""
    by_name = {f.name: f for f in figures}
    lines = []
    libraries = by_name.get("cold import: boto3 + pydantic.BaseModel + Powertools (the libraries alone)")
    missed_imports = [f for f in figures if f.name.startswith("cold import: functions/") and f.met is False]
    if libraries is not None and missed_imports:
        lines.append(
            f"- Cold import misses its target: importing boto3, pydantic's BaseModel and Powertools alone takes "
            f"{libraries.ratio:.2f}× `import boto3`, which leaves "
            f"{max(0.0, 1.5 - (libraries.ratio or 0)) * 100:.0f}% of boto3's import time for everything QuantLink "
            "itself loads (models, DAL, relay). Meeting it would mean keeping pydantic out of the hot path's "
            "import (a lazy import merely moves the cost to the first request), which the house style rules out."
        )
    return "\n## Findings\n\n" + "\n".join(lines) + "\n" if lines else ""


KEPT_HEADING = "## Notes kept between runs"


def _kept_notes(path: Path) -> str:
    """What follows KEPT_HEADING in the file (hand-written analyses, dated): a run keeps it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    at = text.find(KEPT_HEADING)
    return "\n\n" + text[at:].rstrip() + "\n" if at >= 0 else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small samples (a smoke run, not for reporting)")
    parser.add_argument("--write", type=Path, help="write the figures to this Markdown file")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument(
        "--only", help=f"comma-separated, of {', '.join(BENCHES)}: run only these (print, never --write)"
    )
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else set(BENCHES)
    if only - set(BENCHES) or (args.only and args.write):
        parser.error(f"--only takes {', '.join(BENCHES)}, and is not written to a file")
    faulthandler.dump_traceback_later(DEADLINE_SECONDS, exit=True)  # fail loudly, with the stacks, never hang

    started = time.time()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Throughput runs send hundreds of signals a second to one strategy: the rate limit is raised out of
        # their way, its count still written in every webhook's transaction (its cost stays measured).
        stack = start_stack(Path(tmp), env={PARAMETER_OVERRIDES: BENCH_RATE_LIMIT})
        try:
            figures += relay.run(stack, args.quick) if "relay" in only else []
            figures += sharing.run(stack, args.quick) if "sharing" in only else []
            figures += sources.run(stack, args.quick) if "sources" in only else []
            figures += push.run(stack, args.quick) if "push" in only else []
            figures += load.run(stack, args.quick) if "load" in only else []
            figures += spa.run(stack, args.quick) if "spa" in only else []
        finally:
            stack.stop()
        figures += (
            persistence.run(Path(tmp), args.quick) if "persistence" in only else []
        )  # its own stacks, one at a time beside the above
    cost_model = cost.run(args.quick) if "cost" in only else ""  # its own stack, in this process, to count every call
    print(cost_model)
    try:
        import injection  # the injection benchmark needs no stack
    except ImportError:
        injection = None
    if injection is not None and "injection" in only:
        figures += injection.run(quick=args.quick)

    report = table(figures)
    print(report)
    if args.write:
        kept = _kept_notes(args.write)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        args.write.write_text(
            "# Performance\n\n"
            "Figures of the last `make bench` run (written by `tests/bench/run.py`; reproduce with `make bench`).\n"
            "Every ratio is against a floor measured in the same run on the same machine, so it travels\n"
            "between machines better than the absolute numbers. Targets are from the issue; a miss is\n"
            "shown as **no**, not hidden.\n\n"
            f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n"
            f"- commit: {commit or 'uncommitted'}; run took {time.time() - started:.0f} s"
            f"{'; QUICK run (small samples)' if args.quick else ''}\n"
            "- relay floor: the relay's critical-path moto calls (GetItem, TransactWriteItems holding the\n"
            "  delivery record and the rate-limit count, SendMessage → the waiting ReceiveMessage returns →\n"
            "  UpdateItem, with the webhook's UpdateItem FANNED_OUT alongside), issued back-to-back by the\n"
            "  bench with boto3 against the same moto server; relay and floor samples alternate.\n"
            "- sources: each source's webhook answer time (request start → its 202, one subscribed terminal),\n"
            "  the three sources interleaved; QuantDinger and TradingView against JoinQuant in the same run.\n"
            "- persistence: a realistic data directory (50 strategies, 100 terminals, 10,000 signals sent\n"
            "  through the webhook and left queued; built once into .artifacts/), restarted 3 times; the relay\n"
            "  p50 on it with persistence vs the same relay with --ephemeral, in alternating blocks of 10; an\n"
            "  8-sender burst on it (4 new strategies × 2 terminals, nobody pulling, the sweep every 15 s,\n"
            "  a watchdog failing the run after 15 s without an answer) with the snapshots' durations meanwhile.\n"
            "- webhook throughput: the same single-terminal strategy, 1 sender then 8 concurrent senders,\n"
            "  each posting as fast as it is answered.\n"
            "- sharing: one webhook to 100 recipients (one terminal each) through direct shares, a bundle and a\n"
            "  group (the same recipients, three strategies), samples interleaved; ratios to the direct shares.\n"
            "- cold import: best of 9 fresh interpreters, handler module vs `import boto3` alone.\n"
            "- SPA: gzip -9 of web/dist; first render = navigation start → the sign-in screen's <h1> in\n"
            "  headless Chromium with an empty cache, against the floor of the same browser loading\n"
            "  /api/health from the same server.\n"
            "- push: webhook sent → the frame lands on a terminal's WebSocket, against webhook sent → the\n"
            "  already waiting long-poll returns, alternating signal by signal in the same run; the\n"
            "  connected terminals' memory is the local stack process's RSS before and after they connect.\n"
            "- load: 50 strategies each followed by all of 20 terminals (10 on push, 10 long-polling, acking\n"
            "  throughout), 10 orders per strategy at random moments of a 60 s window from 8 senders; every\n"
            "  terminal must hold every signal once; latencies against the same relay idle just before.\n\n"
            f"{report}\n{findings(figures)}\n{cost_model}{kept}",
            encoding="utf-8",
        )
    missed = [f for f in figures if f.met is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed: " + "; ".join(f.name for f in missed))
    return 2 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
