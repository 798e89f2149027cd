"""The local stack runs template.yaml's schedules on a real timer (here with a short test period), and
`quantlink schedule run` runs one by hand against it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from quantlink_local.client import joinquant_signal, post_webhook
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.scheduler import PERIOD_OVERRIDE_VARIABLE


@pytest.fixture(scope="module")
def fast_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    workdir = tmp_path_factory.mktemp("fast-stack")
    # every rate() schedule fires each second
    stack = start_stack(workdir, data_dir=workdir / "data", env={PERIOD_OVERRIDE_VARIABLE: "1"})
    yield stack
    stack.stop()


def test_the_sweep_timer_fires_and_expires_a_delivery_nobody_pulled(fast_stack: RunningStack) -> None:
    owner = fast_stack.new_owner()
    strategy = owner.create_strategy("Short TTL", signalTtlSeconds=5)
    terminal = owner.create_terminal("Asleep")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))
    assert answer.status_code == 202

    # Nobody pulls: only the scheduled sweep can move the delivery to EXPIRED, after the 5 s TTL
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        (signal,) = owner.signals(strategy["strategyId"])
        status = signal["deliveries"][0]["status"]
        if status == "EXPIRED":
            break
        time.sleep(0.5)
    assert status == "EXPIRED"


def test_schedule_run_by_hand_with_a_chosen_clock(
    fast_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = next(p for p in tmp_path_factory.getbasetemp().glob("fast-stack*/data"))
    ran = subprocess.run(
        [sys.executable, "-m", "quantlink.cli", "schedule", "run", "Sweep", "--now", "2026-11-20T15:30:00+08:00",
         "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert set(result["handled"]) >= {"redriveStuckSignals", "expireUnpulledDeliveries"} and result["failed"] == {}

    wrong = subprocess.run(
        [sys.executable, "-m", "quantlink.cli", "schedule", "run", "Nope", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert wrong.returncode == 2 and "Sweep" in wrong.stderr
