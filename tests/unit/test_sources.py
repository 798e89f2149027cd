"""The source adapters (quantlink.sources) on their own: recorded-shape QuantDinger and TradingView bodies in,
normalized signals and dedup keys out; signatures, refusals, and the A-share code table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quantlink import sealing
from quantlink.errors import Unauthorized, ValidationFailed
from quantlink.http import Request
from quantlink.models import CreateStrategyBody, Sizing, SizingMode, Strategy
from quantlink.securities import a_share_security, infer_exchange, round_down_to_lot
from quantlink.sources import SOURCES, check_source, joinquant, quantdinger, sizing_for, tradingview

NOW = datetime(2026, 11, 20, 1, 31, 5, tzinfo=UTC)
SECRET = "qds_unit-test-secret"
MAX_BYTES = 64 * 1024


TOKEN = "qlw_token"


def strategy(source: str, secret: str | None = None) -> Strategy:
    return Strategy(
        strategy_id="stg_unit",
        owner_id="alice",
        name="s",
        webhook_token_hash="h",
        source=source,
        sealed_signing_secret=None if secret is None else sealing.seal(TOKEN, "stg_unit", secret),
        created_at=NOW,
    )


def qd_body(signal_type: str = "open_long", **changes: Any) -> dict[str, Any]:
    """What QuantDinger's generic webhook sender posts in signal mode (its _build_payload + display)."""
    action = signal_type.split("_")[0]
    body: dict[str, Any] = {
        "event": "qd.signal",
        "version": 1,
        "timestamp": int(NOW.timestamp()),
        "timestamp_iso": NOW.isoformat(),
        "timestamp_display": "2026-11-20 09:31:05",
        "time_label": "Time (Asia/Shanghai)",
        "strategy": {"id": 42, "name": "CN momentum"},
        "instrument": {"symbol": "600000.SH"},
        "signal": {"type": signal_type, "action": action, "side": "long", "direction": "long"},
        "order": {"ref_price": 10.0, "stake_amount": 12_345.0},
        "trace": {"pending_order_id": 1187, "mode": "signal"},
        "extra": {"pending_order_id": 1187, "mode": "signal"},
        "display": {"template": "signal.trade", "params": {"symbol": "600000.SH"}},
    }
    for key, value in changes.items():
        body[key] = {**body[key], **value} if isinstance(value, dict) and isinstance(body.get(key), dict) else value
    return body


