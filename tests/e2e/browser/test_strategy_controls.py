"""The strategy's kill switch, rename and delete, the timeline's server-side status filter, and PTrade
terminals, in headless Chromium against the real local stack (screenshots + axe on each screen)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import RunningStack
from quantlink_terminal.config import load_config
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.test_owner_spa import dismiss_secret, new_credentials, secret_values, sign_up

pytestmark = pytest.mark.e2e


def test_kill_switch_rename_delete_and_the_status_filter(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))

    page.get_by_label("Name", exact=True).fill("Kill switch 急停")
    page.get_by_role("button", name="Create strategy").click()
    webhook_url, token = secret_values(page)
    strategy_id = webhook_url.rsplit("/", 1)[1]
    dismiss_secret(page)
    terminal = owner.create_terminal("desk")
    owner.subscribe(terminal["terminalId"], strategy_id)
    first = post_webhook(webhook_url, token, joinquant_signal(1))
    assert first.status_code == 202 and first.json()["deliveries"] == 1, first.text

    # ---- the kill switch: asked first, says what it does; then signals are HELD ----------------------
    card = page.get_by_test_id("strategy")
    card.get_by_role("button", name="Pause (kill switch)").click()
    expect(card).to_contain_text("delivered to no terminal, then or later")
    spa.check("strategy-pause-confirm")
    card.get_by_role("button", name="Confirm: Pause (kill switch)").click()
    expect(page.locator(".notice")).to_contain_text("“Kill switch 急停” is paused")
    expect(card.get_by_test_id("paused")).to_have_text("Paused")
    assert owner.request("GET", f"/api/strategies/{strategy_id}").json()["paused"] is True
    held = post_webhook(webhook_url, token, joinquant_signal(2))
    assert held.status_code == 202 and held.json()["deliveries"] == 0, held.text
    spa.check("strategies-paused")

    page.get_by_role("link", name="Timeline").click()
    spa.heading("Signal timeline · Kill switch 急停")
    expect(page.get_by_test_id("held-note")).to_be_visible()
    signals = page.get_by_test_id("signal")
    expect(signals).to_have_count(2)
    expect(signals.first).to_contain_text("Signal #2")
    expect(signals.first.locator(".badge").first).to_have_text("Held (paused)")
    expect(signals.first).to_contain_text("Held: the strategy was paused when it arrived")
    page.get_by_label("Signal status").select_option("HELD")
    expect(page.get_by_text("Sent while the strategy was paused")).to_be_visible()
    expect(signals).to_have_count(1)
    expect(signals.first).to_contain_text("Signal #2")
    spa.check("timeline-held")
    page.get_by_label("Signal status").select_option("QUEUED")
    expect(signals).to_have_count(1)
    expect(signals.first).to_contain_text("Signal #1")
    page.get_by_label("Signal status").select_option("EXECUTED")
    expect(page.get_by_test_id("empty-state")).to_have_text("No signal has this status.")
    page.get_by_label("Signal status").select_option("UNDELIVERED")
    expect(page.get_by_test_id("empty-state")).to_be_visible()

    # ---- resume: new signals flow again, the held one stays held --------------------------------------
    page.get_by_role("link", name="Strategies").click()
    card.get_by_role("button", name="Resume").click()
    expect(card).to_contain_text("Signals held while paused stay held")
    card.get_by_role("button", name="Confirm: Resume").click()
    expect(page.locator(".notice")).to_contain_text("is running again")
    expect(card.get_by_test_id("paused")).to_have_count(0)
    resumed = post_webhook(webhook_url, token, joinquant_signal(3))
    assert resumed.status_code == 202 and resumed.json()["deliveries"] == 1, resumed.text
    statuses = {s["seq"]: s["status"] for s in owner.signals(strategy_id)}
    assert statuses == {1: "QUEUED", 2: "HELD", 3: "QUEUED"}

    # ---- rename: the new name everywhere, Escape cancels --------------------------------------------
    card.get_by_role("button", name="Rename").click()
    card.get_by_label("New name").fill("never saved")
    card.get_by_label("New name").press("Escape")
    expect(card.get_by_label("New name")).to_have_count(0)
    card.get_by_role("button", name="Rename").click()
    card.get_by_label("New name").fill("")
    expect(card.get_by_role("button", name="Save name")).to_be_disabled()
    card.get_by_label("New name").fill("Renamed 改名")
    card.get_by_role("button", name="Save name").click()
    expect(page.locator(".notice")).to_have_text("“Kill switch 急停” is now called “Renamed 改名”.")
    expect(card.get_by_role("heading", level=3)).to_have_text("Renamed 改名")
    page.reload()
    expect(page.get_by_test_id("strategy").get_by_role("heading", level=3)).to_have_text("Renamed 改名")

    # ---- zh-CN: the same controls in Chinese ----------------------------------------------------------
    page.get_by_test_id("language").select_option("zh-CN")
    expect(card.get_by_role("button", name="暂停（紧急停止）")).to_be_visible()
    card.get_by_role("button", name="删除").click()
    expect(card).to_contain_text("全部信号")
    spa.check("strategy-delete-confirm-zh")
    card.get_by_role("button", name="取消").click()
    page.get_by_test_id("language").select_option("en")

    # ---- delete: asked first (the signals go with it), then gone; the webhook stops -----------------
    card.get_by_role("button", name="Delete").click()
    expect(card).to_contain_text("Deletes the strategy with all its signals")
    expect(card).to_contain_text("dropped, never executed")
    spa.check("strategy-delete-confirm")
    card.get_by_role("button", name="Confirm: Delete").click()
    expect(page.locator(".notice")).to_have_text("Strategy “Renamed 改名” is deleted, with its signals.")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No strategies yet")
    assert post_webhook(webhook_url, token, joinquant_signal(4)).status_code == 401
    assert owner.request("GET", f"/api/strategies/{strategy_id}/signals").status_code == 404

    # A deep link to the deleted strategy's timeline says so in words.
    spa.goto(f"/strategies/{strategy_id}/timeline")
    expect(page.get_by_role("alert")).to_contain_text("It does not exist (or is not yours)")
    assert spa.page_errors == []


def test_a_ptrade_terminal_shows_what_ptrade_needs_and_its_file_makes_the_script(
    open_spa: OpenSpa, local_stack: RunningStack, tmp_path: Path
) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)
    page.get_by_role("link", name="Terminals").click()
    page.get_by_label("PTrade").check()
    page.get_by_label("Name", exact=True).fill("国金 PTrade")
    page.get_by_role("button", name="Register terminal").click()
    (auth_token,) = secret_values(page)
    needs = page.get_by_test_id("ptrade-needs")
    host = re.sub(r"^https?://", "", local_stack.api_base).split("/")[0]
    expect(needs).to_contain_text(f"Outbound HTTPS from PTrade strategies to {host}")
    expect(needs).to_contain_text("urllib, socket, json and threading")
    expect(page.get_by_test_id("ptrade-steps")).to_contain_text(
        "quantlink-terminal ptrade-script --config ptrade.toml -o quantlink_ptrade.py"
    )
    expect(page.get_by_label("miniQMT userdata_mini folder")).to_have_count(0)
    spa.check("terminals-ptrade")
    page.get_by_label("Poll every (seconds)").fill("7")
    page.get_by_label("Files prefix").fill("gj-1")
    name, text = spa.download(lambda: page.get_by_role("button", name="Download ptrade.toml").click())
    assert name == "ptrade.toml"
    config_path = tmp_path / "ptrade.toml"
    config_path.write_text(text, encoding="utf-8")
    config = load_config(str(config_path))
    terminal_id = page.get_by_test_id("terminal").locator("code").first.inner_text()
    assert (config.executor, config.auth_token, config.terminal_id) == ("ptrade", auth_token, terminal_id)
    assert config.ptrade is not None and (config.ptrade.poll_seconds, config.ptrade.files_prefix) == (7, "gj-1")
    # The command the page shows turns the file into the PTrade script.
    script = tmp_path / "quantlink_ptrade.py"
    done = subprocess.run(
        [sys.executable, "-m", "quantlink_terminal", "ptrade-script", "--config", str(config_path), "-o", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    generated = script.read_text(encoding="utf-8")
    assert auth_token in generated and "def initialize(context)" in generated
    dismiss_secret(page)
    assert auth_token not in page.content()
    card = page.get_by_test_id("terminal")
    expect(card.get_by_test_id("kind")).to_have_text("PTrade")
    spa.check("terminals-ptrade-listed")
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))
    assert owner.request("GET", f"/api/terminals/{terminal_id}").json()["kind"] == "ptrade"
    assert spa.page_errors == []
