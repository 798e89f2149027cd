"""The timeline of a pushed delivery in headless Chromium against the real local stack (API.md "Push"): a
terminal holding the push socket gets the signal there, and the timeline shows when it was pushed (a
Pushed column in English and Chinese) and exports it in the CSV's pushedAt column."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from playwright.sync_api import expect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.test_owner_spa import new_credentials, sign_up
from tests.e2e.test_push import next_frame, open_socket

pytestmark = pytest.mark.e2e


def test_a_pushed_delivery_shows_its_push_time_in_the_timeline_and_the_csv(
    open_spa: OpenSpa, local_stack: RunningStack
) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))
    strategy = owner.create_strategy("Pushed 推送")
    terminal = owner.create_terminal("push-pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"])

    # Given a terminal holding the push socket, when JoinQuant posts an order, it is pushed and acked
    with open_socket(local_stack, terminal["authToken"], fingerprint="spa-push-device-01") as socket:
        answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))
        assert answer.status_code == 202, answer.text
        frame = next_frame(socket)
        (item,) = frame["signals"]
        ack = {"signalId": item["signalId"], "ackToken": item["ackToken"], "status": "executed", "filled": 100}
        assert owner.ack(terminal["authToken"], [ack])[0]["ok"] is True
    (delivery,) = owner.signals(strategy["strategyId"])[0]["deliveries"]
    pushed_at = delivery["pushedAt"]
    assert pushed_at is not None

    # Then the timeline shows the push time in its own column, with the clock time of pushedAt
    page.get_by_role("button", name="Refresh").click()
    page.get_by_test_id("strategy").filter(has_text="Pushed 推送").get_by_role("link", name="Timeline").click()
    spa.heading("Signal timeline · Pushed 推送")
    table = page.get_by_role("table", name="Deliveries of signal #1")
    expect(table.get_by_role("columnheader", name="Pushed", exact=True)).to_be_visible()
    row = page.get_by_test_id("delivery")
    expect(row.locator("[data-stamp=pushedAt] time")).to_have_attribute("datetime", pushed_at)
    expect(row.locator(".badge")).to_have_text("Executed")
    latency = datetime.fromisoformat(pushed_at) - datetime.fromisoformat(delivery["receivedAt"])
    expect(row.get_by_test_id("latency")).to_have_text(f"{round(latency.total_seconds() * 1000)} ms")
    spa.check("timeline-pushed")

    # and the CSV has it in pushedAt
    _, exported = spa.download(lambda: page.get_by_role("button", name="Export CSV").click())
    (exported_row,) = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert exported_row["pushedAt"] == pushed_at
    assert exported_row["deliveryStatus"] == "EXECUTED"

    # and the column is labelled in Chinese too
    page.get_by_test_id("language").select_option("zh-CN")
    zh_table = page.get_by_role("table", name="信号 #1 的投递")
    expect(zh_table.get_by_role("columnheader", name="推送", exact=True)).to_be_visible()
    assert spa.page_errors == []
