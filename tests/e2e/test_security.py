"""The local stack's CORS and throttling, over HTTP, as template.yaml declares them: the owner API
answers browsers of the SPA's origin only (here the SPA is served by the gateway itself, so its origin
is the stack's own), the webhook and terminal routes answer no browser at all, and the terminal limits
of the template's Parameters hold."""

from __future__ import annotations

import time

import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack
from quantlink_local.template import Template

ALLOW_ORIGIN = "Access-Control-Allow-Origin"


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


def test_pulls_past_the_templates_limit_answer_429_with_retry_after(
    local_stack: RunningStack, owner: OwnerClient
) -> None:
    """The stack's limit is the template's TerminalPullLimit per TerminalRateWindowSeconds: a burst of
    wait=0 pulls meets a 429 after at most that many (two, if the burst straddles a window's end)."""
    parameters = Template.load().data["Parameters"]
    limit = int(parameters["TerminalPullLimit"]["Default"])
    window = int(parameters["TerminalRateWindowSeconds"]["Default"])
    terminal = owner.create_terminal("throttled")
    session = requests.Session()
    headers = {"Authorization": f"Bearer {terminal['authToken']}", "X-Device-Fingerprint": "burst-device-0001"}
    started = time.monotonic()
    answers = []
    for _ in range(2 * limit + 1):
        answer = session.get(f"{local_stack.api_base}/api/terminals/pull?wait=0", headers=headers, timeout=10)
        answers.append(answer.status_code)
        if answer.status_code != 200:
            break
    elapsed = time.monotonic() - started
    assert answer.status_code == 429, answers[-3:]
    assert answer.json() == {"code": "RATE_LIMITED", "message": answer.json()["message"]}
    assert 1 <= int(answer.headers["Retry-After"]) <= window
    admitted = len(answers) - 1
    assert limit <= admitted <= 2 * limit
    print(f"\n{admitted} pulls admitted before the 429, {elapsed / len(answers) * 1000:.1f} ms per pull")
    # Another terminal of the same owner is not slowed down.
    other = owner.create_terminal("not throttled")
    assert owner.pull(other["authToken"], "other-device-0001") == []
