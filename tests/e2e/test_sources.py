"""QuantDinger and TradingView on the real local stack, through the terminal agent (paper executor) as a
trader runs it: a signed QuantDinger buy executes; `close_long` and a TradingView sell to flat arrive as
`closeAll` and sell every sellable share, whatever count the source sent; a QuantDinger re-send is a
duplicate and executes nothing twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from quantlink_local.client import (
    OwnerClient,
    post_quantdinger,
    post_tradingview,
    quantdinger_signal,
    tradingview_alert,
)
from quantlink_local.process import RunningStack
from tests.e2e.test_terminal_agent import AgentProcess, agents, paper_state, wait_for_delivery

pytestmark = pytest.mark.e2e

__all__ = ["agents"]  # the fixture, shared with the agent's own e2e tests


def agent_config(local_stack: RunningStack, terminal: dict[str, Any], folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        "\n".join(
            [
                f'api_base = "{local_stack.api_base}"',
                f'auth_token = "{terminal["authToken"]}"',
                f'terminal_id = "{terminal["terminalId"]}"',
                'executor = "paper"',
                'journal = "journal.sqlite3"',
                "[paper]",
                'state_file = "paper.json"',
                "initial_cash = 1000000.0",
                "[report]",
                "enabled = false",
                "[polling]",
                "idle_interval = 0",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


def held_before_today(folder: Path, positions: dict[str, int]) -> None:
    """A paper account holding these counts since an earlier trading day (so all of it is sellable)."""
    state = {
        "cash": 100000.0,
        "positions": {
            security: {"volume": volume, "sellable": volume, "avgPrice": 10.0, "lastPrice": 10.52}
            for security, volume in positions.items()
        },
        "orders": {},
        "sequence": 0,
        "tradingDay": None,
    }
    (folder / "paper.json").write_text(json.dumps(state), encoding="utf-8")


def test_quantdinger_and_tradingview_signals_reach_the_paper_account_and_close_all_sells_everything(
    owner: OwnerClient, local_stack: RunningStack, tmp_path: Path, agents: list[AgentProcess]
) -> None:
    quantdinger = owner.create_strategy("qd-e2e", source="quantdinger")
    tradingview = owner.create_strategy("tv-e2e", source="tradingview")
    terminal = owner.create_terminal("paper-pc")
    for strategy in (quantdinger, tradingview):
        assert owner.subscribe(terminal["terminalId"], strategy["strategyId"])["sizing"]["mode"] == "mirror"
    # 1,550 held (an odd lot included); the sources will say 1,000 and 300: closeAll sells all there is.
    held_before_today(tmp_path, {"600000.SH": 1550, "000001.SZ": 850})
    agent = AgentProcess(agent_config(local_stack, terminal, tmp_path), tmp_path / "agent.log")
    agents.append(agent)
    url, token, secret = quantdinger["webhookUrl"], quantdinger["webhookToken"], quantdinger["signingSecret"]

    buy = post_quantdinger(url, token, secret, quantdinger_signal(501, symbol="300750", stake_amount=12624.0))
    assert buy.status_code == 202, buy.text
    resent = post_quantdinger(url, token, secret, quantdinger_signal(501, symbol="300750", stake_amount=12624.0))
    assert resent.json() == {"signalId": buy.json()["signalId"], "duplicate": True}
    close = post_quantdinger(url, token, secret, quantdinger_signal(502, signal_type="close_long", stake_amount=10520))
    assert close.status_code == 202, close.text
    flat = tradingview_alert(
        tradingview["webhookToken"], ticker="SZSE:000001", action="sell", contracts=300, market_position="flat",
        position_size=0, time_text="2026-11-20T01:35:00Z",
    )  # fmt: skip
    sell = post_tradingview(tradingview["webhookUrl"], flat)
    assert sell.status_code == 202, sell.text

    for strategy, answer in ((quantdinger, buy), (quantdinger, close), (tradingview, sell)):
        wait_for_delivery(owner, strategy["strategyId"], answer.json()["signalId"], "EXECUTED")
    assert agent.interrupt() == 0, agent.output()

    positions = paper_state(tmp_path)["positions"]
    assert "600000.SH" not in positions and "000001.SZ" not in positions  # every share sold, odd lots included
    assert positions["300750.SZ"]["volume"] == 1200  # 12,624 CNY at 10.52, bought once despite the re-send
    orders = paper_state(tmp_path)["orders"].values()
    assert sorted((o["security"], o["side"], o["volume"]) for o in orders) == [
        ("000001.SZ", "sell", 850), ("300750.SZ", "buy", 1200), ("600000.SH", "sell", 1550)
    ]  # fmt: skip


def test_the_quantdinger_test_button_and_a_bad_signature_on_the_local_stack(owner: OwnerClient) -> None:
    strategy = owner.create_strategy("qd-test-button", source="quantdinger")
    url, token, secret = strategy["webhookUrl"], strategy["webhookToken"], strategy["signingSecret"]

    tested = post_quantdinger(url, token, secret, {"event": "qd.profile_test", "version": 1, "trace": {}})
    forged = post_quantdinger(url, token, "qds_not-the-secret", quantdinger_signal(7))
    unsigned = requests.post(url, json=quantdinger_signal(7), headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert (tested.status_code, tested.json()) == (200, {"ignored": True, "event": "qd.profile_test"})
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert owner.signals(strategy["strategyId"]) == []
