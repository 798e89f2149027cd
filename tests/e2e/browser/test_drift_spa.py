"""The drift screen in headless Chromium against the real local stack: a terminal that holds less than its
strategy's snapshot shows the gap per security, and the sync button sends the repair to that terminal."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from quantlink_local.client import OwnerClient, post_webhook, sign_in
from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.test_owner_spa import new_credentials, sign_up

pytestmark = pytest.mark.e2e

DAY = "2026-11-20"  # a Friday, a trading day: every snapshot below is dated that day


def test_drift_screen_shows_the_gap_and_sends_the_sync_orders(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))
    strategy = owner.create_strategy("Drifty")
    terminal = owner.create_terminal("desk")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "mirror", "multiplier": 1})
    leader = {
        "v": 1,
        "dt": f"{DAY}T15:05:00+08:00",
        "positions": [{"security": "600000.XSHG", "amount": 1200, "price": 10.0}],
        "totalValue": 100_000.0,
        "cash": 88_000.0,
    }
    answer = post_webhook(f"{strategy['webhookUrl']}/positions", strategy["webhookToken"], leader)
    assert answer.status_code == 202, answer.text
    holdings = {
        "asOf": f"{DAY}T15:10:00+08:00",
        "positions": [{"security": "600000.SH", "volume": 200, "avgPrice": 10.0}],
        "cash": 98_000.0,
        "totalAsset": 100_000.0,
    }
    held = requests.post(
        f"{local_stack.api_base}/api/terminals/positions",
        json=holdings,
        headers={"Authorization": f"Bearer {terminal['authToken']}"},
        timeout=30,
    )
    assert held.status_code == 202, held.text
    page.get_by_role("navigation").get_by_role("link", name="Terminals").click()
    page.get_by_test_id("terminal").get_by_role("link", name="Drift").click()
    spa.heading("Drift · desk")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No drift report yet")
    spa.check("drift-none")
    page.get_by_label("Trading day").fill(DAY)
    page.get_by_role("button", name="Compute now").click()
    report = page.get_by_test_id("drift-report")
    expect(report).to_be_visible(timeout=30_000)
    expect(report.locator(".badge")).to_have_text("Drift")
    expect(page.get_by_test_id("drift-score")).to_contain_text("(threshold 5.00%)")
    row = page.get_by_test_id("drift-row").filter(has_text="600000.SH")
    expect(row).to_contain_text("-1,000")
    expect(page.get_by_test_id("sync-orders")).to_contain_text("Buy 1,000 600000.SH")
    spa.check("drift")
    page.get_by_role("button", name="Send 1 sync order(s)").click()
    page.get_by_role("button", name="Confirm: Send 1 sync order(s)").click()
    expect(page.get_by_role("status").filter(has_text="sync signal")).to_have_text("1 sync signal(s) sent to “desk”.")
    pulled = owner.pull(terminal["authToken"], "drift-device-0001")
    assert [(s["security"], s["side"], s["amount"], s.get("origin")) for s in pulled] == [
        ("600000.SH", "buy", 1000, "sync")
    ]
