"""The README's "by hand" example runs as printed against a running stack."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from quantlink_local.process import RunningStack
from quantlink_local.template import REPO_ROOT


def by_hand_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("By hand (with `make run` going") :]
    start = section.index(".venv/bin/python - <<'PY'\n") + len(".venv/bin/python - <<'PY'\n")
    return section[start : section.index("\nPY\n", start)]


def test_the_readme_by_hand_example_runs_as_printed(local_stack: RunningStack) -> None:
    assert local_stack.log is not None
    result = subprocess.run(
        [sys.executable, "-"], input=by_hand_block(), capture_output=True, text=True, timeout=120,
        env={**os.environ, "QUANTLINK_DATA_DIR": str(local_stack.log.parent / "data")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    webhook, pulled, acked = result.stdout.strip().splitlines()
    assert ast.literal_eval(webhook)["deliveries"] == 1
    assert pulled.split()[:2] == ["buy", "100"]
    assert ast.literal_eval(acked) == [
        {"signalId": ast.literal_eval(webhook)["signalId"], "ok": True, "status": "EXECUTED"}
    ]
