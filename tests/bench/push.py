"""Push benchmarks on the local stack: relay latency webhook -> the terminal has the signal, over the push
WebSocket against a waiting long-poll, in the same run and alternating; and 1,000 terminals connected
at once, with the local stack's memory for them and one fan-out to all of them timed."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import websockets
from common import Figure, percentile
from websockets.sync.client import connect

from quantlink_local.client import OwnerClient, joinquant_signal
from quantlink_local.process import RunningStack


def push_url(stack: RunningStack) -> str:
    url: str = requests.get(f"{stack.api_base}/api/config", timeout=10).json()["push"]["url"]
    return url


def headers(terminal: dict[str, Any], device: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": device}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class PushBench:
    def __init__(self, stack: RunningStack, quick: bool) -> None:
        self.stack = stack
        self.quick = quick
        self.owner: OwnerClient = stack.new_owner()
        self.http = requests.Session()
        self.seq = 0

    def post(self, strategy: dict[str, Any], timeout: float = 30) -> str:
        self.seq += 1
        answer = self.http.post(
            strategy["webhookUrl"],
            data=json.dumps(joinquant_signal(self.seq, amount=100)).encode(),
            headers={"Authorization": f"Bearer {strategy['webhookToken']}", "Content-Type": "application/json"},
            timeout=timeout,
        )
        assert answer.status_code == 202, answer.text
        signal_id: str = answer.json()["signalId"]
        return signal_id

    def ack(self, terminal: dict[str, Any], device: str, items: list[dict[str, Any]]) -> None:
        acks = [{"signalId": s["signalId"], "ackToken": s["ackToken"], "status": "executed"} for s in items]
        answer = self.http.post(
            f"{self.stack.api_base}/api/terminals/ack",
            json={"acks": acks},
            headers=headers(terminal, device),
            timeout=30,
        )
        assert all(r["ok"] for r in answer.json()["results"]), answer.text

    # ---- latency: push vs long-poll ------------------------------------------------------------------

    def latency(self, samples: int) -> tuple[list[float], list[float]]:
        """Alternating: a signal to a terminal holding the push socket, then one to a terminal whose
        long-poll is already waiting; each timed from the webhook's send to the terminal having it."""
        pushed_strategy = self.owner.create_strategy("bench-push")
        polled_strategy = self.owner.create_strategy("bench-poll")
        pushed = self.owner.create_terminal("push")
        polled = self.owner.create_terminal("poll")
        self.owner.subscribe(pushed["terminalId"], pushed_strategy["strategyId"])
        self.owner.subscribe(polled["terminalId"], polled_strategy["strategyId"])
        push_times: list[float] = []
        poll_times: list[float] = []
        puller = requests.Session()
        poll_headers = headers(polled, "bench-poll-device")
        with connect(push_url(self.stack), additional_headers=headers(pushed, "bench-push-device"),
                     ping_interval=None, compression=None) as socket:  # fmt: skip
            socket.send(json.dumps({"action": "ping"}))
            assert json.loads(socket.recv(timeout=10)) == {"type": "ping"}
            for _ in range(samples):
                # push: the frame's arrival is timed as it lands, not after the webhook's answer
                arrived: dict[str, Any] = {}

                def receive(arrived: dict[str, Any] = arrived) -> None:
                    arrived["frame"] = json.loads(socket.recv(timeout=10))
                    arrived["at"] = time.perf_counter()

                receiver = threading.Thread(target=receive)
                receiver.start()
                started = time.perf_counter()
                signal_id = self.post(pushed_strategy)
                receiver.join(timeout=15)
                frame = arrived["frame"]
                push_times.append((arrived["at"] - started) * 1000)
                assert [s["signalId"] for s in frame["signals"]] == [signal_id], frame
                self.ack(pushed, "bench-push-device", frame["signals"])
                # long-poll: the pull is already waiting when the webhook is sent
                box: dict[str, Any] = {}

                def pull(box: dict[str, Any] = box) -> None:
                    answer = puller.get(
                        f"{self.stack.api_base}/api/terminals/pull?wait=20", headers=poll_headers, timeout=40
                    )
                    box["signals"] = answer.json()["signals"]
                    box["at"] = time.perf_counter()

                waiting = threading.Thread(target=pull)
                waiting.start()
                time.sleep(0.05)  # the long-poll is inside ReceiveMessage
                started = time.perf_counter()
                signal_id = self.post(polled_strategy)
                waiting.join(timeout=30)
                assert [s["signalId"] for s in box["signals"]] == [signal_id], box
                poll_times.append((box["at"] - started) * 1000)
                self.ack(polled, "bench-poll-device", box["signals"])
        return push_times, poll_times

    # ---- 1,000 connected terminals -------------------------------------------------------------------

    def many(self, count: int) -> dict[str, float]:
        strategy = self.owner.create_strategy(f"bench-fan-{count}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            terminals = list(pool.map(lambda i: self.owner.create_terminal(f"ws{i}"), range(count)))
            list(pool.map(lambda t: self.owner.subscribe(t["terminalId"], strategy["strategyId"]), terminals))
        pid = self.stack.process.pid
        before = rss_kib(pid)
        url = push_url(self.stack)
        result: dict[str, float] = {}

        async def run() -> None:
            limit = asyncio.Semaphore(64)

            async def open_one(i: int, terminal: dict[str, Any]) -> Any:
                async with limit:
                    return await websockets.connect(
                        url, additional_headers=headers(terminal, f"bench-device-{i:05d}"),
                        ping_interval=None, compression=None, open_timeout=120,
                    )  # fmt: skip

            started = time.perf_counter()
            sockets = await asyncio.gather(*(open_one(i, t) for i, t in enumerate(terminals)))
            result["connect_s"] = time.perf_counter() - started
            await asyncio.sleep(1.0)  # the emulator settles (every $connect ran, handlers registered)
            result["rss_delta_kib"] = rss_kib(pid) - before

            async def first_frame(socket: Any) -> float:
                json.loads(await asyncio.wait_for(socket.recv(), timeout=600))
                return time.perf_counter()

            waiting = [asyncio.ensure_future(first_frame(s)) for s in sockets]
            started = time.perf_counter()
            # The local stack answers a fan-out to 1,000 slower than API Gateway's 29 s would allow on a busy
            # machine (moto serializes every call); the bench waits for it.
            await asyncio.get_running_loop().run_in_executor(None, lambda: self.post(strategy, timeout=600))
            result["webhook_s"] = time.perf_counter() - started
            arrivals = await asyncio.gather(*waiting, return_exceptions=True)
            times = [a - started for a in arrivals if isinstance(a, float)]
            result["received"] = len(times)
            result["all_s"] = max(times) if times else float("nan")
            result["p50_s"] = percentile(times, 50) if times else float("nan")
            await asyncio.gather(*(s.close() for s in sockets))

        asyncio.run(run())
        return result


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    bench = PushBench(stack, quick)
    samples = 20 if quick else 200
    push_times, poll_times = bench.latency(samples)
    poll_p50 = percentile(poll_times, 50)
    figures = []
    for name, times in (("push", push_times), ("long-poll", poll_times)):
        for pct in (50, 95, 99):
            value = percentile(times, pct)
            is_target = name == "push" and pct == 50
            figures.append(
                Figure(
                    f"relay latency webhook → terminal has it, {name} p{pct} ({samples} signals)",
                    value,
                    "ms",
                    ratio=value / poll_p50,
                    floor="long-poll p50, same run",
                    target=0.7 if is_target else None,
                    note="alternating push / long-poll signals" if is_target else "",
                )
            )
    count = 100 if quick else 1000
    many = bench.many(count)
    figures.append(
        Figure(f"{count} terminals: connect all (64 at a time)", many["connect_s"], "s", note="$connect each")
    )
    figures.append(
        Figure(
            f"{count} terminals: local stack memory for the connections",
            many["rss_delta_kib"] / 1024,
            "MiB",
            note=f"{many['rss_delta_kib'] / count:.1f} KiB per connection (gateway + emulator process RSS)",
        )
    )
    figures.append(
        Figure(
            f"{count} terminals: one signal fanned out and pushed to all",
            many["all_s"] * 1000,
            "ms",
            note=f"{int(many['received'])}/{count} sockets got it; median {many['p50_s'] * 1000:.0f} ms; "
            f"webhook answered in {many['webhook_s'] * 1000:.0f} ms",
        )
    )
    assert many["received"] == count, f"only {many['received']} of {count} connected terminals got the push"
    return figures
