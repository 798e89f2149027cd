"""Drift end to end on the local stack: a paper account that does not hold what its strategy holds is
reported as drift; the owner sends the sync suggestion; the real agent (paper executor) executes it
like any other signal; the next report finds no drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack
from tests.e2e.test_terminal_agent import AgentProcess, wait_for_delivery

pytestmark = pytest.mark.e2e

DAY = "2026-11-20"  # a Friday; every snapshot below is dated that day


def post_holdings(stack: RunningStack, token: str, folder: Path, as_of: str) -> dict[str, Any]:
    """What the agent's after-close report sends, read from the paper account's own file."""
    state = json.loads((folder / "paper.json").read_text(encoding="utf-8"))
    positions = [{"security": s, "volume": p["volume"], "avgPrice": p["avgPrice"]}
                 for s, p in state["positions"].items() if p["volume"] > 0]  # fmt: skip
    total = state["cash"] + sum(p["volume"] * p["lastPrice"] for p in state["positions"].values())
    body = {"asOf": as_of, "positions": positions, "cash": state["cash"], "totalAsset": total}
    answer = requests.post(f"{stack.api_base}/api/terminals/positions", json=body,
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
    assert answer.status_code == 202, answer.text
    return body


@pytest.fixture
def agents() -> Iterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for agent in started:
        agent.kill()


def test_the_sync_suggestion_applied_through_the_agent_removes_the_drift(
    owner: OwnerClient, local_stack: RunningStack, tmp_path: Path, agents: list[AgentProcess]
) -> None:
    strategy = owner.create_strategy("drift-e2e")
    terminal = owner.create_terminal("paper-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror"})
    # Given a paper account holding a stock the strategy does not, and none of the strategy's
    (tmp_path / "paper.json").write_text(json.dumps({
        "cash": 100_000.0, "orders": {}, "sequence": 0, "tradingDay": None,
        "positions": {"000002.SZ": {"volume": 500, "sellable": 500, "avgPrice": 20.0, "lastPrice": 20.0}},
    }), encoding="utf-8")  # fmt: skip
    leader = {"v": 1, "dt": f"{DAY}T15:05:00+08:00", "totalValue": 1_000_000.0, "cash": 982_000.0,
              "positions": [{"security": "600000.XSHG", "amount": 1200, "price": 10.0},
                            {"security": "000001.XSHE", "amount": 500, "price": 12.0}]}  # fmt: skip
    snapshot = requests.post(f"{strategy['webhookUrl']}/positions", json=leader,
                             headers={"Authorization": f"Bearer {strategy['webhookToken']}"}, timeout=30)  # fmt: skip
    assert snapshot.status_code == 202, snapshot.text
    post_holdings(local_stack, terminal["authToken"], tmp_path, f"{DAY}T15:10:00+08:00")

    # When the owner computes the drift, it is drift, with a sync suggestion: the sell first
    drift_path = f"/api/terminals/{terminal['terminalId']}/drift"
    report = owner.request("POST", drift_path, {"date": DAY}).json()
    assert report["status"] == "drift" and report["score"] > 0.05
    assert [(o["side"], o["security"], o["amount"]) for o in report["sync"]] == [
        ("sell", "000002.SZ", 500), ("buy", "600000.SH", 1200), ("buy", "000001.SZ", 500)]  # fmt: skip

    # And sends it; the agent executes the three sync signals like any other
    sent = owner.request("POST", f"{drift_path}/sync", {"date": DAY})
    assert sent.status_code == 202, sent.text
    assert sent.json()["signals"] == 3
    config = tmp_path / "config.toml"
    config.write_text("\n".join([
        f'api_base = "{local_stack.api_base}"', f'auth_token = "{terminal["authToken"]}"',
        f'terminal_id = "{terminal["terminalId"]}"', 'executor = "paper"', 'journal = "journal.sqlite3"',
        "[paper]", 'state_file = "paper.json"', "[report]", "enabled = false", "[polling]", "idle_interval = 0",
    ]) + "\n", encoding="utf-8")  # fmt: skip
    agents.append(AgentProcess(config, tmp_path / "agent.log"))
    for signal_id in sent.json()["signalIds"]:
        wait_for_delivery(owner, strategy["strategyId"], signal_id, "EXECUTED")
    assert agents[0].interrupt() == 0
    timeline = {s["signalId"]: s for s in owner.signals(strategy["strategyId"])}
    assert set(sent.json()["signalIds"]) <= set(timeline)

    # Then the account holds what the strategy holds, and the next report says so
    holdings = post_holdings(local_stack, terminal["authToken"], tmp_path, f"{DAY}T15:40:00+08:00")
    assert sorted((p["security"], p["volume"]) for p in holdings["positions"]) == [
        ("000001.SZ", 500), ("600000.SH", 1200)]  # fmt: skip
    after = owner.request("POST", drift_path, {"date": DAY}).json()
    assert (after["status"], after["score"], after["sync"]) == ("ok", 0.0, [])
    assert all(row["withinLotBound"] and row["diffVolume"] == 0 for row in after["rows"])