def raw(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def qd_request(body: Any, *, at: datetime = NOW, secret: str | None = SECRET, **headers: str) -> Request:
    data = body if isinstance(body, bytes) else raw(body)
    signed: dict[str, str] = {"authorization": "Bearer qlw_token"}
    if secret is not None:
        timestamp = str(int(at.timestamp()))
        signed |= {"x-qd-timestamp": timestamp, "x-qd-signature": quantdinger.signature(secret, timestamp, data)}
    signed |= {name.replace("_", "-").lower(): value for name, value in headers.items()}
    return Request("POST", "/api/webhooks/quantdinger/{strategyId}", signed, {}, {}, data)


def qd_parse(body: Any, **kwargs: Any) -> quantdinger.Parsed:
    return quantdinger.parse(qd_request(body, **kwargs), strategy("quantdinger", SECRET), MAX_BYTES, NOW)


# ---- QuantDinger: every signal type ------------------------------------------------------------


@pytest.mark.parametrize(
    ("signal_type", "side", "amount", "close_all"),
    [
        ("open_long", "buy", 1200, False),  # 12,345 / 10 = 1,234.5 shares -> 1,200 (whole lots)
        ("add_long", "buy", 1200, False),
        ("reduce_long", "sell", 1200, False),
        ("close_long", "sell", 1234, True),  # closeAll: the count is for reference, not lot-rounded
    ],
)
def test_each_long_signal_type_becomes_a_buy_or_a_sell_of_whole_lots(
    signal_type: str, side: str, amount: int, close_all: bool
) -> None:
    (signal,) = qd_parse(qd_body(signal_type)).signals

    order = signal.order
    assert (order.side, order.amount, signal.close_all) == (side, amount, close_all)
    assert (order.security, order.source_security, order.price, order.style) == (
        "600000.SH",
        "600000.SH",
        10.0,
        "market",
    )
    assert (order.source_order_id, signal.seq, signal.run_type) == ("1187", 1187, "signal")
    assert signal.leader.total_value is None  # QuantDinger sends no portfolio value


def test_a_zero_reference_price_means_the_stake_is_the_share_count() -> None:
    (signal,) = qd_parse(qd_body(order={"ref_price": 0, "stake_amount": 350.0})).signals
    assert (signal.order.amount, signal.order.price) == (300, None)


def test_star_market_and_bse_buys_round_down_to_their_own_lot_rules() -> None:
    star = qd_body(instrument={"symbol": "688981"}, order={"ref_price": 0, "stake_amount": 250.0})
    bse = qd_body(instrument={"symbol": "430047.BJ"}, order={"ref_price": 0, "stake_amount": 101.0})
    assert qd_parse(star).signals[0].order.amount == 250  # STAR: at least 200, then any count
    assert qd_parse(bse).signals[0].order.amount == 101


def test_an_order_below_one_lot_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        qd_parse(qd_body(order={"ref_price": 10.0, "stake_amount": 900.0}))
    assert refused.value.details == [{"field": "order.stake_amount", "message": "less than one lot"}]


@pytest.mark.parametrize("signal_type", ["open_short", "add_short", "reduce_short", "close_short"])
def test_a_short_signal_is_refused_because_a_share_spot_accounts_cannot_short(signal_type: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        qd_parse(qd_body(signal_type))
    assert "cannot short" in refused.value.message
    assert refused.value.details == [{"field": "signal.type", "message": "short signals are not supported"}]


def test_an_unknown_signal_type_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="Unknown signal type"):
        qd_parse(qd_body("rebalance"))


def test_the_profile_test_event_carries_no_signal() -> None:
    test_event = {
        "event": "qd.profile_test",
        "version": 1,
        "title": "QuantDinger notification test",
        "timestamp": int(NOW.timestamp()),
        "strategy": {"id": 0, "name": "Profile Test"},
        "instrument": {"symbol": "TEST"},
        "signal": {"type": "profile_test", "action": "test", "side": ""},
        "order": {"ref_price": 0.0, "stake_amount": 0.0},
        "trace": {},
        "extra": {"kind": "profile_test"},
    }
    assert qd_parse(test_event) == quantdinger.Parsed(ignored="qd.profile_test")


def test_another_event_is_ignored_by_name() -> None:
    assert qd_parse({"event": "qd.order_filled", "version": 1}) == quantdinger.Parsed(ignored="qd.order_filled")


def test_a_signal_without_a_pending_order_id_is_refused_since_it_could_not_be_deduplicated() -> None:
    with pytest.raises(ValidationFailed) as refused:
        qd_parse(qd_body(trace={"pending_order_id": None}))
    assert refused.value.details is not None and refused.value.details[0]["field"] == "trace.pending_order_id"


# ---- QuantDinger: the signature --------------------------------------------------------------------


def test_a_valid_signature_over_the_raw_bytes_is_accepted() -> None:
    spaced = json.dumps(qd_body(), indent=1).encode()  # any bytes: the signature is over exactly these
    assert len(qd_parse(spaced).signals) == 1


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized, match="Invalid signature"):
        qd_parse(qd_body(), secret="qds_another")


def test_a_body_changed_after_signing_is_refused() -> None:
    request = qd_request(qd_body())
    tampered = Request(
        request.method, request.resource, request.headers, {}, {}, request.body.replace(b"1187", b"1188")
    )
    with pytest.raises(Unauthorized, match="Invalid signature"):
        quantdinger.parse(tampered, strategy("quantdinger", SECRET), MAX_BYTES, NOW)


@pytest.mark.parametrize("skew", [timedelta(seconds=301), timedelta(seconds=-301), timedelta(days=1)])
def test_a_signature_outside_the_replay_window_is_stale(skew: timedelta) -> None:
    with pytest.raises(Unauthorized, match="Stale signature"):
        qd_parse(qd_body(), at=NOW + skew)


