"""The cost model: what an idle terminal and a signal cost at AWS list prices, long-poll against push,
from calls counted on the local stack (every function invocation with its duration, every AWS call the
functions make, every WebSocket message and connection minute), never from a schedule assumed on paper.

The stack runs in this process so each call can be counted: the functions' boto3 session reports every
operation (with its item count), the function pools report each invocation and how long it ran. A real
terminal agent (the package's own loop, paper executor) runs against it:
- long-poll, in real time (a long-poll holds its 20 s whatever the scale);
- push, with its timers (keepalive, refresh, safety-net pull) scaled down TIME_SCALE times, so a few
  seconds of wall time are an hour of its life; its calls are counted per simulated hour.
Both inside and outside the trading windows (the agent's clock is set into or out of a session).
Per signal: one terminal, N signals each, webhook -> the terminal has it -> ack, plus what the queued
copy of a pushed signal costs when the next pull drops it."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import requests
from websockets.sync.client import connect

from quantlink import aws
from quantlink_local.client import OwnerClient, joinquant_signal, sign_in
from quantlink_local.stack import DEMO_EMAIL, LocalStack
from quantlink_local.template import Template
from quantlink_terminal.config import load_config
from quantlink_terminal.executors.paper import PaperExecutor
from quantlink_terminal.journal import Journal
from quantlink_terminal.push import PING_INTERVAL, REFRESH_AFTER, PushChannel
from quantlink_terminal.wiring import build_agent, build_client

TIME_SCALE = 240.0  # the push agent's timers run this many times faster than in production
CHINA = timezone(timedelta(hours=8))
IN_SESSION = datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)  # a Friday morning session
OUT_OF_SESSION = datetime(2026, 11, 20, 20, 0, tzinfo=CHINA)  # the same day, evening
# A month of a terminal's life (China's A-share calendar: ~21 trading days x ~4.4 h inside the windows).
HOURS_PER_MONTH = 730.0
ACTIVE_HOURS_PER_MONTH = 21 * 4.4

# AWS list prices, us-east-1, arm64, as of the issue (Dec 2026); printed beside every result.
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,
    "rest_request": 3.50 / 1e6,
    "ws_message": 1.00 / 1e6,
    "ws_connection_minute": 0.25 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
}
REST_FUNCTIONS = {"WebhookFunction", "TerminalPullFunction", "TerminalAckFunction", "OwnerApiFunction"}


@dataclass
class Meter:
    """Everything billable, counted while it runs."""

    invocations: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> Meter:
        with self._lock:
            return Meter(Counter(self.invocations), Counter(self.seconds), Counter(self.calls), Counter(self.units))

    def since(self, before: Meter) -> Meter:
        now = self.snapshot()
        return Meter(
            now.invocations - before.invocations,
            now.seconds - before.seconds,
            now.calls - before.calls,
            now.units - before.units,
        )

    def aws_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        units: Counter[str] = Counter()
        if service == "dynamodb":
            if operation == "TransactWriteItems":
                units["ddb_write"] += 2 * len(params.get("TransactItems", []))
            elif operation == "BatchWriteItem":
                units["ddb_write"] += sum(len(v) for v in params.get("RequestItems", {}).values())
            elif operation == "BatchGetItem":
                units["ddb_read"] += sum(len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values()) / 2
            elif operation in ("GetItem", "Query"):
                units["ddb_read"] += 1
            else:
                units["ddb_write"] += 1
        elif service == "sqs":
            units["sqs"] += 1
        elif service == "apigatewaymanagementapi":
            units["ws_message"] += 1
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            self.units.update(units)

    def wrap(self, name: str, invoke: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
        def counted(event: dict[str, Any]) -> dict[str, Any]:
            started = time.perf_counter()
            try:
                return invoke(event)
            finally:
                with self._lock:
                    self.invocations[name] += 1
                    self.seconds[name] += time.perf_counter() - started
                    context = event.get("requestContext") or {}
                    if context.get("eventType") == "MESSAGE":
                        self.units["ws_message"] += 2  # the ping in, its answer out

        return counted


def dollars(meter: Meter, memory_mb: dict[str, int], connection_minutes: float = 0.0) -> dict[str, float]:
    lambda_requests = sum(meter.invocations.values())
    gb_seconds = sum(meter.seconds[f] * memory_mb[f] / 1024 for f in meter.seconds)
    rest = sum(meter.invocations[f] for f in REST_FUNCTIONS)
    return {
        "lambda": lambda_requests * PRICES["lambda_request"] + gb_seconds * PRICES["lambda_gb_second"],
        "api_gateway": rest * PRICES["rest_request"]
        + meter.units["ws_message"] * PRICES["ws_message"]
        + connection_minutes * PRICES["ws_connection_minute"],  # $connect / $disconnect are no messages
        "sqs": meter.units["sqs"] * PRICES["sqs_fifo_request"],
        "dynamodb": meter.units["ddb_write"] * PRICES["dynamodb_write_unit"]
        + meter.units["ddb_read"] * PRICES["dynamodb_read_unit"],
    }


def memory_of_functions(template: Template) -> dict[str, int]:
    default = int(template.data.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        name: int(r["Properties"].get("MemorySize", default))
        for name, r in template.of_type("AWS::Serverless::Function").items()
    }


class CostBench:
    def __init__(self) -> None:
        self.meter = Meter()
        self.stack = LocalStack(port=0).start()
        assert self.stack.push is not None
        for name, pool in self.stack.push.pools.items():
            pool.invoke = self.meter.wrap(name, pool.invoke)  # type: ignore[method-assign]
        aws._session().events.register("before-call.*.*", self.meter.aws_call)
        self.owner = OwnerClient(
            self.stack.api_base, sign_in(self.stack.api_base, DEMO_EMAIL, self.stack.demo_password)
        )
        self.memory = memory_of_functions(self.stack.template)
        self.seq = 0
        self.tmp = Path(tempfile.mkdtemp(prefix="quantlink-cost-"))

    def close(self) -> None:
        self.stack.stop()

    def terminal(self) -> tuple[dict[str, Any], dict[str, Any]]:
        strategy = self.owner.create_strategy("cost")
        terminal = self.owner.create_terminal("cost-pc")
        self.owner.subscribe(terminal["terminalId"], strategy["strategyId"])
        return strategy, terminal

    def post(self, strategy: dict[str, Any]) -> None:
        self.seq += 1
        answer = requests.post(
            strategy["webhookUrl"],
            data=json.dumps(joinquant_signal(self.seq, amount=100)),
            headers={"Authorization": f"Bearer {strategy['webhookToken']}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text

    # ---- an idle terminal, as the real agent runs it -------------------------------------------------

    def agent_config(self, terminal: dict[str, Any], push: bool, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "config.toml"
        # Every timer of the agent scaled (a long-poll's own 20 s wait cannot be: it is measured in real time).
        scaled = (
            f"push_pull_interval = {300 / TIME_SCALE}\npush_idle_pull_interval = {1800 / TIME_SCALE}\n"
            f"idle_interval = {60 / TIME_SCALE}\n"
        )
        config.write_text(
            f'api_base = "{self.stack.api_base}"\nauth_token = "{terminal["authToken"]}"\nexecutor = "paper"\n'
            f'journal = "journal.sqlite3"\n[paper]\nstate_file = "paper.json"\n[report]\nenabled = false\n'
            f"[polling]\npush = {'true' if push else 'false'}\n{scaled}",
            encoding="utf-8",
        )
        return config

    def idle_agent(self, push: bool, moment: datetime, wall_seconds: float) -> tuple[Meter, float]:
        """Calls of one idle agent, per hour of its life; and the connection minutes per hour."""
        _, terminal = self.terminal()
        config = load_config(str(self.agent_config(terminal, push, self.tmp / f"agent-{self.seq}-{push}")))
        self.seq += 1
        journal = Journal(config.journal_path)
        assert config.paper is not None
        agent = build_agent(config, journal, PaperExecutor(config.paper), clock=lambda: moment)
        client = build_client(config)
        if push:
            agent._push_factory = lambda url: PushChannel(  # the bench scales its timers
                url,
                client.auth_token,
                client.fingerprint,
                ping_interval=PING_INTERVAL / TIME_SCALE,
                refresh_after=REFRESH_AFTER / TIME_SCALE,
            )
        runner = threading.Thread(target=agent.run, daemon=True)
        runner.start()
        time.sleep(6.0 if push else 1.0)  # past the start: connect, the first catch-up pull
        before = self.meter.snapshot()
        started = time.perf_counter()
        time.sleep(wall_seconds)
        used = self.meter.since(before)
        elapsed = time.perf_counter() - started
        agent.request_stop()
        runner.join(timeout=40)
        journal.close()
        # Scaled timers drive push, and long-poll out of session (a wait=0 poll every idle_interval); in
        # session a long-poll waits its real 20 s.
        scaled = push or not agent._polling.active(moment)
        hours = elapsed * (TIME_SCALE if scaled else 1.0) / 3600
        per_hour = Meter(
            Counter({k: v / hours for k, v in used.invocations.items()}),
            Counter({k: v / hours for k, v in used.seconds.items()}),
            Counter({k: v / hours for k, v in used.calls.items()}),
            Counter({k: v / hours for k, v in used.units.items()}),
        )
        return per_hour, 60.0 if push else 0.0

    # ---- per signal ----------------------------------------------------------------------------------

    def per_signal(self, push: bool, signals: int) -> Meter:
        strategy, terminal = self.terminal()
        hdrs = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "cost-device-0001"}
        base = self.stack.api_base

        def ack(items: list[dict[str, Any]]) -> None:
            acks = [{"signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed"} for s in items]
            requests.post(f"{base}/api/terminals/ack", json={"acks": acks}, headers=hdrs, timeout=30)

        if push:
            assert self.stack.push is not None
            with connect(self.stack.push.url, additional_headers=hdrs, ping_interval=None) as socket:
                before = self.meter.snapshot()
                for _ in range(signals):
                    self.post(strategy)
                    ack(json.loads(socket.recv(timeout=10))["signals"])
                # the next safety-net pull meets the acked signals' queued copies and drops them
                requests.get(f"{base}/api/terminals/pull?wait=0", headers=hdrs, timeout=30)
                used = self.meter.since(before)
                used.invocations["TerminalPullFunction"] -= 1  # that pull is the idle schedule's
        else:
            before = self.meter.snapshot()
            for _ in range(signals):
                box: dict[str, Any] = {}

                def pull(box: dict[str, Any] = box) -> None:
                    box.update(requests.get(f"{base}/api/terminals/pull?wait=20", headers=hdrs, timeout=40).json())

                waiting = threading.Thread(target=pull)
                waiting.start()
                time.sleep(0.05)
                self.post(strategy)
                waiting.join()
                ack(box["signals"])
            used = self.meter.since(before)
            # the waiting long-poll is the idle schedule's (it would have run anyway): not the signal's
            used.invocations["TerminalPullFunction"] -= signals
            used.seconds["TerminalPullFunction"] = 0.0
        return Meter(
            Counter({k: v / signals for k, v in used.invocations.items()}),
            Counter({k: v / signals for k, v in used.seconds.items()}),
            Counter({k: v / signals for k, v in used.calls.items()}),
            Counter({k: v / signals for k, v in used.units.items()}),
        )


def run(quick: bool) -> str:
    """The Markdown section for docs/PERFORMANCE.md (and printed)."""
    bench = CostBench()
    try:
        wall = 8.0 if quick else 30.0
        idle = {
            (mode, window): bench.idle_agent(
                mode == "push", moment, wall if mode == "push" or moment == OUT_OF_SESSION else 45.0
            )
            for mode in ("long-poll", "push")
            for window, moment in (("in session", IN_SESSION), ("out of session", OUT_OF_SESSION))
        }
        signals = 5 if quick else 20
        per_signal = {mode: bench.per_signal(mode == "push", signals) for mode in ("long-poll", "push")}
    finally:
        bench.close()
    memory = bench.memory

    lines = [
        "## Cost model (`make bench`, tests/bench/cost.py)",
        "",
        "Calls counted on the local stack (a real agent, its own loop), priced at AWS list prices. "
        "Long-poll measured in real time; push with its timers scaled "
        f"{TIME_SCALE:g}× (keepalive every {PING_INTERVAL:g} s, refresh every {REFRESH_AFTER / 60:g} min, "
        "safety-net pull every 5 min in session / 30 min out of it). A month is "
        f"{ACTIVE_HOURS_PER_MONTH:g} h in session and {HOURS_PER_MONTH - ACTIVE_HOURS_PER_MONTH:g} h out of it. "
        "Function memory as in template.yaml: " + ", ".join(f"{k} {v} MB" for k, v in sorted(memory.items())) + ".",
        "",
        "| idle terminal | per hour in session | per hour out of session | **per terminal-month** "
        "| Lambda GB-s / month |",
        "|---|---:|---:|---:|---:|",
    ]
    monthly: dict[str, float] = {}
    for mode in ("long-poll", "push"):
        inside, minutes = idle[(mode, "in session")]
        outside, _ = idle[(mode, "out of session")]
        cost_in = sum(dollars(inside, memory, minutes).values())
        cost_out = sum(dollars(outside, memory, minutes).values())
        month = cost_in * ACTIVE_HOURS_PER_MONTH + cost_out * (HOURS_PER_MONTH - ACTIVE_HOURS_PER_MONTH)
        monthly[mode] = month
        gb_s = sum(
            (
                inside.seconds[f] * ACTIVE_HOURS_PER_MONTH
                + outside.seconds[f] * (HOURS_PER_MONTH - ACTIVE_HOURS_PER_MONTH)
            )
            * memory[f]
            / 1024
            for f in set(inside.seconds) | set(outside.seconds)
        )
        lines.append(f"| {mode} | ${cost_in:.6f} | ${cost_out:.6f} | **${month:.4f}** | {gb_s:,.0f} |")
    lines += [
        "",
        "| per signal and terminal | Lambda | API Gateway | SQS | DynamoDB | **per million signals** |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in ("long-poll", "push"):
        parts = dollars(per_signal[mode], memory)
        lines.append(
            f"| {mode} | ${parts['lambda'] * 1e6:,.2f} | ${parts['api_gateway'] * 1e6:,.2f} | "
            f"${parts['sqs'] * 1e6:,.2f} | ${parts['dynamodb'] * 1e6:,.2f} | **${sum(parts.values()) * 1e6:,.2f}** |"
        )
    lines += ["", "Calls per idle hour (out of session) and per signal, as counted:", ""]
    for mode in ("long-poll", "push"):
        outside, _ = idle[(mode, "out of session")]
        counted = ", ".join(f"{k} {v:.1f}" for k, v in sorted(outside.invocations.items()) if v > 0.05)
        aws_calls = ", ".join(f"{k} {v:.1f}" for k, v in sorted(outside.calls.items()) if v > 0.05)
        lines.append(f"- {mode}, idle hour: invocations {counted or 'none'}; AWS calls {aws_calls or 'none'}")
        signal_calls = ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_signal[mode].calls.items()) if v > 0.05)
        lines.append(f"- {mode}, per signal: AWS calls {signal_calls}")
    per_delivery = {mode: sum(dollars(per_signal[mode], memory).values()) for mode in ("long-poll", "push")}
    session_seconds = ACTIVE_HOURS_PER_MONTH * 3600
    rates = ((0.0, "idle"), (1 / 3600, "1 signal / hour"), (1 / 60, "1 / minute"), (1.0, "1 / second"))
    lines += [
        "",
        "How a month grows with terminals and with signals per second in session (every terminal follows "
        "every signal; a delivery costs what one signal to one terminal was counted to cost above):",
        "",
        "| terminals | mode | " + " | ".join(name for _, name in rates) + " |",
        "|---:|---|" + "---:|" * len(rates),
    ]
    for terminals in (1, 10, 100, 1000):
        for mode in ("long-poll", "push"):
            cells = [
                f"${terminals * (monthly[mode] + rate * session_seconds * per_delivery[mode]):,.2f}"
                for rate, _ in rates
            ]
            lines.append(f"| {terminals:,} | {mode} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Linear in both: each terminal adds its idle month and a delivery per signal. Beyond a few hundred "
        "terminals, long-poll also meets the region's default 1,000 concurrent executions (each waiting "
        "terminal holds one); push holds none while idle.",
    ]
    target = "met" if monthly["push"] <= 0.05 else "**missed**"
    lines += [
        "",
        f"Idle terminal with push: ${monthly['push']:.4f} per month (target ≤ $0.05: {target}); long-poll "
        f"${monthly['long-poll']:.4f} ({monthly['long-poll'] / max(monthly['push'], 1e-9):,.0f}× as much). "
        "A long-polling terminal also holds one of the region's 1,000 concurrent executions while it waits; "
        "a pushed one holds none.",
        "",
        "Prices assumed (us-east-1, arm64, list): " + ", ".join(f"{k} ${v:.10g}" for k, v in PRICES.items()) + ".",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
