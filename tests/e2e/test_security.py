"""The local stack's CORS and throttling, over HTTP, as template.yaml declares them: the owner API
answers browsers of the SPA's origin only (here the SPA is served by the gateway itself, so its origin
is the stack's own), the webhook and terminal routes answer no browser at all, and the terminal limits
of the template's Parameters hold (overridden here as `sam deploy --parameter-overrides` would)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack, start_stack
from quantlink_local.template import PARAMETER_OVERRIDES

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
CUSTOM_ORIGIN = "https://app.example.com"


def preflight(stack: RunningStack, path: str, origin: str, method: str = "GET") -> requests.Response:
    return requests.options(
        f"{stack.api_base}{path}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )


def test_the_owner_api_allows_the_spas_origin_and_no_other(local_stack: RunningStack) -> None:
    spa = local_stack.api_base  # the SPA's origin: the gateway serves it
    allowed = preflight(local_stack, "/api/strategies", spa, "POST")
    assert allowed.headers.get(ALLOW_ORIGIN) == spa
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    for other in ("https://evil.example", "http://127.0.0.1:1", "null"):
        refused = preflight(local_stack, "/api/strategies", other, "POST")
        assert ALLOW_ORIGIN not in refused.headers, other
        assert "Access-Control-Allow-Methods" not in refused.headers
    # And the answers themselves name the SPA's origin, never "*".
    answer = requests.get(f"{local_stack.api_base}/api/config", headers={"Origin": spa}, timeout=10)
    assert answer.headers[ALLOW_ORIGIN] == spa


def test_webhook_and_terminal_routes_answer_no_browser(local_stack: RunningStack, owner: OwnerClient) -> None:
    strategy = owner.create_strategy("cors")
    for path, method in (
        (f"/api/webhooks/joinquant/{strategy['strategyId']}", "POST"),
        (f"/api/webhooks/tradingview/{strategy['strategyId']}", "POST"),
        ("/api/terminals/pull", "GET"),
        ("/api/terminals/ack", "POST"),
        ("/api/terminals/positions", "POST"),
    ):
        answer = preflight(local_stack, path, local_stack.api_base, method)
        assert ALLOW_ORIGIN not in answer.headers, path
    terminal = owner.create_terminal("cors")
    pulled = requests.get(
        f"{local_stack.api_base}/api/terminals/pull?wait=0",
        headers={"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "cors-device-0001",
                 "Origin": local_stack.api_base},
        timeout=10,
    )  # fmt: skip
    assert pulled.status_code == 200 and ALLOW_ORIGIN not in pulled.headers


@pytest.fixture(scope="module")
def tuned_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of its own with template parameters overridden, as `sam deploy --parameter-overrides`."""
    overrides = {
        "TerminalPullLimit": "5", "TerminalAckLimit": "3", "TerminalRateWindowSeconds": "3600",
        "CorsOrigin": CUSTOM_ORIGIN,
    }  # fmt: skip
    stack = start_stack(
        tmp_path_factory.mktemp("tuned"),
        extra_args=["--ephemeral"],
        env={PARAMETER_OVERRIDES: " ".join(f"{k}={v}" for k, v in overrides.items())},
    )
    yield stack
    stack.stop()


def test_the_templates_limits_hold_and_429_says_when_to_come_back(tuned_stack: RunningStack) -> None:
    owner = tuned_stack.new_owner()
    terminal, other = owner.create_terminal("throttled"), owner.create_terminal("not throttled")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "burst-device-0001"}
    pulls = [session.get(f"{tuned_stack.api_base}/api/terminals/pull?wait=0", headers=headers, timeout=10)
             for _ in range(6)]  # fmt: skip
    assert [answer.status_code for answer in pulls] == [200] * 5 + [429]
    refused = pulls[-1]
    assert refused.json() == {"code": "RATE_LIMITED", "message": refused.json()["message"]}
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    acks = [session.post(f"{tuned_stack.api_base}/api/terminals/ack", json={"acks": []}, headers=headers, timeout=10)
            for _ in range(4)]  # fmt: skip
    assert [answer.status_code for answer in acks][-1] == 429 and 429 not in [a.status_code for a in acks[:3]]
    # Another terminal is not slowed down.
    assert owner.pull(other["authToken"], "other-device-0001") == []


def test_a_cors_origin_parameter_replaces_the_spas(tuned_stack: RunningStack) -> None:
    assert preflight(tuned_stack, "/api/strategies", CUSTOM_ORIGIN, "POST").headers.get(ALLOW_ORIGIN) == CUSTOM_ORIGIN
    assert ALLOW_ORIGIN not in preflight(tuned_stack, "/api/strategies", tuned_stack.api_base, "POST").headers
    answer = requests.get(f"{tuned_stack.api_base}/api/config", timeout=10)
    assert answer.headers[ALLOW_ORIGIN] == CUSTOM_ORIGIN
