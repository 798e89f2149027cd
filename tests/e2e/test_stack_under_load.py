"""The local stack under a webhook burst keeps answering (the stall of QuantLink issue 4/11).

The stall: the stack's functions print their JSON logs and metrics to stdout, which `start_stack`
read only until "ready". Once the unread pipe held 64 KiB, the next print blocked, under stdout's
lock, and every request that logged after it hung: at the default log level when ~5,000 signals'
metrics had been printed (minutes into an 8-sender burst), at INFO after ~130 webhooks to a paused
strategy (each logs that it held its signal). This burst, at INFO, half of it to a paused strategy,
crosses that point within seconds; every webhook must still be answered, each within 15 s."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from quantlink_local.client import joinquant_signal
from quantlink_local.process import start_stack
from quantlink_local.template import PARAMETER_OVERRIDES

SENDERS = 8
PER_SENDER = 40
PIPE_BYTES = 64 * 1024


def test_an_8_sender_burst_that_logs_is_answered_to_the_last_webhook(tmp_path: Path) -> None:
    # Given a stack logging at INFO, a strategy with two terminals and a paused one (its webhooks log)
    # (the webhook rate limit off: 160 signals to one strategy in seconds is what it refuses)
    stack = start_stack(
        tmp_path, extra_args=["--ephemeral", "--log-level", "INFO"], env={PARAMETER_OVERRIDES: "WebhookRateLimit=0"}
    )
    try:
        owner = stack.new_owner()
        live, held = owner.create_strategy("burst"), owner.create_strategy("burst, paused")
        for name in ("a", "b"):
            owner.subscribe(owner.create_terminal(name)["terminalId"], live["strategyId"])
        assert owner.request("PATCH", f"/api/strategies/{held['strategyId']}", {"paused": True}).status_code == 200
        logged_before = stack.log.stat().st_size if stack.log else 0

        def send(sender: int) -> list[int]:
            session = requests.Session()
            statuses = []
            for n in range(PER_SENDER):
                strategy = (live, held)[n % 2]
                answer = session.post(
                    strategy["webhookUrl"], data=json.dumps(joinquant_signal(sender * 1000 + n + 1)).encode(),
                    headers={"Authorization": f"Bearer {strategy['webhookToken']}"}, timeout=15,
                )  # fmt: skip
                statuses.append(answer.status_code)
            return statuses

        # When 8 senders post 320 signals (160 to each) as fast as they are answered
        started = time.monotonic()
        with ThreadPoolExecutor(SENDERS) as pool:
            statuses = [status for batch in pool.map(send, range(SENDERS)) for status in batch]
        elapsed = time.monotonic() - started

        # Then every one was accepted (none timed out), and what the stack printed meanwhile, more
        # than a pipe holds, is in its log
        assert statuses == [202] * SENDERS * PER_SENDER
        assert elapsed < 60, f"the burst took {elapsed:.0f} s"
        assert stack.log is not None
        time.sleep(0.5)  # the copy of the stack's output into its log is asynchronous
        assert stack.log.stat().st_size - logged_before > PIPE_BYTES
    finally:
        stack.stop()