@pytest.mark.parametrize("skew", [timedelta(seconds=299), timedelta(seconds=-299)])
def test_a_signature_inside_the_replay_window_is_accepted(skew: timedelta) -> None:
    assert len(qd_parse(qd_body(), at=NOW + skew).signals) == 1


def test_a_missing_signature_is_refused_when_the_strategy_has_a_secret() -> None:
    with pytest.raises(Unauthorized, match="requires QuantDinger's signature"):
        qd_parse(qd_body(), secret=None)


@pytest.mark.parametrize(
    "headers",
    [
        {"x_qd_timestamp": "-5"},
        {"x_qd_timestamp": "1e9"},
        {"x_qd_timestamp": "١٧٩٥٦٦٣٨٦٥"},  # Unicode digits are not Unix seconds
        {"x_qd_signature": "é" * 64},  # not ASCII: refused, never a TypeError from compare_digest
    ],
)
def test_malformed_signature_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        qd_parse(qd_body(), **headers)


def test_the_test_event_is_signed_like_every_other() -> None:
    with pytest.raises(Unauthorized):
        qd_parse({"event": "qd.profile_test", "version": 1}, secret="qds_wrong")


# ---- QuantDinger: the dedup key ---------------------------------------------------------------------


def key(body: dict[str, Any], at: datetime = NOW) -> str:
    return qd_parse(body, at=at).signals[0].dedup_key


def test_a_re_send_with_a_new_timestamp_has_the_same_dedup_key() -> None:
    later = NOW + timedelta(seconds=40)
    resent = qd_body(timestamp=int(later.timestamp()), timestamp_iso=later.isoformat())
    assert raw(resent) != raw(qd_body())
    assert quantdinger.parse(qd_request(resent, at=later), strategy("quantdinger", SECRET), MAX_BYTES, later).signals[
        0
    ].dedup_key == key(qd_body())


def test_two_pending_orders_have_two_dedup_keys() -> None:
    assert key(qd_body()) != key(qd_body(trace={"pending_order_id": 1188}))


def test_the_order_status_is_part_of_the_dedup_key_when_present() -> None:
    sent, failed = qd_body(extra={"status": "sent"}), qd_body(extra={"status": "failed"})
    assert len({key(qd_body()), key(sent), key(failed)}) == 3
    assert key(qd_body(extra={"status": ""})) == key(qd_body())


# ---- TradingView ------------------------------------------------------------------------------------


def tv_body(**changes: Any) -> dict[str, Any]:
    """The alert message of alert_template, as TradingView fills it in for a strategy order."""
    filled = {
        "{{exchange}}:{{ticker}}": "SSE:600000",
        "{{strategy.order.action}}": "buy",
        "{{strategy.order.contracts}}": "1200",
        "{{strategy.order.price}}": "10.52",
        "{{strategy.order.id}}": "Long entry",
        "{{strategy.market_position}}": "long",
        "{{strategy.position_size}}": "1200",
        "{{timenow}}": "2026-11-20T01:31:00Z",
    }
    body = {name: filled.get(value, value) for name, value in json.loads(tradingview.alert_template("qlw_tv")).items()}
    return {**body, **changes}


def tv_request(body: Any, query: dict[str, str] | None = None) -> Request:
    data = body if isinstance(body, bytes) else raw(body)
    return Request("POST", "/api/webhooks/tradingview/{strategyId}", {}, {}, query or {}, data)


def tv_parse(body: Any) -> tradingview.Parsed:
    return tradingview.parse(tv_request(body), strategy("tradingview"), MAX_BYTES, NOW)


def test_the_alert_template_is_json_with_the_token_and_every_documented_placeholder() -> None:
    template = json.loads(tradingview.alert_template("qlw_tv"))
    assert template["token"] == "qlw_tv"
    assert set(template) == {
        "token", "ticker", "action", "contracts", "price", "orderId", "marketPosition", "positionSize", "time"
    }  # fmt: skip


def test_a_filled_in_buy_alert_becomes_a_signal() -> None:
    (signal,) = tv_parse(tv_body()).signals
    order = signal.order
    assert (order.security, order.source_security, order.side, order.amount, order.price) == (
        "600000.SH", "SSE:600000", "buy", 1200, 10.52
    )  # fmt: skip
    assert (order.source_order_id, signal.close_all, signal.leader.position_after) == ("Long entry", False, 1200)
    assert signal.seq == int(datetime(2026, 11, 20, 1, 31, tzinfo=UTC).timestamp() * 1000)


