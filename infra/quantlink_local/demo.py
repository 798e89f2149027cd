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

from quantlink_local.client import ApiError, OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.datadir import DataDir, default_path, write_json


def demo_setup(owner: OwnerClient, saved: dict[str, Any]) -> dict[str, Any]:
    """The demo strategy and terminal of the last run when they still exist, else new ones."""
    if saved.get("strategyId") and saved.get("terminalId"):
        strategies = {s["strategyId"] for s in owner._ok(owner.request("GET", "/api/strategies"))["items"]}
        terminals = {t["terminalId"] for t in owner._ok(owner.request("GET", "/api/terminals"))["items"]}
        if saved["strategyId"] in strategies and saved["terminalId"] in terminals:
            print(f"reusing the demo strategy {saved['strategyId']} and terminal {saved['terminalId']}")
            return saved
    strategy = owner.create_strategy("demo: equal-weight rebalancer")
    terminal = owner.create_terminal("demo terminal")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "ratio"})
    return {
        "strategyId": strategy["strategyId"],
        "webhookUrl": strategy["webhookUrl"],
        "webhookToken": strategy["webhookToken"],
        "terminalId": terminal["terminalId"],
        "authToken": terminal["authToken"],
        "seq": 0,
    }


def run_demo(api_base: str, email: str, password: str, demo_file: Path | None = None) -> dict[str, Any]:
    owner = OwnerClient(api_base, sign_in(api_base, email, password))
    saved: dict[str, Any] = {}
    if demo_file is not None and demo_file.is_file():
        try:
            saved = json.loads(demo_file.read_text(encoding="utf-8"))
        except ValueError:
            saved = {}
    try:
        demo = demo_setup(owner, saved)
    except ApiError:
        demo = demo_setup(owner, {})
    demo["seq"] = int(demo.get("seq", 0)) + 1  # a new signal each run: the same bytes would be a duplicate
    if demo_file is not None:
        write_json(demo_file, demo)
    strategy = {k: demo[k] for k in ("strategyId", "webhookUrl", "webhookToken")}
    terminal = {k: demo[k] for k in ("terminalId", "authToken")}
    print(f"strategy {strategy['strategyId']}  webhook {strategy['webhookUrl']}")
    print(f"terminal {terminal['terminalId']}  (long-polling now)")

    pulled: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: pulled.extend(owner.pull(terminal["authToken"], "demo-device-0001", 20)))
    poll.start()
    time.sleep(0.2)  # the terminal is waiting before JoinQuant sends
    started = time.perf_counter()
    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(demo["seq"], amount=1200))
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
    timeline = next(s for s in owner.signals(strategy["strategyId"]) if s["signalId"] == signal["signalId"])
    (delivery,) = timeline["deliveries"]
    for stamp in ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt"):
        print(f"  {stamp:<11} {delivery[stamp]}")
    print(f"  status {delivery['status']}, latency received → pulled {delivery['latencyMs']} ms")
    result: dict[str, Any] = delivery
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, help="the running stack's data directory (default: as make run)")
    args = parser.parse_args(argv)
    data_dir = DataDir(args.data_dir or default_path())
    if not data_dir.stack_file.is_file():
        print(f"No local stack found ({data_dir.stack_file} is missing): start one with `make run` first.")
        return 2
    info = json.loads(data_dir.stack_file.read_text(encoding="utf-8"))
    try:
        run_demo(info["apiBase"], info["demoEmail"], info["demoPassword"], data_dir.demo_file)
    except OSError as error:  # requests' ConnectionError among them
        print(f"The local stack at {info['apiBase']} does not answer ({type(error).__name__}): is `make run` going?")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
