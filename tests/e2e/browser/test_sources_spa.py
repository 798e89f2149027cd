"""Per-source strategy creation in the SPA (API.md "More sources"), in headless Chromium against the real
local stack: what the page shows for QuantDinger and TradingView works when those senders post with it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest
import requests
from playwright.sync_api import expect

from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.spa import REPO
from tests.e2e.browser.test_owner_spa import dismiss_secret, new_credentials, sign_up

pytestmark = pytest.mark.e2e

SAMPLES = REPO / "events" / "webhook"


def sample_body(name: str) -> dict[str, object]:
    body: dict[str, object] = json.loads(json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))["body"])
    return body


def test_quantdinger_and_tradingview_strategies_show_what_each_sender_needs(
    open_spa: OpenSpa, local_stack: RunningStack
) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)

    # ---- QuantDinger: URL, bearer token and signing secret, once -----------------------------------
    page.get_by_label("QuantDinger").check()
    page.get_by_label("Name", exact=True).fill("QD momentum")
    page.get_by_role("button", name="Create strategy").click()
    panel = page.get_by_test_id("secret-panel")
    url = panel.get_by_label("Webhook URL").input_value()
    token = panel.get_by_label("Webhook token").input_value()
    secret = panel.get_by_label("Signing secret (HMAC)").input_value()
    assert "/api/webhooks/quantdinger/" in url and token and secret
    expect(page.get_by_test_id("source-setup")).to_contain_text("signing secret")
    # Each value says where in QuantDinger it goes.
    expect(panel.get_by_label("Webhook URL")).to_have_accessible_description(re.compile(r"channel → webhook URL"))
    expect(panel.get_by_label("Webhook token")).to_have_accessible_description(re.compile(r"Authorization: Bearer"))
    expect(panel.get_by_label("Signing secret (HMAC)")).to_have_accessible_description(
        re.compile(r"the same webhook's signing secret")
    )
    spa.check("strategies-quantdinger")
    body = sample_body("quantdinger")
    body["timestamp"] = int(time.time())
    raw = json.dumps(body, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {"Authorization": f"Bearer {token}", "X-QD-Timestamp": stamp, "X-QD-Signature": signature}
    posted = requests.post(url, data=raw, headers={**headers, "Content-Type": "application/json"}, timeout=30)
    assert posted.status_code == 202, posted.text
    dismiss_secret(page)
    assert secret not in page.content() and token not in page.content()
    card = page.get_by_test_id("strategy").filter(has_text="QD momentum")
    expect(card.get_by_test_id("source")).to_have_text("QuantDinger")
    expect(card.get_by_role("link", name="Inject code")).to_have_count(0)
    # The signal QuantDinger sent with those values is in the strategy's timeline.
    card.get_by_role("link", name="Timeline").click()
    spa.heading("Signal timeline · QD momentum")
    expect(page.get_by_test_id("signal")).to_have_count(1)
    expect(page.get_by_test_id("signal")).to_contain_text("Buy 1200 600000.SH")
    page.get_by_role("navigation").get_by_role("link", name="Strategies").click()
    spa.heading("Strategies")

    # ---- TradingView: the alert URL and the message to paste ----------------------------------------
    page.get_by_label("TradingView").check()
    page.get_by_label("Name", exact=True).fill("TV breakout")
    page.get_by_role("button", name="Create strategy").click()
    panel = page.get_by_test_id("secret-panel")
    alert_url = panel.get_by_label("Webhook URL for the alert").input_value()
    template = panel.get_by_label("Alert message to paste").input_value()
    assert "/api/webhooks/tradingview/" in alert_url
    expect(page.get_by_test_id("source-setup")).to_contain_text("Webhook URL")
    expect(panel.get_by_label("Webhook URL for the alert")).to_have_accessible_description(
        re.compile(r"Notifications → tick Webhook URL")
    )
    expect(panel.get_by_label("Alert message to paste")).to_have_accessible_description(re.compile(r"Message box"))
    spa.check("strategies-tradingview")
    page.get_by_role("button", name="Copy Alert message to paste").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == template
    # What TradingView sends: the pasted message with its placeholders filled in, no headers.
    filled = (
        template.replace("{{exchange}}:{{ticker}}", "SSE:600000")
        .replace("{{strategy.order.action}}", "buy")
        .replace("{{strategy.order.contracts}}", "1200")
        .replace("{{strategy.order.price}}", "10.52")
        .replace("{{strategy.order.id}}", "Long entry")
        .replace("{{strategy.market_position}}", "long")
        .replace("{{strategy.position_size}}", "1200")
        .replace("{{timenow}}", "2026-11-20T01:31:00Z")
    )
    sent = requests.post(alert_url, data=filled.encode(), headers={"Content-Type": "text/plain"}, timeout=30)
    assert sent.status_code == 202, sent.text
    dismiss_secret(page)
    card = page.get_by_test_id("strategy").filter(has_text="TV breakout")
    expect(card.get_by_test_id("source")).to_have_text("TradingView")
    card.get_by_role("link", name="Timeline").click()
    expect(page.get_by_test_id("signal")).to_have_count(1)
    expect(page.get_by_test_id("signal")).to_contain_text("Buy 1200 600000.SH")
    assert spa.page_errors == []