def test_numbers_may_be_json_numbers_or_text() -> None:
    assert tv_parse(tv_body(contracts=300, price=10.5)).signals[0].order.amount == 300


def test_a_sell_that_leaves_the_strategy_flat_sells_everything_sellable() -> None:
    (signal,) = tv_parse(tv_body(action="sell", marketPosition="flat", positionSize="0")).signals
    assert (signal.order.side, signal.close_all) == ("sell", True)
    (partial,) = tv_parse(tv_body(action="sell", marketPosition="long", positionSize="600")).signals
    assert partial.close_all is False


def test_a_short_position_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="cannot short"):
        tv_parse(tv_body(action="sell", marketPosition="short", positionSize="-100"))


def test_a_placeholder_left_unfilled_is_named() -> None:
    with pytest.raises(ValidationFailed) as refused:
        tv_parse(tv_body(contracts="{{strategy.order.contracts}}"))
    assert refused.value.details is not None and "was not filled in" in refused.value.details[0]["message"]


@pytest.mark.parametrize(
    "changes", [{"action": "hold"}, {"contracts": "0.5"}, {"contracts": "NaN"}, {"ticker": "NASDAQ:AAPL"}]
)
def test_what_is_not_an_a_share_order_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        tv_parse(tv_body(**changes))


def test_the_dedup_key_is_the_hash_of_the_exact_bytes() -> None:
    assert tv_parse(tv_body()).signals[0].dedup_key == tv_parse(tv_body()).signals[0].dedup_key
    assert (
        tv_parse(tv_body()).signals[0].dedup_key != tv_parse(tv_body(time="2026-11-20T01:32:00Z")).signals[0].dedup_key
    )


def test_the_token_comes_from_the_query_string_or_else_the_body() -> None:
    assert tradingview.token(tv_request(tv_body(), {"token": "qlw_query"})) == "qlw_query"
    assert tradingview.token(tv_request(tv_body())) == "qlw_tv"
    assert tradingview.token(tv_request(b"\xff not json")) is None
    assert tradingview.token(tv_request({"token": 17})) is None
    assert tradingview.token(tv_request([1, 2])) is None


# ---- A-share codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exchange"),
    [
        ("600000", "SH"), ("601318", "SH"), ("603288", "SH"), ("605499", "SH"),  # SSE main board
        ("688981", "SH"), ("689009", "SH"),  # STAR market
        ("510300", "SH"), ("512880", "SH"), ("588000", "SH"), ("560010", "SH"),  # SSE ETFs
        ("113050", "SH"), ("900901", "SH"),  # SSE convertible bond, B share
        ("000001", "SZ"), ("001979", "SZ"), ("002594", "SZ"), ("003816", "SZ"),  # SZSE main board
        ("300750", "SZ"), ("301269", "SZ"),  # ChiNext
        ("159915", "SZ"), ("161725", "SZ"), ("184801", "SZ"),  # SZSE ETF, LOF, closed-end fund
        ("123107", "SZ"), ("200002", "SZ"),  # SZSE convertible bond, B share
        ("430047", "BJ"), ("830799", "BJ"), ("870436", "BJ"), ("920001", "BJ"),  # Beijing Stock Exchange
        ("700000", None), ("990001", None), ("12345", None), ("6000000", None), ("60000a", None),
    ],
)  # fmt: skip
def test_the_exchange_of_a_bare_code_is_inferred_from_its_block(code: str, exchange: str | None) -> None:
    assert infer_exchange(code) == exchange


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("600000.SH", "600000.SH"), ("600000.SS", "600000.SH"), ("000001.SZ", "000001.SZ"),
        ("430047.BJ", "430047.BJ"), ("600000.XSHG", "600000.SH"), ("000001.sz", "000001.SZ"),
        ("SSE:600000", "600000.SH"), ("SZSE:000001", "000001.SZ"), ("BSE:430047", "430047.BJ"),
        (" 300750 ", "300750.SZ"),
    ],
)  # fmt: skip
def test_every_written_form_becomes_the_exchange_form(symbol: str, expected: str) -> None:
    assert a_share_security(symbol, field="f") == expected


