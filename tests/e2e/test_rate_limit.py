"""The webhook's per-strategy rate limit over HTTP: the local stack takes the limit from template.yaml's
Parameters (here overridden, as `sam deploy --parameter-overrides` would), a webhook past it answers 429
with Retry-After and records nothing, and the default lets a rebalance's burst through."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.template import PARAMETER_OVERRIDES, Template

LIMIT, WINDOW = 3, 3600


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    overrides = f"WebhookRateLimit={LIMIT} WebhookRateWindowSeconds={WINDOW}"
    stack = start_stack(
        tmp_path_factory.mktemp("limited"), extra_args=["--ephemeral"], env={PARAMETER_OVERRIDES: overrides}
    )
    yield stack
    stack.stop()


def test_past_the_limit_the_webhook_answers_429_with_retry_after_and_records_nothing(
    limited_stack: RunningStack,
) -> None:
    seconds_left = WINDOW - time.time() % WINDOW
    if seconds_left < 10:  # the test must not straddle two windows
        time.sleep(seconds_left + 0.1)
    owner = limited_stack.new_owner()
    strategy = owner.create_strategy("limited")
    terminal = owner.create_terminal("pc")
    owner.subscribe(terminal["terminalId"], strategy["strategyId"], {"mode": "ratio"})
    url, token = strategy["webhookUrl"], strategy["webhookToken"]
    bodies = [json.dumps(joinquant_signal(seq)).encode() for seq in range(1, LIMIT + 2)]
    assert [post_webhook(url, token, body).status_code for body in bodies[:LIMIT]] == [202] * LIMIT

    refused = post_webhook(url, token, bodies[LIMIT])

    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "RATE_LIMITED" and set(body) == {"code", "message", "details"}
    assert 1 <= int(refused.headers["Retry-After"]) <= WINDOW
    assert body["details"] == {
        "limit": LIMIT,
        "windowSeconds": WINDOW,
        "retryAfterSeconds": int(refused.headers["Retry-After"]),
    }
    assert len(owner.signals(strategy["strategyId"])) == LIMIT  # no signal recorded for it
    assert len(owner.pull(terminal["authToken"], "rate-limit-device", wait=0)) == LIMIT
    # A retry of a recorded signal is its duplicate (never refused); the refused one stays refused
    assert post_webhook(url, token, bodies[0]).json()["duplicate"] is True
    assert post_webhook(url, token, bodies[LIMIT]).status_code == 429


def test_two_identical_webhooks_at_once_under_the_limit_make_one_signal(limited_stack: RunningStack) -> None:
    owner = limited_stack.new_owner()
    strategy = owner.create_strategy("twins")
    body = json.dumps(joinquant_signal(1)).encode()
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: post_webhook(strategy["webhookUrl"], strategy["webhookToken"], body), "ab"))
    assert sorted(a.status_code for a in answers) == [200, 202]
    assert len({a.json()["signalId"] for a in answers}) == 1
    assert len(owner.signals(strategy["strategyId"])) == 1


def test_the_default_limit_lets_a_rebalance_of_fifty_orders_through(owner: OwnerClient) -> None:
    parameters = Template.load().parameters
    assert int(parameters["WebhookRateLimit"]) >= 50  # the stack under test runs the template's defaults
    strategy = owner.create_strategy("rebalance")
    bodies = [json.dumps(joinquant_signal(seq, security=f"{600000 + seq:06d}.XSHG")).encode() for seq in range(1, 51)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda b: post_webhook(strategy["webhookUrl"], strategy["webhookToken"], b).status_code,
                              bodies))  # fmt: skip
    assert codes == [202] * 50
    assert len(owner.signals(strategy["strategyId"], limit=100)) == 50
