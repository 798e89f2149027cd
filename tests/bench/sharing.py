"""Sharing's cost on the hot path: one webhook fanned out to 100 recipients reached through a bundle and
through a group, each as a ratio to 100 recipients with direct shares, in the same run (the same
recipients and terminals; samples interleaved). The relay reads materialized subscriptions either way,
so the target is ≤ 1.2×."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from common import Figure, median

from quantlink_local.client import OwnerClient, joinquant_signal, sign_in
from quantlink_local.process import RunningStack


def _ok(reply: requests.Response) -> Any:
    if reply.status_code >= 400:
        raise RuntimeError(f"{reply.request.method} {reply.url} -> {reply.status_code} {reply.text}")
    return reply.json() if reply.content else None


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    recipients_count = 10 if quick else 100
    samples = 5 if quick else 30
    info = stack.info
    admin = OwnerClient(stack.api_base, sign_in(stack.api_base, info["demoEmail"], info["demoPassword"]))
    owner = stack.new_owner()
    owner_id = _ok(owner.request("GET", "/api/me"))["userId"]
    _ok(admin.request("PUT", f"/api/admin/users/{owner_id}/plan", {"plan": "pro"}))
    strategies = {via: owner.create_strategy(f"bench sharing {via}") for via in ("direct", "bundle", "group")}
    bundle = _ok(
        owner.request("POST", "/api/bundles", {"name": "bench", "strategyIds": [strategies["bundle"]["strategyId"]]})
    )
    group = _ok(owner.request("POST", "/api/groups", {"name": "bench"}))
    link = _ok(owner.request("POST", "/api/invitations", {"strategyId": strategies["direct"]["strategyId"]}))
    bundle_link = _ok(owner.request("POST", "/api/invitations", {"bundleId": bundle["bundleId"]}))

    # Shared to the group before anyone joins: each member gets it as it joins (members present and future).
    _ok(owner.request("POST", f"/api/groups/{group['groupId']}/shares",
                      {"strategyId": strategies["group"]["strategyId"]}))  # fmt: skip

    def recipient(n: int) -> None:
        person = stack.new_owner()
        me = _ok(person.request("GET", "/api/me"))
        _ok(person.request("POST", "/api/invitations/accept", {"token": _token(link["url"])}))
        _ok(person.request("POST", "/api/invitations/accept", {"token": _token(bundle_link["url"])}))
        _ok(owner.request("PUT", f"/api/groups/{group['groupId']}/members", {"email": me["email"]}))
        terminal = person.create_terminal(f"r{n}")
        for strategy in strategies.values():
            person.subscribe(terminal["terminalId"], strategy["strategyId"])

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(recipient, range(recipients_count)))
    setup_s = time.perf_counter() - started

    http = requests.Session()
    times: dict[str, list[float]] = {via: [] for via in strategies}
    seq = 0
    for _ in range(samples + 2):  # the first two rounds warm up, interleaved like the rest
        for via, strategy in strategies.items():
            seq += 1
            body = json.dumps(joinquant_signal(seq, amount=100)).encode()
            start = time.perf_counter()
            answer = http.post(strategy["webhookUrl"], data=body, timeout=60,
                               headers={"Authorization": f"Bearer {strategy['webhookToken']}",
                                        "Content-Type": "application/json"})  # fmt: skip
            elapsed = (time.perf_counter() - start) * 1000
            if answer.status_code != 202 or answer.json()["deliveries"] != recipients_count:
                raise RuntimeError(f"fan-out via {via} answered {answer.status_code} {answer.text}")
            times[via].append(elapsed)
    direct, via_bundle, via_group = (median(times[via][2:]) for via in ("direct", "bundle", "group"))
    note = f"{recipients_count} recipients, one terminal each; set-up {setup_s:.0f} s; n={samples} each"
    return [
        Figure(f"fan-out to {recipients_count} recipients, direct shares", direct, "ms", note=note),
        Figure(f"fan-out to {recipients_count} recipients through a bundle", via_bundle, "ms",
               ratio=via_bundle / direct, floor="direct shares", target=1.2, note=note),
        Figure(f"fan-out to {recipients_count} recipients through a group", via_group, "ms",
               ratio=via_group / direct, floor="direct shares", target=1.2, note=note),
    ]  # fmt: skip
