"""The owner API (Cognito-authorized) and its public routes, through the function's handler."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from quantlink.api import strategies
from quantlink_local.gateway import FunctionPool
from quantlink_local.template import Template

if TYPE_CHECKING:
    from conftest import QuantLink, StrategyCreds, TerminalCreds

API_BASE = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"


def strategy_path(strategy: StrategyCreds) -> dict[str, str]:
    return {"strategyId": strategy.strategy_id}


def terminal_path(terminal: TerminalCreds, strategy: StrategyCreds | None = None) -> dict[str, str]:
    params = {"terminalId": terminal.terminal_id}
    if strategy is not None:
        params["strategyId"] = strategy.strategy_id
    return params


def subscriptions(ql: QuantLink, terminal: TerminalCreds) -> list[dict[str, Any]]:
    """Both sides of the materialized subscription items of a terminal."""
    return [
        item
        for item in ql.stack.items()
        if item["sk"] == f"SUB#{terminal.terminal_id}"
        or (item["pk"] == f"TERMINAL#{terminal.terminal_id}" and item["sk"].startswith("SUB#"))
    ]


# ---- public routes -------------------------------------------------------------------------------


def test_health_answers_ok_without_credentials(ql: QuantLink) -> None:
    reply = ql.call("owner_api/health")

    assert (reply.status, reply.body) == (200, {"status": "ok"})


def test_config_tells_a_client_how_to_sign_in(ql: QuantLink) -> None:
    env = ql.stack.environment

    reply = ql.call("owner_api/config")

    assert reply.status == 200
    assert reply.body == {
        "region": env["REGION"],
        "cognito": {
            "endpoint": env["COGNITO_ENDPOINT"],
            "userPoolId": env["USER_POOL_ID"],
            "clientId": env["USER_POOL_CLIENT_ID"],
        },
        "apiBase": API_BASE,
        "push": {"url": env["PUSH_URL"]},  # the terminals' WebSocket (API.md, "Push")
    }
    assert reply.headers["Access-Control-Allow-Origin"] == env["CORS_ORIGIN"]


def test_the_openapi_document_lists_the_api(ql: QuantLink) -> None:
    reply = ql.call("owner_api/openapi")

    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.")
    assert "/api/webhooks/joinquant/{strategyId}" in reply.body["paths"]


@pytest.mark.parametrize(
    ("method", "resource"),
    [("GET", "/api/nothing-here"), ("PATCH", "/api/strategies"), ("GET", "/api/strategies/{strategyId}/x")],
)
def test_an_unknown_route_answers_the_api_404(ql: QuantLink, method: str, resource: str) -> None:
    reply = ql.owner_call("owner_api/list_strategies", "alice", method=method, resource=resource)

    assert reply.status == 404
    assert reply.body == {"code": "NOT_FOUND", "message": reply.body["message"]}


# ---- strategies ----------------------------------------------------------------------------------


def test_creating_a_strategy_shows_its_webhook_token_once_and_stores_only_the_hash(ql: QuantLink) -> None:
    reply = ql.owner_call("owner_api/create_strategy", "alice")

    assert reply.status == 201
    created = reply.body
    assert created["strategyId"].startswith("stg_") and created["name"] == "沪深300 轮动"
    assert created["webhookUrl"] == f"{API_BASE}/api/webhooks/joinquant/{created['strategyId']}"
    stored = ql.stack.items()
    assert created["webhookToken"] not in json.dumps(stored, ensure_ascii=False)
    (record,) = [i for i in stored if i["sk"] == "#META"]
    assert record["webhookTokenHash"] == hashlib.sha256(created["webhookToken"].encode()).hexdigest()


def test_listing_strategies_shows_only_the_callers_and_no_secrets(ql: QuantLink) -> None:
    mine = {ql.create_strategy("alice", name=n).strategy_id for n in ("one", "two")}
    ql.create_strategy("bob", name="bob's")

    reply = ql.owner_call("owner_api/list_strategies", "alice")

    assert reply.status == 200
    assert {item["strategyId"] for item in reply.body["items"]} == mine
    assert not any("webhookToken" in item or "webhookTokenHash" in item for item in reply.body["items"])


def test_getting_a_strategy(ql: QuantLink) -> None:
    strategy = ql.create_strategy(signalTtlSeconds=90)

    reply = ql.owner_call("owner_api/get_strategy", "alice", path_params=strategy_path(strategy))

    assert reply.status == 200
    assert (reply.body["strategyId"], reply.body["name"], reply.body["signalTtlSeconds"]) == (
        strategy.strategy_id,
        "Momentum",
        90,
    )
    assert "webhookToken" not in reply.body


def test_rotating_the_token_stops_the_old_one(ql: QuantLink) -> None:
    strategy = ql.create_strategy()

    reply = ql.owner_call("owner_api/rotate_token", "alice", path_params=strategy_path(strategy))

    assert reply.status == 200
    new_token = reply.body["webhookToken"]
    assert new_token != strategy.token
    assert ql.webhook(strategy, ql.signal_body(seq=1)).status == 401
    assert ql.webhook(strategy, ql.signal_body(seq=1), token=new_token).status == 202


@pytest.mark.parametrize(
    ("sample", "body"),
    [
        ("owner_api/get_strategy", None),
        ("owner_api/rotate_token", None),
        ("owner_api/signals", None),
        ("owner_api/inject", {"code": "def initialize(context):\n    pass\n"}),
        ("owner_api/update_strategy", {"name": "mine now", "paused": True}),
        ("owner_api/delete_strategy", None),
    ],
)
def test_another_owners_strategy_is_not_found_and_unchanged(ql: QuantLink, sample: str, body: Any) -> None:
    strategy = ql.create_strategy("alice")
    before = ql.stack.items()
    extra = {"body": body} if body is not None else {}

    reply = ql.owner_call(sample, "bob", path_params=strategy_path(strategy), **extra)
    unknown = ql.owner_call(sample, "alice", path_params={"strategyId": "stg_0000000000000000"}, **extra)

    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert reply.body == unknown.body  # someone else's strategy looks exactly like a missing one
    assert ql.stack.items() == before
    assert ql.webhook(strategy, ql.signal_body()).status == 202  # the token still works


def test_injecting_code_returns_the_instrumented_strategy(ql: QuantLink) -> None:
    strategy = ql.create_strategy()

    reply = ql.owner_call("owner_api/inject", "alice", path_params=strategy_path(strategy))

    assert reply.status == 200
    assert reply.body["injected"] == 1  # the sample's one order_target_value call
    assert f"{API_BASE}/api/webhooks/joinquant/{strategy.strategy_id}" in reply.body["code"]
    assert "<QUANTLINK_WEBHOOK_TOKEN>" in reply.body["code"]  # not rotated: the owner pastes the token
    assert reply.body["warnings"]
    assert ql.webhook(strategy, ql.signal_body()).status == 202  # the token still works


def test_injecting_with_rotate_token_embeds_a_new_token_and_stops_the_old_one(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    body = {**ql.sample_body("owner_api/inject"), "rotateToken": True}

    reply = ql.owner_call("owner_api/inject", "alice", path_params=strategy_path(strategy), body=body)

    assert reply.status == 200
    new_token = reply.body["webhookToken"]
    assert new_token in reply.body["code"] and new_token != strategy.token
    assert ql.webhook(strategy, ql.signal_body(seq=1)).status == 401
    assert ql.webhook(strategy, ql.signal_body(seq=1), token=new_token).status == 202


def test_injecting_code_that_does_not_parse_is_a_validation_error(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    before = ql.stack.items()

    reply = ql.owner_call(
        "owner_api/inject",
        "alice",
        path_params=strategy_path(strategy),
        body={"code": "def initialize(context:\n    pass\n", "rotateToken": True},
    )

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert "details" in reply.body
    # Nothing changed: in particular the token the running strategy uses was not rotated away.
    assert ql.stack.items() == before
    assert ql.webhook(strategy, ql.signal_body()).status == 202


def test_the_timeline_is_newest_first_and_pages_with_before(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    sent = [ql.send_signal(strategy, seq=seq)["signalId"] for seq in (1, 2, 3)]
    # Items that share the strategy's partition but are not signals stay out of the timeline.
    ql.call(
        "webhook/positions",
        path_params=strategy_path(strategy),
        headers={"Authorization": f"Bearer {strategy.token}"},
        body=ql.sample_body("webhook/positions"),
    )

    first = ql.owner_call("owner_api/signals", "alice", path_params=strategy_path(strategy), query={"limit": "2"}).body
    rest = ql.owner_call(
        "owner_api/signals",
        "alice",
        path_params=strategy_path(strategy),
        query={"limit": "2", "before": first["nextBefore"]},
    ).body

    assert [i["signalId"] for i in first["items"]] == [sent[2], sent[1]]
    assert [i["signalId"] for i in rest["items"]] == [sent[0]]
    assert rest["nextBefore"] is None
    for item in first["items"] + rest["items"]:
        assert [d["terminalId"] for d in item["deliveries"]] == [terminal.terminal_id]
        assert "dedupKey" not in item


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_a_timeline_limit_out_of_range_is_a_validation_error(ql: QuantLink, limit: str) -> None:
    strategy = ql.create_strategy()

    reply = ql.owner_call("owner_api/signals", "alice", path_params=strategy_path(strategy), query={"limit": limit})

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert reply.body["details"][0]["field"] == "query.limit"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no name"),
        pytest.param({"name": ""}, id="empty name"),
        pytest.param({"name": "x" * 101}, id="name too long"),
        pytest.param({"name": "ok", "signalTtlSeconds": 1}, id="ttl too short"),
        pytest.param([{"name": "ok"}], id="a list"),
        pytest.param(b'{"name": ', id="truncated JSON"),
        pytest.param(b"", id="empty body"),
        pytest.param(b"\xff\xfe\x00n\x00a\x00m\x00e", id="not UTF-8"),
    ],
)
def test_an_invalid_strategy_body_is_a_validation_error(ql: QuantLink, body: Any) -> None:
    before = ql.stack.items()

    reply = ql.owner_call("owner_api/create_strategy", "alice", body=body)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert "details" in reply.body
    assert ql.stack.items() == before


def test_an_owner_body_over_1_mib_is_refused_with_413(ql: QuantLink) -> None:
    before = ql.stack.items()

    reply = ql.owner_call("owner_api/create_strategy", "alice", body={"name": "x" * (1024 * 1024)})

    assert (reply.status, reply.error_code()) == (413, "PAYLOAD_TOO_LARGE")
    assert ql.stack.items() == before


# ---- terminals -----------------------------------------------------------------------------------


def test_registering_a_terminal_creates_its_fifo_queue_and_shows_the_token_once(ql: QuantLink) -> None:
    reply = ql.owner_call("owner_api/register_terminal", "alice")

    assert reply.status == 201
    created = reply.body
    assert created["name"] == "Home PC (miniQMT)" and created["deviceBound"] is False
    assert created["authToken"].startswith(f"{created['terminalId']}.")
    attributes = ql.stack.sqs.get_queue_attributes(
        QueueUrl=ql.stack.queue_url(created["terminalId"]), AttributeNames=["All"]
    )["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert created["authToken"] not in json.dumps(ql.stack.items())


def test_listing_terminals_shows_only_the_callers_with_device_state(ql: QuantLink) -> None:
    seen = ql.register_terminal("alice", name="seen")
    never = ql.register_terminal("alice", name="never")
    ql.register_terminal("bob")
    assert ql.pulled(seen) == []

    reply = ql.owner_call("owner_api/list_terminals", "alice")

    by_id = {item["terminalId"]: item for item in reply.body["items"]}
    assert set(by_id) == {seen.terminal_id, never.terminal_id}
    assert by_id[seen.terminal_id]["deviceBound"] is True and by_id[seen.terminal_id]["lastSeenAt"]
    assert by_id[never.terminal_id]["deviceBound"] is False and by_id[never.terminal_id]["lastSeenAt"] is None
    assert not any("authToken" in item or "authTokenHash" in item for item in reply.body["items"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"kind": "qmt"}, id="no name"),
        pytest.param({"name": "PC", "kind": "mt5"}, id="unknown kind"),
        pytest.param(b"not json", id="not JSON"),
    ],
)
def test_an_invalid_terminal_body_is_a_validation_error_and_creates_no_queue(ql: QuantLink, body: Any) -> None:
    before = ql.stack.items()

    reply = ql.owner_call("owner_api/register_terminal", "alice", body=body)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert ql.stack.items() == before
    assert ql.stack.sqs.list_queues().get("QueueUrls", []) == []


def test_subscribing_materializes_both_sides_and_delivers_signals(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    terminal = ql.register_terminal()

    reply = ql.subscribe(terminal, strategy, {"sizing": {"mode": "ratio", "multiplier": 0.5}})

    assert reply.status == 200
    assert reply.body == {
        "terminalId": terminal.terminal_id,
        "strategyId": strategy.strategy_id,
        "sizing": {"mode": "ratio", "multiplier": 0.5},
    }
    assert len(subscriptions(ql, terminal)) == 2
    assert ql.terminal_view(terminal)["subscriptions"] == [strategy.strategy_id]
    assert ql.send_signal(strategy)["deliveries"] == 1


def test_the_subscription_body_is_optional(ql: QuantLink) -> None:
    strategy = ql.create_strategy()
    terminal = ql.register_terminal()

    reply = ql.subscribe(terminal, strategy, body=None)

    assert reply.status == 200 and reply.body["sizing"] == {"mode": "ratio", "multiplier": 1.0}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"sizing": {"mode": "martingale"}}, id="unknown mode"),
        pytest.param({"sizing": {"multiplier": 0}}, id="zero multiplier"),
        pytest.param({"sizing": {"multiplier": 101}}, id="multiplier too large"),
        pytest.param({"sizing": {"mode": "ratio", "leverage": 3}}, id="unknown sizing field"),
        pytest.param(b"{", id="truncated JSON"),
    ],
)
def test_an_invalid_subscription_body_is_a_validation_error(ql: QuantLink, body: Any) -> None:
    strategy = ql.create_strategy()
    terminal = ql.register_terminal()
    before = ql.stack.items()

    reply = ql.subscribe(terminal, strategy, body)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert ql.stack.items() == before


def test_subscribing_to_another_owners_strategy_is_not_found(ql: QuantLink) -> None:
    theirs = ql.create_strategy("bob")
    mine = ql.register_terminal("alice")
    before = ql.stack.items()

    reply = ql.subscribe(mine, theirs)

    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert ql.stack.items() == before
    assert ql.send_signal(theirs)["deliveries"] == 0


def test_subscribing_another_owners_terminal_is_not_found(ql: QuantLink) -> None:
    mine = ql.create_strategy("alice")
    theirs = ql.register_terminal("bob")
    before = ql.stack.items()

    reply = ql.owner_call("owner_api/subscribe", "alice", path_params=terminal_path(theirs, mine), body=None)

    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert ql.stack.items() == before


def test_unsubscribing_stops_delivery(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()

    reply = ql.owner_call("owner_api/unsubscribe", "alice", path_params=terminal_path(terminal, strategy))

    assert (reply.status, reply.text) == (204, "")
    assert subscriptions(ql, terminal) == []
    assert ql.send_signal(strategy)["deliveries"] == 0
    assert ql.stack.queue_depth(terminal.terminal_id) == 0


def test_another_owner_cannot_unsubscribe_my_terminal(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked("alice")
    before = ql.stack.items()

    reply = ql.owner_call("owner_api/unsubscribe", "bob", path_params=terminal_path(terminal, strategy))

    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert ql.stack.items() == before


def test_deleting_a_terminal_removes_its_queue_subscriptions_and_token(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    assert ql.pulled(terminal) == []

    reply = ql.owner_call("owner_api/delete_terminal", "alice", path_params=terminal_path(terminal))

    assert (reply.status, reply.text) == (204, "")
    assert not ql.stack.queue_exists(terminal.terminal_id)
    assert not [i for i in ql.stack.items() if terminal.terminal_id in i["pk"] + i["sk"]]
    assert ql.send_signal(strategy)["deliveries"] == 0
    assert ql.pull(terminal).status == 401


def test_deleting_a_terminal_with_a_holdings_report_removes_it_too(ql: QuantLink) -> None:
    terminal = ql.register_terminal()
    ql.call(
        "terminal_ack/positions",
        headers={"Authorization": f"Bearer {terminal.token}"},
        body=ql.sample_body("terminal_ack/positions"),
    )

    reply = ql.owner_call("owner_api/delete_terminal", "alice", path_params=terminal_path(terminal))

    assert reply.status == 204
    assert ql.stack.items_under(f"TERMINAL#{terminal.terminal_id}") == []


def test_releasing_the_device_unbinds_it(ql: QuantLink) -> None:
    terminal = ql.register_terminal()
    assert ql.pulled(terminal) == []

    reply = ql.owner_call("owner_api/release_device", "alice", path_params=terminal_path(terminal))

    assert reply.status == 200
    assert (reply.body["terminalId"], reply.body["deviceBound"]) == (terminal.terminal_id, False)
    assert ql.terminal_view(terminal)["deviceBound"] is False


def test_rotating_a_terminal_token_stops_the_old_one_and_keeps_the_device(ql: QuantLink) -> None:
    # Given a terminal whose device is bound (the first pull claims it)
    terminal = ql.register_terminal()
    assert ql.pulled(terminal) == []

    # When the owner rotates its token (it leaked)
    reply = ql.owner_call("owner_api/rotate_terminal_token", "alice", path_params=terminal_path(terminal))

    # Then the old token is refused, the new one works from the same device, and the binding stays
    assert reply.status == 200
    new_token = reply.body["authToken"]
    assert new_token != terminal.token and new_token.startswith(f"{terminal.terminal_id}.")
    old = ql.pull(terminal)
    assert (old.status, old.error_code()) == (401, "UNAUTHORIZED")
    rotated = dataclasses.replace(terminal, token=new_token)
    assert ql.pulled(rotated) == []
    assert ql.terminal_view(rotated)["deviceBound"] is True


@pytest.mark.parametrize(
    "sample",
    [
        "owner_api/get_terminal",
        "owner_api/delete_terminal",
        "owner_api/release_device",
        "owner_api/rotate_terminal_token",
    ],
)
def test_another_owners_terminal_is_not_found_and_unchanged(ql: QuantLink, sample: str) -> None:
    terminal = ql.register_terminal("alice")
    assert ql.pulled(terminal) == []  # bound, so a release would show
    before = ql.stack.items()

    reply = ql.owner_call(sample, "bob", path_params=terminal_path(terminal))
    unknown = ql.owner_call(sample, "alice", path_params={"terminalId": "trm_0000000000000000"})

    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert reply.body == unknown.body
    assert ql.stack.items() == before
    assert ql.stack.queue_exists(terminal.terminal_id)
    assert ql.pull(terminal).status == 200


# ---- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample",
    [
        "owner_api/create_strategy",
        "owner_api/list_strategies",
        "owner_api/get_strategy",
        "owner_api/update_strategy",
        "owner_api/delete_strategy",
        "owner_api/rotate_token",
        "owner_api/inject",
        "owner_api/signals",
        "owner_api/register_terminal",
        "owner_api/list_terminals",
        "owner_api/get_terminal",
        "owner_api/delete_terminal",
        "owner_api/subscribe",
        "owner_api/unsubscribe",
        "owner_api/release_device",
        "owner_api/rotate_terminal_token",
    ],
)
@pytest.mark.parametrize("claims", [None, {"email": "nobody@example.com"}], ids=["no authorizer", "no sub"])
def test_an_owner_route_without_a_subject_claim_is_unauthorized(
    ql: QuantLink, sample: str, claims: dict[str, str] | None
) -> None:
    before = ql.stack.items()

    reply = ql.call(sample, claims=claims)

    assert (reply.status, reply.error_code()) == (401, "UNAUTHORIZED")
    assert ql.stack.items() == before
    assert ql.stack.sqs.list_queues().get("QueueUrls", []) == []


# ---- answers a browser can read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "owner", "overrides", "status"),
    [
        pytest.param("owner_api/list_strategies", "alice", {}, 200, id="200"),
        pytest.param("owner_api/create_strategy", "alice", {"body": {}}, 400, id="400"),
        pytest.param("owner_api/list_strategies", None, {}, 401, id="401"),
        pytest.param("owner_api/get_strategy", "alice", {}, 404, id="404"),
    ],
)
def test_every_owner_api_answer_carries_the_cors_origin(
    ql: QuantLink, sample: str, owner: str | None, overrides: dict[str, Any], status: int
) -> None:
    # The SPA is served from another origin (the S3 website): without the header the browser hides
    # the error body, and the SPA cannot tell "signed out" from "invalid" from "network down".
    claims = ql.claims(owner) if owner else None

    reply = ql.call(sample, claims=claims, **overrides)

    assert reply.status == status
    assert reply.headers.get("Access-Control-Allow-Origin") == ql.stack.environment["CORS_ORIGIN"]


# ---- the local gateway's execution environments ----------------------------------------------------


def test_overlapping_owner_requests_on_the_local_gateway_each_answer_for_their_own_caller(
    ql: QuantLink, template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local gateway loads a second environment of a function when two requests overlap. The
    owner API's Powertools routers are module-level singletons whose request state (current_event,
    context) points at the resolver loaded last, so environments in one process must not overlap."""
    routers = [
        module.router
        for name, module in list(sys.modules.items())
        if name.startswith("quantlink.api.") and isinstance(getattr(module, "router", None), Router)
    ]
    for router in routers:
        monkeypatch.setattr(router, "api_resolver", router.api_resolver)  # undo the pool's re-pointing
    (spec,) = [s for s in template.functions() if s.logical_id == "OwnerApiFunction"]
    pool = FunctionPool(spec)
    mine = ql.create_strategy("alice").strategy_id
    theirs = ql.create_strategy("bob").strategy_id
    alice = ql.event("owner_api/list_strategies", claims=ql.claims("alice"))
    bob = ql.event("owner_api/list_strategies", claims=ql.claims("bob"))
    bob_done = threading.Event()
    real_api_base = strategies.api_base

    def api_base_waiting_for_bob(router: Any) -> str:
        if threading.current_thread().name == "alice":
            # Hold alice's request open while bob's runs. The bound only matters once requests
            # are serialized (bob then waits for alice): it keeps that case from deadlocking.
            bob_done.wait(timeout=1)
        return real_api_base(router)

    monkeypatch.setattr(strategies, "api_base", api_base_waiting_for_bob)
    answers: dict[str, dict[str, Any]] = {}

    def invoke_as_alice() -> None:
        answers["alice"] = pool.invoke(alice)

    def invoke_as_bob() -> None:
        answers["bob"] = pool.invoke(bob)
        bob_done.set()

    first = threading.Thread(target=invoke_as_alice, name="alice")
    first.start()
    second = threading.Thread(target=invoke_as_bob, name="bob")
    second.start()
    second.join()
    first.join()
    answers["alice again"] = pool.invoke(alice)

    def listed(answer: dict[str, Any]) -> tuple[int, set[str]]:
        items = json.loads(answer["body"]).get("items", []) if answer["statusCode"] == 200 else []
        return answer["statusCode"], {item["strategyId"] for item in items}

    assert listed(answers["bob"]) == (200, {theirs})
    assert listed(answers["alice"]) == (200, {mine})
    assert listed(answers["alice again"]) == (200, {mine})
