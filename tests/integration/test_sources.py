"""POST /api/webhooks/quantdinger/{strategyId} and /api/webhooks/tradingview/{strategyId}, in-process on moto:
creating each kind of strategy, authentication, signatures, dedup, refusals, and what a terminal pulls."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from quantlink.ids import hash_secret
from quantlink.observability import logger

if TYPE_CHECKING:
    from conftest import QuantLink, StrategyCreds, TerminalCreds


@pytest.fixture
def quantdinger(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy = ql.create_source_strategy("quantdinger")
    terminal = ql.register_terminal()
    assert ql.subscribe(terminal, strategy).status == 200
    return strategy, terminal


@pytest.fixture
def tradingview(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy = ql.create_source_strategy("tradingview")
    terminal = ql.register_terminal()
    assert ql.subscribe(terminal, strategy).status == 200
    return strategy, terminal


def now_seconds() -> int:
    return int(datetime.now(UTC).timestamp())


# ---- creating, reading, rotating ----------------------------------------------------------------


def test_a_quantdinger_strategy_shows_its_signing_secret_once_and_its_own_webhook_url(ql: QuantLink) -> None:
    created = ql.owner_call("owner_api/create_strategy", "alice", body={"name": "QD", "source": "quantdinger"}).body
    strategy_id = created["strategyId"]

    assert created["source"] == "quantdinger" and created["signingSecret"].startswith("qds_")
    assert created["webhookUrl"].endswith(f"/api/webhooks/quantdinger/{strategy_id}")
    read = ql.owner_call("owner_api/get_strategy", "alice", path_params={"strategyId": strategy_id})
    listed = ql.owner_call("owner_api/list_strategies", "alice")
    assert created["signingSecret"] not in read.text + listed.text  # never again after creation
    assert read.body["source"] == "quantdinger"
    record = ql.stack.item(f"STRATEGY#{strategy_id}", "#META")
    assert record is not None and record["webhookTokenHash"] == hash_secret(created["webhookToken"])
    assert created["webhookToken"] not in json.dumps(record)
    assert created["signingSecret"] not in json.dumps(record)  # sealed under the token (quantlink.sealing)
    assert record["sealedSigningSecret"].startswith("v1.")


def test_a_tradingview_strategy_shows_the_alert_message_to_paste_with_its_token(ql: QuantLink) -> None:
    created = ql.owner_call("owner_api/create_strategy", "alice", body={"name": "TV", "source": "tradingview"}).body

    template = json.loads(created["alertTemplate"])
    assert template["token"] == created["webhookToken"] and template["ticker"] == "{{exchange}}:{{ticker}}"
    assert created["webhookUrl"].endswith(f"/api/webhooks/tradingview/{created['strategyId']}")
    assert "signingSecret" not in created


def test_an_unknown_source_is_refused(ql: QuantLink) -> None:
    reply = ql.owner_call("owner_api/create_strategy", "alice", body={"name": "x", "source": "ricequant"})
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert reply.body["details"][0]["field"] == "source"


def test_rotating_a_quantdinger_token_rotates_its_signing_secret_too(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, _ = quantdinger
    rotated = ql.owner_call("owner_api/rotate_token", "alice", path_params={"strategyId": strategy.strategy_id}).body
    fresh = type(strategy)(strategy.strategy_id, rotated["webhookToken"], "alice", rotated["signingSecret"])

    assert ql.quantdinger(strategy, ql.quantdinger_body()).status == 401  # the old token and secret
    signed_with_old_secret = type(strategy)(strategy.strategy_id, fresh.token, "alice", strategy.signing_secret)
    assert ql.quantdinger(signed_with_old_secret, ql.quantdinger_body()).status == 401
    assert ql.quantdinger(fresh, ql.quantdinger_body()).status == 202


def test_only_a_joinquant_strategy_is_injected_into(ql: QuantLink) -> None:
    strategy = ql.create_source_strategy("quantdinger")
    reply = ql.owner_call("owner_api/inject", "alice", path_params={"strategyId": strategy.strategy_id})
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")


def test_ratio_sizing_is_refused_for_a_source_without_a_portfolio_value_and_mirror_is_the_default(
    ql: QuantLink,
) -> None:
    strategy = ql.create_source_strategy("tradingview")
    terminal = ql.register_terminal()

    refused = ql.subscribe(terminal, strategy, {"sizing": {"mode": "ratio"}})
    assert (refused.status, refused.error_code()) == (400, "VALIDATION_ERROR")
    assert "portfolio value" in refused.body["message"]
    assert ql.terminal_view(terminal)["subscriptions"] == []
    default = ql.subscribe(terminal, strategy)
    assert (default.status, default.body["sizing"]) == (200, {"mode": "mirror", "multiplier": 1.0})
    fixed = ql.subscribe(terminal, strategy, {"sizing": {"mode": "fixed", "multiplier": 0.5}})
    assert fixed.body["sizing"] == {"mode": "fixed", "multiplier": 0.5}


# ---- QuantDinger ---------------------------------------------------------------------------------


def test_a_quantdinger_signal_is_relayed_to_the_terminal(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = quantdinger

    reply = ql.quantdinger(strategy, ql.quantdinger_body())

    assert reply.status == 202 and reply.body["deliveries"] == 1
    (pulled,) = ql.pulled(terminal)
    # 12,624 CNY at 10.52 = 1,200 shares
    assert (pulled["security"], pulled["sourceSecurity"], pulled["side"], pulled["amount"]) == (
        "600000.SH", "600000.SH", "buy", 1200
    )  # fmt: skip
    assert (pulled["seq"], pulled["price"], pulled["sizing"]["mode"]) == (1187, 10.52, "mirror")
    assert "closeAll" not in pulled
    (signal,) = ql.timeline(strategy)
    assert (signal["sourceOrderId"], signal["runType"]) == ("1187", "signal")


def test_close_long_is_carried_as_close_all(ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = quantdinger

    reply = ql.quantdinger(strategy, ql.quantdinger_body(signal={"type": "close_long", "action": "close"}))

    assert reply.status == 202
    (pulled,) = ql.pulled(terminal)
    assert (pulled["side"], pulled["closeAll"]) == ("sell", True)
    (signal,) = ql.timeline(strategy)
    assert signal["closeAll"] is True


def test_a_re_send_with_a_new_timestamp_is_a_duplicate(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = quantdinger
    first = ql.quantdinger(strategy, ql.quantdinger_body(timestamp=now_seconds() - 60), timestamp=now_seconds() - 60)

    resent = ql.quantdinger(strategy, ql.quantdinger_body(timestamp=now_seconds()))

    assert first.status == 202
    assert resent.status == 200 and resent.body == {"signalId": first.body["signalId"], "duplicate": True}
    assert len(ql.stack.signals(strategy.strategy_id)) == 1
    assert len(ql.pulled(terminal)) == 1


def test_two_pending_orders_are_two_signals(ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = quantdinger
    body = ql.quantdinger_body()

    one = ql.quantdinger(strategy, body)
    two = ql.quantdinger(strategy, {**body, "trace": {"pending_order_id": 1188, "mode": "signal"}})

    assert (one.status, two.status) == (202, 202) and one.body["signalId"] != two.body["signalId"]
    assert [s["seq"] for s in ql.pulled(terminal)] == [1187, 1188]


@pytest.mark.parametrize(
    ("case", "secret", "timestamp_offset"),
    [("wrong secret", "qds_wrong", 0), ("stale", None, -301), ("from the future", None, 301), ("unsigned", "-", 0)],
)
def test_a_bad_stale_or_missing_signature_is_401_and_writes_nothing(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds], case: str, secret: str | None,
    timestamp_offset: int,
) -> None:  # fmt: skip
    strategy, terminal = quantdinger
    before = ql.stack.items()
    key: Any = strategy.signing_secret if secret is None else (None if secret == "-" else secret)

    reply = ql.quantdinger(strategy, ql.quantdinger_body(), secret=key, timestamp=now_seconds() + timestamp_offset)

    assert (reply.status, reply.error_code()) == (401, "UNAUTHORIZED"), case
    assert ql.stack.items() == before and ql.stack.queue_depth(terminal.terminal_id) == 0


def test_a_wrong_bearer_token_is_401_even_with_a_good_signature(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, _ = quantdinger
    reply = ql.quantdinger(strategy, ql.quantdinger_body(), headers={"Authorization": "Bearer qlw_wrong"})
    assert reply.status == 401


def test_the_test_button_answers_200_and_other_events_are_ignored_with_200(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = quantdinger
    test_event = {"event": "qd.profile_test", "version": 1, "title": "QuantDinger notification test", "trace": {}}

    tested = ql.quantdinger(strategy, test_event)
    other = ql.quantdinger(strategy, {"event": "qd.strategy_stopped", "version": 1})

    assert (tested.status, tested.body) == (200, {"ignored": True, "event": "qd.profile_test"})
    assert (other.status, other.body) == (200, {"ignored": True, "event": "qd.strategy_stopped"})
    assert ql.stack.signals(strategy.strategy_id) == [] and ql.pulled(terminal) == []


def test_a_short_is_400_and_writes_nothing(ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, _ = quantdinger
    before = ql.stack.items()

    reply = ql.quantdinger(strategy, ql.quantdinger_body(signal={"type": "open_short", "side": "short"}))

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert "cannot short" in reply.body["message"] and ql.stack.items() == before


def test_a_bare_code_is_relayed_in_exchange_form(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = quantdinger
    ql.quantdinger(strategy, ql.quantdinger_body(instrument={"symbol": "300750"}))
    (pulled,) = ql.pulled(terminal)
    assert (pulled["security"], pulled["sourceSecurity"]) == ("300750.SZ", "300750")


def test_a_joinquant_webhook_for_a_quantdinger_strategy_is_refused(
    ql: QuantLink, quantdinger: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, _ = quantdinger
    reply = ql.webhook(strategy, ql.signal_body())
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert "/api/webhooks/quantdinger/" in reply.body["message"]


# ---- TradingView ---------------------------------------------------------------------------------


def test_a_tradingview_alert_with_the_token_in_the_body_is_relayed(
    ql: QuantLink, tradingview: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = tradingview

    reply = ql.tradingview(strategy, ql.tradingview_body(strategy))

    assert reply.status == 202
    (pulled,) = ql.pulled(terminal)
    assert (pulled["security"], pulled["sourceSecurity"], pulled["side"], pulled["amount"], pulled["price"]) == (
        "600000.SH", "SSE:600000", "buy", 1200, 10.52
    )  # fmt: skip


def test_the_token_may_travel_in_the_query_string_instead(
    ql: QuantLink, tradingview: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, _ = tradingview
    body = {k: v for k, v in ql.tradingview_body(strategy).items() if k != "token"}

    assert ql.tradingview(strategy, body, query={"token": strategy.token}).status == 202
    assert ql.tradingview(strategy, body, query={"token": "qlw_wrong"}).status == 401
    assert ql.tradingview(strategy, body).status == 401


def test_identical_tradingview_bodies_dedup(ql: QuantLink, tradingview: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, terminal = tradingview
    alert = ql.tradingview_body(strategy)

    first = ql.tradingview(strategy, alert)
    retry = ql.tradingview(strategy, alert)
    next_alert = ql.tradingview(strategy, {**alert, "time": "2026-11-20T01:32:00Z"})

    assert (first.status, retry.status, next_alert.status) == (202, 200, 202)
    assert retry.body == {"signalId": first.body["signalId"], "duplicate": True}
    assert len(ql.pulled(terminal)) == 2


def test_a_tradingview_sell_to_flat_is_close_all_and_a_short_is_refused(
    ql: QuantLink, tradingview: tuple[StrategyCreds, TerminalCreds]
) -> None:
    strategy, terminal = tradingview
    flat = ql.tradingview_body(strategy, action="sell", marketPosition="flat", positionSize="0")
    short = ql.tradingview_body(strategy, action="sell", marketPosition="short", positionSize="-100")

    assert ql.tradingview(strategy, flat).status == 202
    assert ql.tradingview(strategy, short).status == 400
    (pulled,) = ql.pulled(terminal)
    assert (pulled["side"], pulled["closeAll"]) == ("sell", True)


def test_the_token_is_never_logged(ql: QuantLink, tradingview: tuple[StrategyCreds, TerminalCreds]) -> None:
    strategy, _ = tradingview
    log = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(log)  # type: ignore[attr-defined]
    paused = ql.owner_call(
        "owner_api/update_strategy", "alice", path_params={"strategyId": strategy.strategy_id}, body={"paused": True}
    )
    assert paused.status == 200  # a held signal is logged: the log is not empty

    assert ql.tradingview(strategy, ql.tradingview_body(strategy)).status == 202
    ql.tradingview(strategy, ql.tradingview_body(strategy, contracts="{{strategy.order.contracts}}"))
    ql.tradingview(strategy, {"ticker": "SSE:600000"}, query={"token": strategy.token})
    ql.tradingview(strategy, {"token": strategy.token + "x"})

    handler.setStream(previous)  # type: ignore[attr-defined]
    assert "held: the strategy is paused" in log.getvalue()
    assert strategy.token not in log.getvalue()
