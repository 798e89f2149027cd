"""Drift reports and sync suggestions, on fakes: what a terminal should hold over every strategy it
follows (each scaled by its subscription's sizing, lot-rounded) against what it reported."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from datetime import UTC, date, datetime
from typing import Any

import pytest

from quantlink.calendar import trading_calendar
from quantlink.drift import service
from quantlink.drift.alerts import Alert, RobotKind, dingtalk_sign, feishu_sign, robot_request
from quantlink.drift.compute import Followed, drift_report
from quantlink.models import Subscription, Terminal
from quantlink.sharing.audit import AuditQuery, read_audit
from quantlink.sharing.users import Caller
from quantlink.views.drift import DriftStatus
from tests.unit.fakes import FakeQueues, FakeStore

FRIDAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 7, 20, tzinfo=UTC)  # 15:20 China time
ALICE = Caller("alice", "alice@example.com")
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


def leader(positions: list[tuple[str, float, float]], total: float = 1_000_000.0) -> dict[str, Any]:
    return {
        "v": 1,
        "positions": [{"security": s, "amount": a, "price": p} for s, a, p in positions],
        "totalValue": total,
        "cash": total - sum(a * p for _, a, p in positions),
    }


def holdings(positions: list[tuple[str, float]], cash: float, total: float) -> dict[str, Any]:
    return {
        "asOf": "2026-11-20T15:10:00+08:00",
        "positions": [{"security": s, "volume": v, "avgPrice": 9.0} for s, v in positions],
        "cash": cash,
        "totalAsset": total,
    }


def report(followed: list[Followed], held: dict[str, Any] | None, *, trading: bool = True, threshold: float = 0.05):
    return drift_report(
        "trm_1", FRIDAY, trading_day=trading, holdings=held, followed=followed, threshold=threshold, at=AT
    )


RATIO = {"mode": "ratio", "multiplier": 1.0}


def test_two_strategies_add_up_and_a_matching_terminal_is_ok() -> None:
    a = Followed("stg_a", RATIO, leader([("600000.XSHG", 10_000, 10.0)]))
    b = Followed("stg_b", {"mode": "mirror"}, leader([("000001.XSHE", 300, 12.0), ("600000.XSHG", 200, 10.0)]))
    # terminal worth 100k: stg_a's 10% of 600000 is 1000 shares; stg_b mirrors 200 more and 300 of 000001
    result = report([a, b], holdings([("600000.SH", 1200), ("000001.SZ", 300)], cash=84_400, total=100_000))
    rows = {r.security: r for r in result.rows}
    assert (rows["600000.SH"].expected_volume, rows["000001.SZ"].expected_volume) == (1200, 300)
    assert all(r.within_lot_bound for r in result.rows)
    assert result.status == DriftStatus.OK and result.score == 0 and result.sync == []
    assert rows["600000.SH"].expected_weight == pytest.approx(0.12)


def test_a_ratio_scaled_follower_with_a_multiplier_is_rounded_down_to_lots() -> None:
    half = Followed("stg_a", {"mode": "ratio", "multiplier": 0.5}, leader([("600000.XSHG", 12_345, 10.0)]))
    # 12345 × 200k / 1M × 0.5 = 1234.5 → 1200 shares (100-share lots)
    result = report([half], holdings([("600000.SH", 1200)], cash=188_000, total=200_000))
    (row,) = result.rows
    assert (row.expected_volume, row.lot_bound, row.within_lot_bound) == (1200, 100, True)


def test_odd_lots_within_the_bound_are_not_drift_and_beyond_it_are() -> None:
    a = Followed("stg_a", RATIO, leader([("600000.XSHG", 10_000, 10.0), ("688981.XSHG", 2_005, 50.0)]))
    # 1050 vs 1000 expected: 50 odd shares, within one 100-share lot; STAR (step 1): 200 exactly expected
    within = report([a], holdings([("600000.SH", 1050), ("688981.SH", 200)], cash=79_500, total=100_000))
    assert within.status == DriftStatus.OK and all(r.within_lot_bound for r in within.rows)
    beyond = report([a], holdings([("600000.SH", 1250), ("688981.SH", 200)], cash=77_500, total=100_000))
    row = next(r for r in beyond.rows if r.security == "600000.SH")
    assert (row.diff_volume, row.within_lot_bound) == (250, False)
    assert beyond.score == pytest.approx((250 - 100) * 10.0 / 100_000)


def test_a_drifted_terminal_scores_the_value_out_of_place_and_gets_a_sync_sells_first() -> None:
    a = Followed("stg_a", RATIO, leader([("600000.XSHG", 50_000, 10.0)]))  # 50% in 600000
    b = Followed("stg_b", RATIO, leader([("000001.XSHE", 20_000, 10.0)]))  # 20% in 000001
    # the terminal holds 000002 it should not and only half its 600000
    held = holdings([("600000.SH", 2500), ("000002.SZ", 1000)], cash=65_000, total=100_000)
    result = report([a, b], held)
    # short: (5000-2500-100)×10 + (2000-100)×10 = 43k; over: 1000×9 (cost price) = 9k → 43% of 100k
    assert result.status == DriftStatus.DRIFT and result.score == pytest.approx(0.43)
    assert [(o.side, o.security, o.amount, o.strategy_id) for o in result.sync] == [
        ("sell", "000002.SZ", 1000, "stg_a"),  # sells first: a security no strategy holds, sold whole
        ("buy", "600000.SH", 2500, "stg_a"),
        ("buy", "000001.SZ", 2000, "stg_b"),
    ]


def test_the_sync_checks_cash_and_shrinks_a_buy_to_what_fits() -> None:
    a = Followed("stg_a", RATIO, leader([("600000.XSHG", 80_000, 10.0)]))  # 80%: 8000 shares
    result = report([a], holdings([], cash=30_000, total=100_000))  # but only 30k cash (a loan-free account)
    (order,) = result.sync
    assert order.side == "buy" and order.amount == 2900  # 2900 × 10 × 1.0053 + 5 fits in 30k; 3000 does not


def test_t_plus_one_caps_a_sell_at_what_is_sellable() -> None:
    a = Followed("stg_a", RATIO, leader([("600000.XSHG", 10_000, 10.0)]))  # expected 1000
    held = holdings([("600000.SH", 3000)], cash=70_000, total=100_000)
    held["positions"][0]["sellable"] = 1500  # 1500 bought today
    (order,) = report([a], held).sync
    assert (order.side, order.amount) == ("sell", 1500)


@pytest.mark.parametrize(
    ("trading", "held", "snapshot", "status"),
    [
        (False, None, None, DriftStatus.NOT_A_TRADING_DAY),
        (True, None, leader([("600000.XSHG", 100, 10.0)]), DriftStatus.MISSING_TERMINAL),
        (True, holdings([], 1.0, 1.0), None, DriftStatus.MISSING_LEADER),
    ],
)
def test_missing_inputs_are_reported_as_such_not_as_drift(trading, held, snapshot, status) -> None:
    result = report([Followed("stg_a", RATIO, snapshot)], held, trading=trading)
    assert result.status == status and result.score == 0 and result.rows == [] and result.sync == []
    if status == DriftStatus.MISSING_LEADER:
        assert result.missing_strategies == ["stg_a"]


# ---- the service over the store: the calendar decides holidays and weekends ---------------------------


def terminal_with(store: FakeStore, strategies: dict[str, dict[str, Any]]) -> Terminal:
    terminal = Terminal(terminal_id="trm_1", owner_id="alice", name="Home", kind="qmt", auth_token_hash="h",
                        queue_url="fake://queues/trm_1.fifo", created_at=CREATED)  # fmt: skip
    store.put_terminal(terminal)
    for strategy_id, sizing in strategies.items():
        store.put_subscription(Subscription(strategy_id=strategy_id, terminal_id="trm_1", owner_id="alice",
                                            queue_url=terminal.queue_url, sizing=sizing,
                                            created_at=CREATED))  # fmt: skip
    return terminal


@pytest.mark.parametrize(
    ("day", "status"),
    [(date(2026, 11, 21), DriftStatus.NOT_A_TRADING_DAY), (date(2026, 10, 1), DriftStatus.NOT_A_TRADING_DAY),
     (FRIDAY, DriftStatus.DRIFT)],
)  # fmt: skip
def test_weekends_and_holidays_are_not_trading_days_even_with_data(day: date, status: DriftStatus) -> None:
    store = FakeStore()
    terminal = terminal_with(store, {"stg_a": RATIO})
    at_day = datetime(day.year, day.month, day.day, 7, 10, tzinfo=UTC)
    store.put_leader_positions("stg_a", leader([("600000.XSHG", 10_000, 10.0)]), at=at_day)
    store.put_terminal_positions("trm_1", holdings([], 100_000, 100_000), at=at_day)
    computed = service.compute(store, trading_calendar(), terminal, day, at=AT)
    assert computed.status == status
    assert store.get_drift_report("trm_1", day) == computed


def test_the_daily_job_alerts_once_per_day_by_email_and_robots_and_audits() -> None:
    store = FakeStore()
    terminal = terminal_with(store, {"stg_a": RATIO})
    store.put_leader_positions("stg_a", leader([("600000.XSHG", 50_000, 10.0)]), at=AT)
    store.put_terminal_positions("trm_1", holdings([], 100_000, 100_000), at=AT)
    store.put_drift_settings("trm_1", {"threshold": 0.1, "email": "alice@example.com",
                                       "robots": [{"kind": "wecom",
                                                   "url": "https://qyapi.weixin.qq.com/x?key=k"}]})  # fmt: skip
    mails: list[tuple[str, Alert]] = []
    posts: list[tuple[str, bytes]] = []
    channels = service.AlertChannels(mailer=lambda to, a: mails.append((to, a)), post=lambda u, b: posts.append((u, b)))

    first = service.run_daily(store, trading_calendar(), channels, at=AT)
    again = service.run_daily(store, trading_calendar(), channels, at=AT)

    assert first["statuses"] == {"drift": 1} and first["alerted"] == 1 and again["alerted"] == 0
    assert [to for to, _ in mails] == ["alice@example.com"] and "49.0%" in mails[0][
        1
    ].title  # (5000 - one lot) × 10 of 100k
    assert len(posts) == 1 and posts[0][0].startswith("https://qyapi.weixin.qq.com/")
    assert terminal.terminal_id in store.get_drift_report("trm_1", FRIDAY).terminal_id
    audited = read_audit(store, ALICE, AuditQuery(action="drift.alert_sent")).items  # in the owner's log
    assert [(e.actor.user_id, e.target.id, e.after) for e in audited] == [
        ("system", "trm_1", {"date": FRIDAY.isoformat(), "score": first_score(store), "email": True, "robots": 1})
    ]


def first_score(store: FakeStore) -> float:
    return store.get_drift_report("trm_1", FRIDAY).score


def test_the_daily_job_does_nothing_on_a_weekend() -> None:
    store = FakeStore()
    terminal_with(store, {"stg_a": RATIO})
    saturday = datetime(2026, 11, 21, 7, 20, tzinfo=UTC)
    assert service.run_daily(store, trading_calendar(), service.AlertChannels(None), at=saturday)["terminals"] == 0
    assert store.drift_reports == {}


def test_sending_the_sync_is_one_time_and_reaches_only_this_terminal() -> None:
    store = FakeStore()
    queues = FakeQueues(store=store)
    terminal = terminal_with(store, {"stg_a": RATIO})
    other = Terminal(terminal_id="trm_2", owner_id="bob", name="Other", kind="qmt", auth_token_hash="h",
                     queue_url="fake://queues/trm_2.fifo", created_at=CREATED)  # fmt: skip
    store.put_terminal(other)
    store.put_subscription(Subscription(strategy_id="stg_a", terminal_id="trm_2", owner_id="bob",
                                        queue_url=other.queue_url, created_at=CREATED))  # fmt: skip
    store.put_leader_positions("stg_a", leader([("600000.XSHG", 50_000, 10.0)]), at=AT)
    store.put_terminal_positions("trm_1", holdings([], 100_000, 100_000), at=AT)
    service.compute(store, trading_calendar(), terminal, FRIDAY, at=AT)

    sent = service.send_sync(store, queues, ALICE, "trm_1", FRIDAY, at=AT, dedup_ttl_seconds=3600)

    assert sent.signals == 1 and queues.depth(terminal.queue_url) == 1 and queues.depth(other.queue_url) == 0
    body = queues.messages[terminal.queue_url][0][1]
    assert '"origin":"sync"' in body and '"mode":"fixed"' in body
    with pytest.raises(Exception, match="already sent"):
        service.send_sync(store, queues, ALICE, "trm_1", FRIDAY, at=AT, dedup_ttl_seconds=3600)
    with pytest.raises(Exception, match="No such terminal"):
        service.send_sync(store, queues, Caller("bob", "bob@example.com"), "trm_1", FRIDAY, at=AT,
                          dedup_ttl_seconds=3600)  # fmt: skip
    audited = read_audit(store, ALICE, AuditQuery(action="drift")).items
    assert [(e.action, e.target.kind, e.target.id, e.actor.user_id) for e in audited] == [
        ("drift.sync_sent", "terminal", "trm_1", "alice")]  # fmt: skip
    assert audited[0].after == {"date": FRIDAY.isoformat(), "orders": [o.wire() for o in store.get_drift_report(
        "trm_1", FRIDAY).sync]}  # fmt: skip


def test_robot_formats_and_signatures_follow_each_vendors_documentation() -> None:
    alert = Alert(title="T", text="body")
    url, body = robot_request(RobotKind.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=a", "SECx",
                              alert, now_ms=1_700_000_000_000)  # fmt: skip
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=a&timestamp=1700000000000&sign=" + dingtalk_sign(
        "SECx", 1_700_000_000_000
    )
    assert b'"msgtype": "markdown"' in body
    # DingTalk's sample code: HmacSHA256(key=secret, msg=f"{ts}\n{secret}"), base64, then quote_plus
    expected = hmac.new(b"SECx", b"1700000000000\nSECx", hashlib.sha256).digest()
    assert dingtalk_sign("SECx", 1_700_000_000_000) == urllib.parse.quote_plus(base64.b64encode(expected))
    # Feishu's: the key is f"{ts}\n{secret}" and the message empty (not DingTalk's way round)
    assert feishu_sign("k", 5) == base64.b64encode(hmac.new(b"5\nk", b"", hashlib.sha256).digest()).decode()
    _, feishu = robot_request(RobotKind.FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/x", "k", alert,
                              now_ms=1_599_360_473_000)  # fmt: skip
    assert b'"timestamp": "1599360473"' in feishu and feishu_sign("k", 1_599_360_473).encode() in feishu
    assert b'"msg_type": "text"' in feishu
    _, wecom = robot_request(RobotKind.WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, alert,
                             now_ms=0)  # fmt: skip
    assert b'"markdown": {"content": "**T**\\nbody"}' in wecom
