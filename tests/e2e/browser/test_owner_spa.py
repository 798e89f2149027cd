"""The owner SPA in headless Chromium against the real local stack: every screen that has an API
today, as an owner uses it, with screenshots at desktop and phone width and an axe check of each."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import tomllib
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import RunningStack
from quantlink_terminal.config import load_config
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.spa import REPO, Spa
from tests.e2e.test_terminal_agent import AgentProcess

pytestmark = pytest.mark.e2e

STAMPS = ("receivedAt", "queuedAt", "pulledAt", "executedAt", "ackedAt")
EXECUTED, TOTAL = 8, 55  # signals the agent executes, then signals left queued: more than one page (50)
STRATEGY_CODE = (REPO / "tests/unit/injection/corpus/jq_default_template.py").read_text(encoding="utf-8")


def new_credentials() -> tuple[str, str]:
    return f"spa-{secrets.token_hex(5)}@example.com", "Spa-" + secrets.token_urlsafe(10) + "9a"


def sign_up(spa: Spa, email: str, password: str) -> None:
    page = spa.goto("/")
    expect(page).to_have_url(re.compile(r"#/sign-in"))
    page.get_by_role("link", name="Create one").click()
    spa.heading("Create an account")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 10 characters")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    spa.heading("Confirm your email")
    # moto sends no email and confirms with any code; the page says so on the local stack.
    expect(page.get_by_text("Local stack: no email is sent")).to_be_visible()
    spa.check("sign-up-confirm")
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm", exact=True).click()
    spa.heading("Strategies")


def secret_values(page: Page) -> list[str]:
    panel = page.get_by_test_id("secret-panel")
    expect(panel).to_be_visible()
    return [field.input_value() for field in panel.locator("input[readonly]").all()]


def dismiss_secret(page: Page) -> None:
    page.get_by_role("button", name="I saved it").click()
    expect(page.get_by_test_id("secret-panel")).to_have_count(0)


def wait_for_status(owner: OwnerClient, strategy_id: str, signal_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in owner.signals(strategy_id):
            if item["signalId"] == signal_id and item["deliveries"] and item["deliveries"][0]["status"] == status:
                return
        time.sleep(0.3)
    raise AssertionError(f"{signal_id} never became {status}")


def test_owner_journey(open_spa: OpenSpa, local_stack: RunningStack, tmp_path: Path) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()

    # ---- sign-in page, sign-up with confirmation --------------------------------------------------
    spa.goto("/")
    spa.heading("Sign in")
    spa.check("sign-in")
    sign_up(spa, email, password)
    session_only = spa.local_storage()
    assert list(session_only) == ["quantlink.session"]
    assert sorted(json.loads(session_only["quantlink.session"])) == [
        "accessToken", "email", "expiresAt", "idToken", "refreshToken", "userId",
    ]  # fmt: skip
    expect(page.get_by_test_id("empty-state")).to_contain_text("No strategies yet")

    # ---- strategies: create -> the webhook URL and token once, with copy buttons -------------------
    page.get_by_label("Name").fill("Dual MA 双均线")
    page.get_by_role("button", name="Create strategy").click()
    webhook_url, first_token = secret_values(page)
    strategy_id = webhook_url.rsplit("/", 1)[1]
    assert webhook_url == f"{local_stack.api_base}/api/webhooks/joinquant/{strategy_id}"
    page.get_by_role("button", name="Copy Webhook token").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == first_token
    spa.check("strategies-created")
    dismiss_secret(page)
    assert first_token not in page.content()
    expect(page.get_by_test_id("strategy")).to_have_count(1)

    # ---- inject: placeholder first, then an embedded new token --------------------------------------
    page.get_by_role("link", name="Inject code").click()
    spa.heading("Inject code · Dual MA 双均线")
    page.get_by_label("JoinQuant strategy code").fill(STRATEGY_CODE)
    page.get_by_role("button", name="Inject", exact=True).click()
    result = page.get_by_test_id("inject-result")
    expect(result).to_contain_text("order call(s) now report to QuantLink")
    expect(result).to_contain_text("still contains <QUANTLINK_WEBHOOK_TOKEN>")
    assert page.locator("tr.diff-added").count() > 0
    page.get_by_label("Embed a new webhook token (rotateToken)").check()
    page.get_by_role("button", name="Inject", exact=True).click()
    (webhook_token,) = secret_values(page)
    assert webhook_token != first_token
    expect(result).not_to_contain_text("still contains <QUANTLINK_WEBHOOK_TOKEN>")
    name, injected = spa.download(lambda: page.get_by_role("button", name="Download injected code").click())
    assert name == "Dual MA 双均线.py"
    assert webhook_token in injected and webhook_url in injected
    assert injected.startswith("# 导入函数库")
    spa.check("inject")
    dismiss_secret(page)
    # The rotated token is the live one now; the first is refused.
    assert post_webhook(webhook_url, first_token, joinquant_signal(0)).status_code == 401

    # ---- terminals: register -> token once + agent config the agent's own loader accepts -----------
    page.get_by_role("link", name="Terminals").click()
    spa.heading("Terminals")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No terminals yet")
    page.get_by_label("Name").fill("paper-pc")
    page.get_by_role("button", name="Register terminal").click()
    (auth_token,) = secret_values(page)
    spa.check("terminals-registered")
    page.get_by_label("Paper account").check()
    page.get_by_label("Paper account starting cash").fill("500000")
    name, text = spa.download(lambda: page.get_by_role("button", name="Download config.toml").click())
    assert name == "config.toml"
    config_path = tmp_path / "agent" / "config.toml"
    config_path.parent.mkdir()
    config_path.write_text(text, encoding="utf-8")
    config = load_config(str(config_path))
    terminal_id = page.get_by_test_id("terminal").locator("code").first.inner_text()
    assert (config.api_base, config.auth_token, config.terminal_id) == (local_stack.api_base, auth_token, terminal_id)
    assert config.executor == "paper" and config.paper is not None and config.paper.initial_cash == 500000.0
    assert config.journal_path == str(config_path.parent / "quantlink-journal.sqlite3")
    # The xtquant variant loads too (the default choice).
    page.get_by_label("miniQMT (real orders").check()
    page.get_by_label("Fund account").fill("8880000001")
    _, real = spa.download(lambda: page.get_by_role("button", name="Download config.toml").click())
    xtquant = tmp_path / "xtquant.toml"
    xtquant.write_text(real, encoding="utf-8")
    real_config = load_config(str(xtquant))
    assert real_config.xtquant is not None and real_config.xtquant.account_id == "8880000001"
    assert tomllib.loads(real)["xtquant"]["userdata_path"].endswith("userdata_mini")
    dismiss_secret(page)
    assert auth_token not in page.content()

    card = page.get_by_test_id("terminal")
    expect(card.get_by_test_id("online")).to_have_text("Offline")
    expect(card).to_contain_text("Never connected")
    card.get_by_label("Sizing").select_option("mirror")
    card.get_by_role("button", name="Subscribe", exact=True).click()
    notice = page.get_by_role("status").filter(has_text="now receives")
    expect(notice).to_contain_text("“paper-pc” now receives “Dual MA 双均线” (Mirror × 1)")
    expect(card.locator(".subscriptions")).to_contain_text("Dual MA 双均线")

    # ---- webhooks through the real agent, run with the downloaded config ---------------------------
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))
    agent = AgentProcess(config_path, tmp_path / "agent.log")
    try:
        for seq in range(1, EXECUTED + 1):
            answer = post_webhook(webhook_url, webhook_token, joinquant_signal(seq, amount=100 * seq))
            assert answer.status_code == 202 and answer.json()["deliveries"] == 1, answer.text
            wait_for_status(owner, strategy_id, answer.json()["signalId"], "EXECUTED")
        page.get_by_role("button", name="Refresh").click()
        expect(card.get_by_test_id("online")).to_have_text("Online")
        expect(card).to_contain_text("Bound to one device since")
        spa.check("terminals")
    finally:
        assert agent.interrupt() == 0, agent.output()

    # More signals than one page, left queued (the agent is stopped): paging and the status filter.
    for seq in range(EXECUTED + 1, TOTAL + 1):
        assert post_webhook(webhook_url, webhook_token, joinquant_signal(seq)).status_code == 202

    # ---- the timeline: five timestamps, latency, charts, filter, paging, CSV -----------------------
    spa.goto(f"/strategies/{strategy_id}/timeline")
    page.reload()  # a deep link survives a reload (hash routing)
    spa.heading("Signal timeline · Dual MA 双均线")
    expect(page.get_by_role("status").filter(has_text="loaded")).to_have_text("50 signal(s) loaded")
    page.get_by_role("button", name="Load older signals").click()
    expect(page.get_by_role("status").filter(has_text="loaded")).to_have_text(f"{TOTAL} signal(s) loaded")
    expect(page.get_by_role("button", name="Load older signals")).to_have_count(0)
    page.get_by_label("Signal status").select_option("EXECUTED")
    expect(page).to_have_url(re.compile(r"status=EXECUTED"))
    executed = page.get_by_test_id("signal")
    expect(executed).to_have_count(EXECUTED)
    expect(executed.last).to_contain_text("Signal #1 · Buy 100 600000.SH")
    expect(executed.first.locator(".badge").first).to_have_text("Executed")
    latencies = []
    for row in page.get_by_test_id("delivery").all():
        for stamp in STAMPS:
            assert row.locator(f"td[data-stamp={stamp}] time").count() == 1, stamp
        found = re.fullmatch(r"(\d+) ms", row.get_by_test_id("latency").inner_text().strip())
        assert found, row.inner_text()
        latencies.append(int(found.group(1)))
    summary = page.get_by_test_id("latency-summary")
    expect(summary).to_contain_text(f"{EXECUTED} deliveries · p50 ")
    p50 = int(re.search(r"p50 (\d+) ms", summary.inner_text()).group(1))  # type: ignore[union-attr]
    assert min(latencies) <= p50 <= max(latencies)
    expect(page.locator(".chart canvas")).to_have_count(2)
    spa.check("timeline")
    # The filter is the server's (?status=) and survives a reload.
    page.reload()
    expect(page.get_by_label("Signal status")).to_have_value("EXECUTED")
    expect(page.get_by_test_id("signal")).to_have_count(EXECUTED)
    page.get_by_label("Signal status").select_option("FAILED")
    expect(page.get_by_test_id("signal")).to_have_count(0)
    expect(page.get_by_test_id("empty-state")).to_have_text("No signal has this status.")
    # The stopped agent's last long-poll may still take one signal on the server side (DELIVERED: pulled,
    # not acked; it is delivered again after the visibility timeout): the other 46 or 47 wait in the queue.
    page.get_by_label("Signal status").select_option("QUEUED")
    queued = page.get_by_test_id("signal")
    expect(queued.first).to_be_visible()
    expect(queued.first.locator(".badge").first).to_have_text("Queued")
    queued_count = queued.count()
    page.get_by_label("Signal status").select_option("DELIVERED")
    expect(page.locator("[data-testid=signal], [data-testid=empty-state]").first).to_be_visible()
    delivered = page.get_by_test_id("signal").count()
    assert queued_count + delivered == TOTAL - EXECUTED and delivered <= 1
    page.get_by_label("Signal status").select_option("")
    expect(page.get_by_role("status").filter(has_text="loaded")).to_have_text("50 signal(s) loaded")
    page.get_by_role("button", name="Load older signals").click()
    expect(page.get_by_role("status").filter(has_text="loaded")).to_have_text(f"{TOTAL} signal(s) loaded")
    name, exported = spa.download(lambda: page.get_by_role("button", name="Export CSV").click())
    assert name == "quantlink-Dual_MA_双均线-signals.csv"
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert len(rows) == TOTAL
    done = [r for r in rows if r["deliveryStatus"] == "EXECUTED"]
    assert sorted(int(r["latencyMs"]) for r in done) == sorted(latencies)
    assert all(r[s] for r in done for s in STAMPS) and {r["terminalName"] for r in rows} == {"paper-pc"}

    # ---- zh-CN / English switch ----------------------------------------------------------------------
    page.get_by_test_id("language").select_option("zh-CN")
    spa.heading("信号时间线 · Dual MA 双均线")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    expect(page.get_by_role("link", name="终端")).to_be_visible()
    page.get_by_label("信号状态").select_option("EXECUTED")
    spa.check("timeline-zh")
    page.get_by_test_id("language").select_option("en")
    spa.heading("Signal timeline")

    # ---- terminal actions: change sizing, unsubscribe, release the device, rotate the token, delete -
    page.get_by_role("link", name="Terminals").click()
    card = page.get_by_test_id("terminal")
    card.get_by_label("Sizing").select_option("ratio")
    card.get_by_label("Multiplier").fill("0")
    expect(card.get_by_role("button", name="Update sizing")).to_be_disabled()
    card.get_by_label("Multiplier").fill("2.5")
    card.get_by_role("button", name="Update sizing").click()
    expect(page.get_by_role("status").filter(has_text="now receives")).to_contain_text("(Ratio × 2.5)")
    card.get_by_role("button", name="Unsubscribe: Dual MA 双均线").click()
    expect(page.get_by_role("status").filter(has_text="no longer")).to_contain_text(
        "no longer receives “Dual MA 双均线”"
    )
    expect(card.get_by_test_id("no-subscriptions")).to_be_visible()
    answer = post_webhook(webhook_url, webhook_token, joinquant_signal(TOTAL + 1))
    assert answer.status_code == 202 and answer.json()["deliveries"] == 0, answer.text
    card.get_by_role("button", name="Release device").click()
    card.get_by_role("button", name="Confirm: Release device").click()
    expect(page.get_by_role("status").filter(has_text="released")).to_be_visible()
    expect(card).to_contain_text("No device yet")
    card.get_by_role("button", name="Rotate token").click()
    card.get_by_role("button", name="Confirm: Rotate token").click()
    (rotated,) = secret_values(page)
    assert rotated != auth_token
    old = requests_pull(local_stack.api_base, auth_token)
    assert old == 401
    assert requests_pull(local_stack.api_base, rotated) == 200
    dismiss_secret(page)
    card.get_by_role("button", name="Delete", exact=True).click()
    card.get_by_role("button", name="Confirm: Delete").click()
    expect(page.get_by_role("status").filter(has_text="deleted")).to_contain_text("“paper-pc” is deleted")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No terminals yet")

    # ---- strategies: rotate the webhook token ------------------------------------------------------
    page.get_by_role("link", name="Strategies").click()
    page.get_by_role("button", name="Rotate token").click()
    page.get_by_role("button", name="Confirm: Rotate token").click()
    rotated_url, rotated_webhook = secret_values(page)
    assert rotated_url == webhook_url and rotated_webhook != webhook_token
    assert post_webhook(webhook_url, webhook_token, joinquant_signal(99)).status_code == 401
    assert post_webhook(webhook_url, rotated_webhook, joinquant_signal(99)).status_code == 202
    dismiss_secret(page)

    # ---- nothing secret left behind in storage -----------------------------------------------------
    stored = json.dumps(spa.local_storage()) + json.dumps(page.evaluate("() => ({...sessionStorage})"))
    for secret in (first_token, webhook_token, auth_token, rotated, rotated_webhook):
        assert secret not in stored
    assert spa.page_errors == []


def requests_pull(api_base: str, token: str) -> int:
    response = requests.get(
        f"{api_base}/api/terminals/pull",
        params={"wait": 0},
        headers={"Authorization": f"Bearer {token}", "X-Device-Fingerprint": "browser-test-device"},
        timeout=30,
    )
    return response.status_code


def store_session(page: Page, session: dict[str, object]) -> None:
    page.evaluate("s => localStorage.setItem('quantlink.session', JSON.stringify(s))", session)


def test_sign_in_errors_refresh_and_sign_out(open_spa: OpenSpa) -> None:
    email, password = new_credentials()
    spa = open_spa("en-US")
    page = spa.page
    sign_up(spa, email, password)
    page.get_by_role("button", name="Sign out").click()
    spa.heading("Sign in")
    assert spa.local_storage() == {}
    spa.goto("/terminals")
    expect(page).to_have_url(re.compile(r"#/sign-in\?redirect="))

    # A wrong password says so in words, and nothing is stored.
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password + "x")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert spa.local_storage() == {}
    spa.check("sign-in-error")

    # The right one lands where the owner was going.
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    spa.heading("Terminals")

    # An ID token the API refuses is refreshed (REFRESH_TOKEN_AUTH) and the call retried.
    session = json.loads(spa.local_storage()["quantlink.session"])
    store_session(
        page,
        {**session, "idToken": session["idToken"][:-8] + "AAAAAAAA"},
    )
    page.reload()
    spa.heading("Terminals")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No terminals yet")
    refreshed = json.loads(spa.local_storage()["quantlink.session"])
    assert refreshed["idToken"] not in (session["idToken"], session["idToken"][:-8] + "AAAAAAAA")
    assert refreshed["refreshToken"] == session["refreshToken"]

    # A token about to expire is refreshed before the call.
    store_session(page, {**refreshed, "expiresAt": 0})
    page.reload()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    assert json.loads(spa.local_storage()["quantlink.session"])["expiresAt"] > time.time() * 1000

    # A refresh token Cognito refuses ends the session with a message.
    store_session(
        page,
        {**refreshed, "expiresAt": 0, "refreshToken": "revoked"},
    )
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Your session has expired. Sign in again.")
    assert spa.local_storage() == {}

    # Signed out, a deep link asks to sign in first.
    spa.goto("/strategies")
    spa.heading("Sign in")
    assert spa.page_errors == []


def test_an_unconfirmed_account_signing_in_is_asked_for_its_code(open_spa: OpenSpa) -> None:
    email, password = new_credentials()
    spa = open_spa("en-US")
    page = spa.goto("/sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    spa.heading("Confirm your email")
    # The owner leaves without the code and comes back to sign in.
    spa.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    spa.heading("Confirm your email")
    expect(page.get_by_text("Local stack: no email is sent")).to_be_visible()
    page.get_by_label("Confirmation code").fill("000000")
    page.get_by_role("button", name="Confirm", exact=True).click()
    # The password is not known on this page any more: confirmed, then sign in.
    spa.heading("Sign in")
    expect(page.get_by_role("status")).to_have_text("Your account is confirmed. Sign in.")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    spa.heading("Strategies")


def test_chinese_by_default_for_a_chinese_browser(open_spa: OpenSpa) -> None:
    spa = open_spa("zh-CN")
    page = spa.goto("/")
    spa.heading("登录")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    spa.check("sign-in-zh")
    page.get_by_test_id("language").select_option("en")
    spa.heading("Sign in")
    page.reload()
    spa.heading("Sign in")  # the choice lasts for the tab
    assert spa.local_storage() == {}


def test_the_bundle_holds_no_deployment_detail_or_secret(local_stack: RunningStack) -> None:
    """The same build serves every deployment: endpoints and ids come from config.json and /api/config."""
    bundle = "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in (REPO / "web" / "dist").rglob("*")
        if path.is_file()
    )
    info = local_stack.info
    for detail in (info["userPoolId"], info["clientId"], info["motoEndpoint"], info["apiBase"], info["demoPassword"]):
        assert detail not in bundle
    assert not re.search(r"amazonaws\.com/[\w-]+_\w+|execute-api\.[\w-]+\.amazonaws", bundle)
    assert not re.search(r"\bqlw_[\w-]{20,}|\btrm_\w+\.[\w-]{20,}", bundle)  # a webhook or terminal token
