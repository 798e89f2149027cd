"""Relay benchmarks on the local stack, each against a floor measured in the same run on the same
moto server: the AWS calls the path makes, issued back-to-back by the bench itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import requests
from botocore.config import Config
from common import Figure, median, percentile

from quantlink_local.client import joinquant_signal
from quantlink_local.process import RunningStack
from quantlink_local.template import REPO_ROOT

HOT_PATH = ("webhook", "terminal_pull", "terminal_ack")


def signal_body(seq: int) -> bytes:
    return json.dumps(joinquant_signal(seq, amount=100)).encode()


class Bench:
    def __init__(self, stack: RunningStack, quick: bool) -> None:
        self.stack = stack
        self.quick = quick
        self.owner = stack.new_owner()
        self.http = requests.Session()
        self.seq = 0
        self.floor_samples = 0
        config = Config(max_pool_connections=64, read_timeout=30)
        session = boto3.session.Session()
        kwargs: dict[str, Any] = {
            "region_name": stack.info["region"],
            "endpoint_url": stack.moto_endpoint,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "config": config,
        }
        self.dynamodb = session.client("dynamodb", **kwargs)
        self.sqs = session.client("sqs", **kwargs)
        self.table = "quantlink-local-main"

    # ---- setup helpers --------------------------------------------------------------------------

    def strategy_with_terminals(self, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        strategy = self.owner.create_strategy(f"bench-{count}")
        terminals = [self.owner.create_terminal(f"t{i}") for i in range(count)]
        for terminal in terminals:
            self.owner.subscribe(terminal["terminalId"], strategy["strategyId"])
        return strategy, terminals

    def post(self, strategy: dict[str, Any], body: bytes) -> requests.Response:
        return self.http.post(
            strategy["webhookUrl"],
            data=body,
            headers={"Authorization": f"Bearer {strategy['webhookToken']}", "Content-Type": "application/json"},
            timeout=30,
        )

    def next_body(self) -> bytes:
        self.seq += 1
        return signal_body(self.seq)

    # ---- relay latency, and its floor, interleaved so drift in the machine hits both alike -----------

    def relay_and_floor(self, samples: int) -> tuple[list[float], list[float]]:
        strategy, (terminal,) = self.strategy_with_terminals(1)
        puller = requests.Session()
        headers = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "bench-device-1"}
        queue = self.sqs.create_queue(
            QueueName=f"quantlink-local-terminal-floor{os.getpid()}.fifo",
            Attributes={"FifoQueue": "true", "VisibilityTimeout": "60"},
        )["QueueUrl"]
        relay, floor = [], []
        for _ in range(samples):
            self.floor_samples += 1
            relay.append(self.relay_once(strategy, puller, headers))
            floor.append(self.floor_once(queue, self.floor_samples))
        self.sqs.delete_queue(QueueUrl=queue)
        return relay, floor

    def relay_once(self, strategy: dict[str, Any], puller: requests.Session, headers: dict[str, str]) -> float:
        """Webhook request start -> the terminal's waiting long-poll returns the signal (then acked)."""
        got: dict[str, Any] = {}

        def poll() -> None:
            response = puller.get(
                f"{self.stack.api_base}/api/terminals/pull", params={"wait": 20}, headers=headers, timeout=40
            )
            got["at"] = time.perf_counter()
            got["signals"] = response.json()["signals"]

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.05)  # the long-poll is waiting on ReceiveMessage when the webhook starts
        start = time.perf_counter()
        answer = self.post(strategy, self.next_body())
        thread.join(30)
        if answer.status_code != 202 or len(got.get("signals", [])) != 1:
            raise RuntimeError(f"relay lost a signal: {answer.status_code} {got}")
        signal = got["signals"][0]
        puller.post(
            f"{self.stack.api_base}/api/terminals/ack",
            json={"acks": [{"signalId": signal["signalId"], "ackToken": signal["ackToken"], "status": "executed"}]},
            headers=headers,
            timeout=30,
        )
        return (got["at"] - start) * 1000

    def floor_once(self, queue: str, n: int) -> float:
        """GetItem, TransactWriteItems (dedup marker, signal, rate-limit count and the delivery record),
        SendMessage, then (in the waiting long-poll) ReceiveMessage returns and UpdateItem marks it pulled:
        the relay's critical path. The webhook's own last call (UpdateItem FANNED_OUT) runs alongside the
        pull's, as it does in the relay; its subscriptions Query runs alongside the GetItem, off the path."""
        done: dict[str, float] = {}
        pk = {"S": f"BENCH#{os.getpid()}#{n}"}

        def poll() -> None:
            messages = self.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20).get("Messages", [])
            self.dynamodb.update_item(
                TableName=self.table,
                Key={"pk": pk, "sk": {"S": "D#1"}},
                UpdateExpression="SET #s = :p",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": "PULLED"}},
            )
            done["at"] = time.perf_counter()
            self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.05)
        start = time.perf_counter()
        self.dynamodb.get_item(TableName=self.table, Key={"pk": {"S": "STRATEGY#none"}, "sk": {"S": "#META"}})
        self.dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.table, "Item": {"pk": pk, "sk": {"S": "DEDUP"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self.table,
                         "Item": {"pk": pk, "sk": {"S": "SIGNAL"}, "body": {"S": "x" * 600}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"TableName": self.table, "Key": {"pk": pk, "sk": {"S": "RATE"}},
                            "UpdateExpression": "ADD #n :one",
                            "ConditionExpression": "attribute_not_exists(#n) OR #n < :max",
                            "ExpressionAttributeNames": {"#n": "count"},
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":max": {"N": "100"}}}},
                {"Put": {"TableName": self.table, "Item": {"pk": pk, "sk": {"S": "D#1"}, "body": {"S": "x" * 200}}}},
            ]
        )  # fmt: skip
        self.sqs.send_message(
            QueueUrl=queue, MessageBody="x" * 600, MessageGroupId="g", MessageDeduplicationId=f"floor-{n}"
        )
        self.dynamodb.update_item(
            TableName=self.table,
            Key={"pk": pk, "sk": {"S": "SIGNAL"}},
            UpdateExpression="SET #s = :f",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":f": {"S": "FANNED_OUT"}},
        )
        thread.join(30)
        return (done["at"] - start) * 1000

    # ---- throughput -----------------------------------------------------------------------------

    def throughput(self, senders: int, per_sender: int) -> float:
        return self.throughput_and_cpu(senders, per_sender)[0]

    def throughput_and_cpu(self, senders: int, per_sender: int) -> tuple[float, dict[str, float]]:
        """Signals/s, and the CPU ms each process of the stack spent per signal meanwhile: the stack
        (gateway + functions), the moto server, and the moto server's snapshot children."""
        strategy, _ = self.strategy_with_terminals(1)
        bodies = [[self.next_body() for _ in range(per_sender)] for _ in range(senders)]

        def send(batch: list[bytes]) -> int:
            session = requests.Session()
            ok = 0
            for body in batch:
                response = session.post(
                    strategy["webhookUrl"], data=body, timeout=30,
                    headers={"Authorization": f"Bearer {strategy['webhookToken']}"},
                )  # fmt: skip
                ok += response.status_code == 202
            return ok

        before = stack_cpu(self.stack)
        start = time.perf_counter()
        with ThreadPoolExecutor(senders) as pool:
            accepted = sum(pool.map(send, bodies))
        elapsed = time.perf_counter() - start
        after = stack_cpu(self.stack)
        if accepted != senders * per_sender:
            raise RuntimeError(f"throughput run accepted {accepted} of {senders * per_sender}")
        return accepted / elapsed, {k: (after[k] - before[k]) * 1000 / accepted for k in after}

    # ---- fan-out --------------------------------------------------------------------------------

    def fan_out_ms(self, terminals: int, samples: int) -> float:
        strategy, _ = self.strategy_with_terminals(terminals)
        times = []
        for _ in range(samples):
            start = time.perf_counter()
            answer = self.post(strategy, self.next_body())
            times.append((time.perf_counter() - start) * 1000)
            if answer.status_code != 202 or answer.json()["deliveries"] != terminals:
                raise RuntimeError(f"fan-out to {terminals} answered {answer.status_code} {answer.text}")
        return median(times)


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(own, waited-for children's) CPU seconds of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


def stack_cpu(stack: RunningStack) -> dict[str, float]:
    pid = stack.process.pid
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
        moto = int(children.read().split()[0])
    own, _ = _cpu_seconds(pid)
    moto_own, snapshots = _cpu_seconds(moto)
    return {"stack": own, "moto": moto_own, "snapshots": snapshots}


def cpu_bound(cpu_ms: dict[str, float]) -> float:
    """The signals/s the processes' CPU per signal allows: each process on at most one core (the GIL;
    the moto server also serializes its backends), all of them on os.cpu_count() cores."""
    one_core = 1000 / max(cpu_ms["stack"], cpu_ms["moto"], 1e-9)
    all_cores = (os.cpu_count() or 1) * 1000 / max(sum(cpu_ms.values()), 1e-9)
    return min(one_core, all_cores)


def cold_import_ms(statement: str, runs: int) -> float:
    """Best of `runs` fresh interpreters: the time to execute `statement` (imports only)."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint((time.perf_counter() - t) * 1000)"
    best = float("inf")
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        best = min(best, float(out.strip().splitlines()[-1]))
    return best


def handler_import_statement(function: str) -> str:
    path = REPO_ROOT / "functions" / function / "app.py"
    return (
        "import importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)"
    )


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    bench = Bench(stack, quick)
    samples = 30 if quick else 200
    figures: list[Figure] = []

    bench.relay_and_floor(5)  # warm: cold starts of the functions' execution environments
    relay, floor = bench.relay_and_floor(samples)
    floor_p50 = percentile(floor, 50)
    for pct in (50, 95, 99):
        value = percentile(relay, pct)
        figures.append(
            Figure(
                f"relay latency p{pct} (webhook start -> long-poll returns), n={samples}",
                value,
                "ms",
                ratio=value / percentile(floor, pct),
                floor=f"the same moto calls back-to-back, p{pct} = {percentile(floor, pct):.1f} ms",
                target=1.5 if pct == 50 else None,
            )
        )
    figures.append(Figure("floor p50 (raw moto calls of the relay path)", floor_p50, "ms"))

    per_sender = 20 if quick else 100
    one, one_cpu = bench.throughput_and_cpu(1, per_sender * 2)
    eight, eight_cpu = bench.throughput_and_cpu(8, per_sender)

    def cpu_note(cpu: dict[str, float]) -> str:
        return (f"CPU per signal: moto server {cpu['moto']:.1f} ms, stack {cpu['stack']:.1f} ms, snapshots "
                f"{cpu['snapshots']:.1f} ms; the CPU bound is {cpu_bound(cpu):.1f} signals/s")  # fmt: skip

    figures.append(Figure("webhook throughput, 1 sender (1 terminal)", one, "signals/s", note=cpu_note(one_cpu)))
    eight_figure = Figure("webhook throughput, 8 senders (1 terminal)", eight, "signals/s", ratio=eight / one,
                          floor="1 sender", note=cpu_note(eight_cpu))  # fmt: skip
    figures.append(eight_figure)
    figures.append(
        Figure("webhook throughput, 8 senders, against the CPU bound", eight, "signals/s",
               ratio=eight / cpu_bound(eight_cpu), floor=f"the bound from that run's CPU, {cpu_bound(eight_cpu):.1f}/s",
               note="1.00× = the processes' CPU is the whole limit (a machine shared with other work lowers both)")
    )  # fmt: skip

    fan_samples = 5 if quick else 15
    fan_one = bench.fan_out_ms(1, fan_samples)
    fan_ten = bench.fan_out_ms(10, fan_samples)
    fan_hundred = bench.fan_out_ms(100 if not quick else 30, fan_samples)
    figures.append(Figure("fan-out webhook time, 1 terminal", fan_one, "ms"))
    figures.append(
        Figure("fan-out webhook time, 10 terminals", fan_ten, "ms", ratio=fan_ten / fan_one, floor="1 terminal")
    )
    figures.append(
        Figure(
            f"fan-out webhook time, {100 if not quick else 30} terminals",
            fan_hundred,
            "ms",
            ratio=fan_hundred / fan_one,
            floor="1 terminal",
            target=15.0 if not quick else None,
        )
    )

    runs = 3 if quick else 9
    boto3_ms = cold_import_ms("import boto3", runs)
    libraries_ms = cold_import_ms("import boto3\nfrom pydantic import BaseModel\nimport aws_lambda_powertools", runs)
    figures.append(Figure("cold import: boto3 alone", boto3_ms, "ms"))
    figures.append(
        Figure(
            "cold import: boto3 + pydantic.BaseModel + Powertools (the libraries alone)",
            libraries_ms,
            "ms",
            ratio=libraries_ms / boto3_ms,
            floor="import boto3",
        )
    )
    for function in HOT_PATH:
        value = cold_import_ms(handler_import_statement(function), runs)
        figures.append(
            Figure(
                f"cold import: functions/{function}/app.py",
                value,
                "ms",
                ratio=value / boto3_ms,
                floor="import boto3",
                target=1.5,
                note=f"{value / libraries_ms:.2f}× the libraries alone",
            )
        )
    return figures
