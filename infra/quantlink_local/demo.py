"""`make demo`: with `make run` going, send one JoinQuant signal through the whole relay and show its
timeline: webhook → the terminal's FIFO queue → a waiting long-poll → ack, each step timestamped."""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.template import REPO_ROOT

STATE_FILE = REPO_ROOT / ".local" / "stack.json"


def run_demo(api_base: str, email: str, password: str) -> dict[str, Any]:
    owner = OwnerClient(api_base, sign_in(api_base, email, password))
    strategy = owner.create_strategy("demo: equal-weight rebalancer")
    terminal = owner.create_terminal("demo terminal")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "ratio"})
    print(f"strategy {strategy['strategyId']}  webhook {strategy['webhookUrl']}")
    print(f"terminal {terminal['terminalId']}  (long-polling now)")

    pulled: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: pulled.extend(owner.pull(terminal["authToken"], "demo-device-0001", 20)))
    poll.start()
    time.sleep(0.2)  # the terminal is waiting before JoinQuant sends
    started = time.perf_counter()
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1, amount=1200))
    poll.join(30)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"webhook answered {answer.status_code} {answer.json()}")
    if not pulled:
        raise SystemExit("the terminal did not receive the signal")
    signal = pulled[0]
    print(f"terminal got {signal['side']} {signal['amount']} {signal['security']} {elapsed:.0f} ms after the webhook")
    owner.ack(terminal["authToken"], [{
        "signalId": signal["signalId"], "ackToken": signal["ackToken"], "status": "executed",
        "brokerOrderId": "DEMO-1", "filled": signal["amount"], "avgPrice": 10.52,
        "executedAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }])  # fmt: skip
    (timeline,) = owner.signals(strategy["strategyId"])
    (delivery,) = timeline["deliveries"]
    for stamp in ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt"):
        print(f"  {stamp:<11} {delivery[stamp]}")
    print(f"  status {delivery['status']}, latency received → pulled {delivery['latencyMs']} ms")
    result: dict[str, Any] = delivery
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--state-file", type=Path, default=STATE_FILE, help="written by `make run`")
    args = parser.parse_args(argv)
    if not args.state_file.is_file():
        print(f"No local stack found ({args.state_file} is missing): start one with `make run` first.")
        return 2
    info = json.loads(args.state_file.read_text(encoding="utf-8"))
    run_demo(info["apiBase"], info["demoEmail"], info["demoPassword"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
