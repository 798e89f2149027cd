"""`make demo` against a running stack: one signal through the relay, and on the next run the same
demo strategy and terminal (not one more of each per run)."""

from __future__ import annotations

import re
import subprocess
import sys

from quantlink_local.client import OwnerClient, sign_in
from quantlink_local.process import RunningStack


def run_demo(data_dir: str) -> str:
    result = subprocess.run([sys.executable, "-m", "quantlink_local.demo", "--data-dir", data_dir],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "status EXECUTED" in result.stdout
    return result.stdout


def test_make_demo_reuses_its_strategy_and_terminal(local_stack: RunningStack) -> None:
    assert local_stack.log is not None
    data_dir = str(local_stack.log.parent / "data")
    first, second = run_demo(data_dir), run_demo(data_dir)
    strategy = re.search(r"strategy (stg_\w+)", first)
    assert strategy is not None
    assert f"reusing the demo strategy {strategy.group(1)}" in second
    info = local_stack.info
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, info["demoEmail"], info["demoPassword"]))
    names = [s["name"] for s in owner.request("GET", "/api/strategies").json()["items"]]
    assert names.count("demo: equal-weight rebalancer") == 1
    assert len(owner.signals(strategy.group(1))) == 2  # one signal per run, none lost as a duplicate


def test_make_demo_without_a_stack_says_so(tmp_path: object) -> None:
    result = subprocess.run([sys.executable, "-m", "quantlink_local.demo", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "make run" in result.stdout and "Traceback" not in result.stderr