@pytest.mark.parametrize("symbol", ["BSE:500325", "NASDAQ:AAPL", "600000.HK", "AAPL", "700000", "BTC/USDT"])
def test_what_is_not_an_a_share_code_is_refused(symbol: str) -> None:
    with pytest.raises(ValidationFailed):
        a_share_security(symbol, field="f")


@pytest.mark.parametrize(
    ("security", "shares", "lot"),
    [("600000.SH", 1234, 1200), ("600000.SH", 99, 0), ("688981.SH", 250, 250), ("688981.SH", 199, 0),
     ("430047.BJ", 101, 101), ("430047.BJ", 99, 0), ("300750.SZ", 100, 100)],
)  # fmt: skip
def test_round_down_to_lot(security: str, shares: int, lot: int) -> None:
    assert round_down_to_lot(security, shares) == lot


# ---- the registry -----------------------------------------------------------------------------------


def test_every_source_is_registered_under_its_path_segment() -> None:
    assert {name: source.resource for name, source in SOURCES.items()} == {
        "joinquant": "/api/webhooks/joinquant/{strategyId}",
        "quantdinger": "/api/webhooks/quantdinger/{strategyId}",
        "tradingview": "/api/webhooks/tradingview/{strategyId}",
    }
    assert SOURCES["joinquant"] is joinquant.SOURCE


def test_a_strategy_is_created_for_a_registered_source_only() -> None:
    assert CreateStrategyBody(name="n").source == "joinquant"
    assert CreateStrategyBody(name="n", source="tradingview").source == "tradingview"
    with pytest.raises(ValueError, match="must be one of joinquant, quantdinger, tradingview"):
        CreateStrategyBody(name="n", source="ricequant")


def test_a_webhook_for_another_source_is_refused_with_where_it_should_go() -> None:
    with pytest.raises(ValidationFailed, match="/api/webhooks/quantdinger/"):
        check_source(strategy("quantdinger"), SOURCES["joinquant"])


def test_ratio_sizing_is_only_for_sources_that_send_a_portfolio_value() -> None:
    assert sizing_for(strategy("joinquant"), None).mode == SizingMode.RATIO
    assert sizing_for(strategy("quantdinger"), None).mode == SizingMode.MIRROR
    assert sizing_for(strategy("tradingview"), Sizing(multiplier=2)) == Sizing(mode=SizingMode.MIRROR, multiplier=2)
    assert sizing_for(strategy("tradingview"), Sizing(mode=SizingMode.FIXED, multiplier=2)).mode == SizingMode.FIXED
    with pytest.raises(ValidationFailed, match="does not send"):
        sizing_for(strategy("quantdinger"), Sizing(mode=SizingMode.RATIO))


# ---- the sealed signing secret -------------------------------------------------------------------------


def test_a_sealed_secret_opens_only_with_its_token_and_record() -> None:
    sealed = sealing.seal("qlw_token", "stg_a", "qds_secret")

    assert "qds_secret" not in sealed and sealed != sealing.seal("qlw_token", "stg_a", "qds_secret")  # nonce
    assert sealing.unseal("qlw_token", "stg_a", sealed) == "qds_secret"
    assert sealing.unseal("qlw_other", "stg_a", sealed) is None
    assert sealing.unseal("qlw_token", "stg_b", sealed) is None
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    assert sealing.unseal("qlw_token", "stg_a", flipped) is None
    assert sealing.unseal("qlw_token", "stg_a", "v1.not base64!") is None
    assert sealing.unseal("qlw_token", "stg_a", "v2.AAAA") is None


def test_a_signature_cannot_be_checked_with_a_token_that_does_not_open_the_secret() -> None:
    request = qd_request(qd_body())
    with_other_token = Request(
        request.method, request.resource, {**request.headers, "authorization": "Bearer qlw_other"}, {}, {}, request.body
    )
    with pytest.raises(Unauthorized, match="cannot be read"):
        quantdinger.parse(with_other_token, strategy("quantdinger", SECRET), MAX_BYTES, NOW)
