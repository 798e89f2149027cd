"""The wire shape of every route's answer: status, field names, their order and the kind of each value.

Clients (the SPA, terminal agents, scripts) are written against these bodies; this pins them so a
refactor of the layers underneath cannot rename, drop, add or reorder a field unnoticed. The values
themselves are asserted by the tests of each route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from quantlink.api.contract import openapi_document

if TYPE_CHECKING:
    from conftest import QuantLink, Reply


# Objects keyed by an id (a map): the shape names the key's kind instead of the id itself.
MAPS = {"subscriptionSizing": "<strategyId>"}


def shape(value: Any) -> Any:
    """Field names in order with the kind of each value; a list shows the shape of its first item."""
    if isinstance(value, dict):
        return [
            (key, [(MAPS[key], shape(v)) for v in item.values()] if key in MAPS else shape(item))
            for key, item in value.items()
        ]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def exercise_every_route(ql: QuantLink) -> dict[str, Reply]:
    """Each route of template.yaml once (plus its main error answers), as a new owner meets them."""
    replies: dict[str, Reply] = {}
    replies["health"] = ql.call("owner_api/health")
    replies["config"] = ql.call("owner_api/config")
    replies["create_strategy"] = ql.owner_call("owner_api/create_strategy", "alice")
    strategy_id = replies["create_strategy"].body["strategyId"]
    token = replies["create_strategy"].body["webhookToken"]
    on_strategy = {"strategyId": strategy_id}
    replies["list_strategies"] = ql.owner_call("owner_api/list_strategies", "alice")
    replies["get_strategy"] = ql.owner_call("owner_api/get_strategy", "alice", path_params=on_strategy)
    replies["inject"] = ql.owner_call("owner_api/inject", "alice", path_params=on_strategy)
    body = {**ql.sample_body("owner_api/inject"), "rotateToken": True}
    replies["inject_rotating"] = ql.owner_call("owner_api/inject", "alice", path_params=on_strategy, body=body)
    token = replies["inject_rotating"].body["webhookToken"]
    replies["rotate_token"] = ql.owner_call("owner_api/rotate_token", "alice", path_params=on_strategy)
    token = replies["rotate_token"].body["webhookToken"]

    replies["register_terminal"] = ql.owner_call("owner_api/register_terminal", "alice")
    terminal_id = replies["register_terminal"].body["terminalId"]
    auth = replies["register_terminal"].body["authToken"]
    on_terminal = {"terminalId": terminal_id}
    replies["subscribe"] = ql.owner_call("owner_api/subscribe", "alice", path_params={**on_terminal, **on_strategy})
    replies["list_terminals"] = ql.owner_call("owner_api/list_terminals", "alice")
    replies["get_terminal"] = ql.owner_call("owner_api/get_terminal", "alice", path_params=on_terminal)

    webhook = {"Authorization": f"Bearer {token}"}
    signal = ql.signal_body(seq=1)
    replies["webhook_new"] = ql.call("webhook/signal", path_params=on_strategy, headers=webhook, body=signal)
    replies["webhook_duplicate"] = ql.call("webhook/signal", path_params=on_strategy, headers=webhook, body=signal)
    replies["webhook_positions"] = ql.call(
        "webhook/positions", path_params=on_strategy, headers=webhook, body=ql.sample_body("webhook/positions")
    )
    replies["webhook_unauthorized"] = ql.call("webhook/signal", path_params=on_strategy, body=signal)
    replies["webhook_too_large"] = ql.call(
        "webhook/signal", path_params=on_strategy, headers=webhook, body=b" " * (64 * 1024 + 1)
    )

    terminal = {"Authorization": f"Bearer {auth}", "X-Device-Fingerprint": ql.device}
    replies["pull"] = ql.call("terminal_pull/pull", query={"wait": "0"}, headers=terminal)
    pulled = replies["pull"].body["signals"][0]
    acks = [
        ql.executed(pulled),
        {"signalId": "sig_unknown", "ackToken": pulled["ackToken"], "status": "executed"},
        {"signalId": pulled["signalId"], "ackToken": "garbage", "status": "failed"},
    ]
    replies["ack"] = ql.call("terminal_ack/ack", headers=terminal, body={"acks": acks})
    replies["ack_invalid"] = ql.call("terminal_ack/ack", headers=terminal, body={"acks": []})
    replies["terminal_positions"] = ql.call(
        "terminal_ack/positions", headers=terminal, body=ql.sample_body("terminal_ack/positions")
    )
    other_device = {**terminal, "X-Device-Fingerprint": "another-device-0002"}
    replies["pull_taken_over"] = ql.call("terminal_pull/pull", query={"wait": "0"}, headers=other_device)

    replies["signals"] = ql.owner_call("owner_api/signals", "alice", path_params=on_strategy)
    replies["update_strategy"] = ql.owner_call("owner_api/update_strategy", "alice", path_params=on_strategy)
    held = ql.signal_body(seq=2)
    replies["webhook_held"] = ql.call("webhook/signal", path_params=on_strategy, headers=webhook, body=held)
    replies["update_invalid"] = ql.owner_call(
        "owner_api/update_strategy", "alice", path_params=on_strategy, body={"paused": "yes"}
    )
    replies["rotate_terminal_token"] = ql.owner_call(
        "owner_api/rotate_terminal_token", "alice", path_params=on_terminal
    )
    replies["release_device"] = ql.owner_call("owner_api/release_device", "alice", path_params=on_terminal)
    replies["unsubscribe"] = ql.owner_call("owner_api/unsubscribe", "alice", path_params={**on_terminal, **on_strategy})
    replies["not_found"] = ql.owner_call("owner_api/get_strategy", "bob", path_params=on_strategy)
    replies["unauthorized"] = ql.call("owner_api/list_strategies", claims=None)
    replies["invalid"] = ql.owner_call("owner_api/create_strategy", "alice", body={})
    replies["delete_terminal"] = ql.owner_call("owner_api/delete_terminal", "alice", path_params=on_terminal)
    replies["delete_strategy"] = ql.owner_call("owner_api/delete_strategy", "alice", path_params=on_strategy)
    exercise_the_other_sources(ql, replies)
    return replies


def exercise_the_other_sources(ql: QuantLink, replies: dict[str, Reply]) -> None:
    """QuantDinger's and TradingView's routes, and what creating and rotating their strategies answers."""
    created = ql.owner_call("owner_api/create_strategy", "alice", body={"name": "QD", "source": "quantdinger"})
    replies["create_quantdinger"] = created
    quantdinger = ql.create_source_strategy("quantdinger")
    on_quantdinger = {"strategyId": quantdinger.strategy_id}
    signal = ql.quantdinger_body()
    replies["quantdinger_new"] = ql.quantdinger(quantdinger, signal)
    replies["quantdinger_duplicate"] = ql.quantdinger(quantdinger, signal)
    replies["quantdinger_test"] = ql.quantdinger(quantdinger, {"event": "qd.profile_test", "version": 1})
    replies["quantdinger_short"] = ql.quantdinger(quantdinger, ql.quantdinger_body(signal={"type": "open_short"}))
    replies["quantdinger_bad_signature"] = ql.quantdinger(quantdinger, signal, secret="qds_wrong")
    replies["rotate_quantdinger"] = ql.owner_call("owner_api/rotate_token", "alice", path_params=on_quantdinger)

    replies["create_tradingview"] = ql.owner_call(
        "owner_api/create_strategy", "alice", body={"name": "TV", "source": "tradingview"}
    )
    tradingview = ql.create_source_strategy("tradingview")
    alert = ql.tradingview_body(tradingview)
    replies["tradingview_new"] = ql.tradingview(tradingview, alert)
    replies["tradingview_duplicate"] = ql.tradingview(tradingview, alert)
    replies["tradingview_unauthorized"] = ql.tradingview(tradingview, {**alert, "token": "qlw_wrong"})
    replies["rotate_tradingview"] = ql.owner_call(
        "owner_api/rotate_token", "alice", path_params={"strategyId": tradingview.strategy_id}
    )


ERROR = [("code", "str"), ("message", "str")]
INVALID = [*ERROR, ("details", [[("field", "str"), ("message", "str")]])]
STRATEGY = [("strategyId", "str"), ("name", "str"), ("webhookUrl", "str"), ("signalTtlSeconds", "int"),
            ("paused", "bool"), ("createdAt", "str"), ("source", "str")]  # fmt: skip
NEW_SIGNAL = [("signalId", "str"), ("duplicate", "bool"), ("deliveries", "int")]
DUPLICATE = [("signalId", "str"), ("duplicate", "bool")]
SIZING = [("mode", "str"), ("multiplier", "float")]
SUBSCRIBED = [("subscriptions", ["str"]), ("subscriptionSizing", [("<strategyId>", SIZING)])]
TERMINAL = [("terminalId", "str"), ("name", "str"), ("kind", "str"), ("deviceBound", "bool"),
            ("deviceBoundAt", "NoneType"), ("lastSeenAt", "NoneType"), ("createdAt", "str")]  # fmt: skip
RELEASED_TERMINAL = [("terminalId", "str"), ("name", "str"), ("kind", "str"), ("deviceBound", "bool"),
                     ("deviceBoundAt", "NoneType"), ("lastSeenAt", "str"), ("createdAt", "str")]  # fmt: skip
LEADER = [("totalValue", "float"), ("positionAfter", "float")]
DELIVERY = [("terminalId", "str"), ("status", "str"), ("receivedAt", "str"), ("queuedAt", "str"),
            ("pulledAt", "str"), ("executedAt", "str"), ("ackedAt", "str"), ("latencyMs", "int"),
            ("ackLatencyMs", "int"), ("brokerOrderId", "str"), ("filled", "float"), ("avgPrice", "float"),
            ("error", "NoneType")]  # fmt: skip
SIGNAL = [("signalId", "str"), ("strategyId", "str"), ("status", "str"), ("seq", "int"), ("security", "str"),
          ("sourceSecurity", "str"), ("side", "str"), ("amount", "int"), ("price", "float"), ("style", "str"),
          ("limitPrice", "NoneType"), ("sourceOrderId", "str"), ("leader", LEADER), ("runType", "str"),
          ("dt", "str"), ("sentAt", "str"), ("receivedAt", "str"), ("expiresAt", "str"),
          ("fannedOutAt", "str"), ("deliveries", [DELIVERY])]  # fmt: skip
PULLED = [("signalId", "str"), ("strategyId", "str"), ("seq", "int"), ("security", "str"),
          ("sourceSecurity", "str"), ("side", "str"), ("amount", "int"), ("price", "float"), ("style", "str"),
          ("limitPrice", "NoneType"), ("leader", LEADER), ("sizing", [("mode", "str"), ("multiplier", "float")]),
          ("createdAt", "str"), ("expiresAt", "str"), ("ackToken", "str")]  # fmt: skip

EXPECTED: dict[str, tuple[int, Any]] = {
    "health": (200, [("status", "str")]),
    "config": (200, [("region", "str"), ("cognito", [("endpoint", "str"), ("userPoolId", "str"),
                                                    ("clientId", "str")]), ("apiBase", "str")]),
    "create_strategy": (201, [*STRATEGY, ("webhookToken", "str")]),
    "list_strategies": (200, [("items", [STRATEGY])]),
    "get_strategy": (200, STRATEGY),
    "inject": (200, [("code", "str"), ("injected", "int"), ("warnings", ["str"])]),
    "inject_rotating": (200, [("code", "str"), ("injected", "int"), ("warnings", ["str"]), ("webhookToken", "str")]),
    "rotate_token": (200, [("webhookToken", "str")]),
    "register_terminal": (201, [*TERMINAL, ("authToken", "str")]),
    "subscribe": (200, [("terminalId", "str"), ("strategyId", "str"),
                        ("sizing", [("mode", "str"), ("multiplier", "float")])]),
    "list_terminals": (200, [("items", [[*TERMINAL, *SUBSCRIBED]])]),
    "get_terminal": (200, [*TERMINAL, *SUBSCRIBED]),
    "webhook_new": (202, [("signalId", "str"), ("duplicate", "bool"), ("deliveries", "int")]),
    "webhook_held": (202, [("signalId", "str"), ("duplicate", "bool"), ("deliveries", "int"), ("held", "bool")]),
    "webhook_duplicate": (200, [("signalId", "str"), ("duplicate", "bool")]),
    "webhook_positions": (202, [("accepted", "bool"), ("positions", "int")]),
    "webhook_unauthorized": (401, ERROR),
    "webhook_too_large": (413, ERROR),
    "pull": (200, [("signals", [PULLED])]),
    "ack": (200, [("results", [[("signalId", "str"), ("ok", "bool"), ("status", "str")]])]),
    "ack_invalid": (400, INVALID),
    "terminal_positions": (202, [("accepted", "bool"), ("positions", "int")]),
    "pull_taken_over": (409, ERROR),
    "signals": (200, [("items", [SIGNAL]), ("nextBefore", "NoneType")]),
    "update_strategy": (200, STRATEGY),
    "update_invalid": (400, INVALID),
    "delete_strategy": (204, "NoneType"),
    "rotate_terminal_token": (200, [("authToken", "str")]),
    "release_device": (200, RELEASED_TERMINAL),
    "unsubscribe": (204, "NoneType"),
    "not_found": (404, ERROR),
    "unauthorized": (401, ERROR),
    "invalid": (400, INVALID),
    "delete_terminal": (204, "NoneType"),
    "create_quantdinger": (201, [*STRATEGY, ("webhookToken", "str"), ("signingSecret", "str")]),
    "quantdinger_new": (202, NEW_SIGNAL),
    "quantdinger_duplicate": (200, DUPLICATE),
    "quantdinger_test": (200, [("ignored", "bool"), ("event", "str")]),
    "quantdinger_short": (400, INVALID),
    "quantdinger_bad_signature": (401, ERROR),
    "rotate_quantdinger": (200, [("webhookToken", "str"), ("signingSecret", "str")]),
    "create_tradingview": (201, [*STRATEGY, ("webhookToken", "str"), ("alertTemplate", "str")]),
    "tradingview_new": (202, NEW_SIGNAL),
    "tradingview_duplicate": (200, DUPLICATE),
    "tradingview_unauthorized": (401, ERROR),
    "rotate_tradingview": (200, [("webhookToken", "str"), ("alertTemplate", "str")]),
}  # fmt: skip


def test_every_answer_keeps_its_fields_their_order_and_kinds(ql: QuantLink) -> None:
    replies = exercise_every_route(ql)

    assert set(replies) == set(EXPECTED)
    for name, reply in replies.items():
        assert (reply.status, shape(reply.body)) == EXPECTED[name], name


def test_ack_results_that_fail_carry_a_code_and_a_message(ql: QuantLink) -> None:
    replies = exercise_every_route(ql)

    results = [shape(result) for result in replies["ack"].body["results"]]
    assert results == [
        [("signalId", "str"), ("ok", "bool"), ("status", "str")],
        [("signalId", "str"), ("ok", "bool"), ("code", "str"), ("message", "str")],
        [("signalId", "str"), ("ok", "bool"), ("code", "str"), ("message", "str")],
    ]


# Which operation each exercised answer came from.
ROUTE_OF = {
    "health": ("GET", "/api/health"),
    "config": ("GET", "/api/config"),
    "create_strategy": ("POST", "/api/strategies"),
    "invalid": ("POST", "/api/strategies"),
    "list_strategies": ("GET", "/api/strategies"),
    "unauthorized": ("GET", "/api/strategies"),
    "get_strategy": ("GET", "/api/strategies/{strategyId}"),
    "not_found": ("GET", "/api/strategies/{strategyId}"),
    "inject": ("POST", "/api/strategies/{strategyId}/inject"),
    "inject_rotating": ("POST", "/api/strategies/{strategyId}/inject"),
    "rotate_token": ("POST", "/api/strategies/{strategyId}/token"),
    "signals": ("GET", "/api/strategies/{strategyId}/signals"),
    "update_strategy": ("PATCH", "/api/strategies/{strategyId}"),
    "update_invalid": ("PATCH", "/api/strategies/{strategyId}"),
    "delete_strategy": ("DELETE", "/api/strategies/{strategyId}"),
    "webhook_held": ("POST", "/api/webhooks/joinquant/{strategyId}"),
    "register_terminal": ("POST", "/api/terminals"),
    "list_terminals": ("GET", "/api/terminals"),
    "get_terminal": ("GET", "/api/terminals/{terminalId}"),
    "delete_terminal": ("DELETE", "/api/terminals/{terminalId}"),
    "subscribe": ("PUT", "/api/terminals/{terminalId}/subscriptions/{strategyId}"),
    "unsubscribe": ("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}"),
    "rotate_terminal_token": ("POST", "/api/terminals/{terminalId}/token"),
    "release_device": ("POST", "/api/terminals/{terminalId}/release"),
    "webhook_new": ("POST", "/api/webhooks/joinquant/{strategyId}"),
    "webhook_duplicate": ("POST", "/api/webhooks/joinquant/{strategyId}"),
    "webhook_unauthorized": ("POST", "/api/webhooks/joinquant/{strategyId}"),
    "webhook_too_large": ("POST", "/api/webhooks/joinquant/{strategyId}"),
    "webhook_positions": ("POST", "/api/webhooks/joinquant/{strategyId}/positions"),
    "pull": ("GET", "/api/terminals/pull"),
    "pull_taken_over": ("GET", "/api/terminals/pull"),
    "ack": ("POST", "/api/terminals/ack"),
    "ack_invalid": ("POST", "/api/terminals/ack"),
    "terminal_positions": ("POST", "/api/terminals/positions"),
    "create_quantdinger": ("POST", "/api/strategies"),
    "rotate_quantdinger": ("POST", "/api/strategies/{strategyId}/token"),
    "quantdinger_new": ("POST", "/api/webhooks/quantdinger/{strategyId}"),
    "quantdinger_duplicate": ("POST", "/api/webhooks/quantdinger/{strategyId}"),
    "quantdinger_test": ("POST", "/api/webhooks/quantdinger/{strategyId}"),
    "quantdinger_short": ("POST", "/api/webhooks/quantdinger/{strategyId}"),
    "quantdinger_bad_signature": ("POST", "/api/webhooks/quantdinger/{strategyId}"),
    "create_tradingview": ("POST", "/api/strategies"),
    "rotate_tradingview": ("POST", "/api/strategies/{strategyId}/token"),
    "tradingview_new": ("POST", "/api/webhooks/tradingview/{strategyId}"),
    "tradingview_duplicate": ("POST", "/api/webhooks/tradingview/{strategyId}"),
    "tradingview_unauthorized": ("POST", "/api/webhooks/tradingview/{strategyId}"),
}


def test_every_answer_is_what_the_openapi_document_describes(ql: QuantLink) -> None:
    document = openapi_document()
    replies = exercise_every_route(ql)

    assert set(ROUTE_OF) == set(replies)
    for name, reply in replies.items():
        method, path = ROUTE_OF[name]
        responses = document["paths"][path][method.lower()]["responses"]
        assert str(reply.status) in responses, f"{name}: {reply.status} is not documented"
        content = responses[str(reply.status)].get("content")
        if content is None:
            assert reply.text == "", name
            continue
        schema = {"components": document["components"], **content["application/json"]["schema"]}
        errors = [error.message for error in Draft202012Validator(schema).iter_errors(reply.body)]
        assert errors == [], name


def test_every_answer_is_utf_8_json_that_no_cache_keeps(ql: QuantLink) -> None:
    # One encoder for the hot path's dispatch and the owner API's resolver: private answers (tokens,
    # timelines) must not be cached by a proxy or the browser.
    replies = exercise_every_route(ql)
    for name, reply in replies.items():
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8", name
        assert reply.headers["Cache-Control"] == "no-store", name
    assert "沪深300 轮动" in replies["list_strategies"].text  # UTF-8 as is, not \\u-escaped
