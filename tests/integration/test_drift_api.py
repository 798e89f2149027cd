"""Drift over the owner API and the daily job, on moto: snapshots in, reports stored per day, history,
threshold, alert channels, and the one-time sync the terminal pulls as `origin: sync` signals."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from quantlink_local.gateway import LambdaContext
from tests.integration.conftest import QuantLink, StrategyCreds, TerminalCreds, load_event
from tests.integration.sharing_driver import Sharing

DAY = "2026-11-20"  # a Friday


def leader_snapshot(
    ql: QuantLink, strategy: StrategyCreds, positions: list[tuple[str, int, float]], total: float
) -> None:
    body = {"v": 1, "dt": f"{DAY}T15:05:00+08:00", "totalValue": total, "cash": total / 2,
            "positions": [{"security": s, "amount": a, "price": p} for s, a, p in positions]}  # fmt: skip
    reply = ql.call("webhook/positions", path_params={"strategyId": strategy.strategy_id},
                    headers={"Authorization": f"Bearer {strategy.token}"}, body=body)  # fmt: skip
    assert reply.status == 202, reply.text


def holdings(
    ql: QuantLink, terminal: TerminalCreds, positions: list[tuple[str, int]], cash: float, total: float
) -> None:
    body = {"asOf": f"{DAY}T15:10:00+08:00", "cash": cash, "totalAsset": total,
            "positions": [{"security": s, "volume": v, "avgPrice": 10.0} for s, v in positions]}  # fmt: skip
    reply = ql.call("terminal_ack/positions", headers={"Authorization": f"Bearer {terminal.token}"}, body=body)
    assert reply.status == 202, reply.text


def drift(ql: QuantLink, sample: str, terminal: TerminalCreds, owner: str | None = None, **overrides: Any):
    return ql.owner_call(f"owner_api/{sample}", owner or terminal.owner,
                         path_params={"terminalId": terminal.terminal_id}, **overrides)  # fmt: skip


@pytest.fixture
def drifted(ql: QuantLink) -> tuple[StrategyCreds, TerminalCreds]:
    strategy, (terminal,) = ql.linked()
    leader_snapshot(ql, strategy, [("600000.XSHG", 50_000, 10.0)], total=1_000_000)  # 50%
    holdings(ql, terminal, [("600000.SH", 2000), ("000002.SZ", 500)], cash=75_000, total=100_000)
    return strategy, terminal


def test_compute_now_stores_the_days_report_and_reads_it_back(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    computed = drift(ql, "compute_drift", terminal, body={"date": DAY})
    assert computed.status == 200, computed.text
    report = computed.body
    assert (report["status"], report["date"], report["threshold"]) == ("drift", DAY, 0.05)
    rows = {r["security"]: r for r in report["rows"]}
    assert rows["600000.SH"]["expectedVolume"] == 5000 and rows["600000.SH"]["diffVolume"] == -3000
    assert rows["000002.SZ"]["withinLotBound"] is False
    assert [o["side"] for o in report["sync"]] == ["sell", "buy"]

    assert drift(ql, "get_drift", terminal, query={"date": DAY}).body == report
    assert drift(ql, "get_drift", terminal, query=None).body == report  # latest
    assert drift(ql, "get_drift", terminal, query={"date": "2026-11-19"}).status == 404
    history = drift(ql, "drift_history", terminal, query={"security": "600000.XSHG", "days": "5"}).body["items"]
    assert history == [{"date": DAY, "status": "drift", "score": report["score"], "threshold": 0.05,
                        "security": "600000.SH", "expectedVolume": 5000, "actualVolume": 2000,
                        "diffVolume": -3000, "withinLotBound": False}]  # fmt: skip


def test_a_higher_threshold_turns_the_same_drift_ok(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    assert drift(ql, "drift_threshold", terminal, body={"threshold": 0.9}).body["threshold"] == 0.9
    assert drift(ql, "compute_drift", terminal, body={"date": DAY}).body["status"] == "ok"
    assert drift(ql, "drift_threshold", terminal, body={"threshold": 1.5}).error_code() == "VALIDATION_ERROR"


def test_a_weekend_and_a_day_without_reports_are_reported_as_such(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    assert drift(ql, "compute_drift", terminal, body={"date": "2026-11-21"}).body["status"] == "not_a_trading_day"
    assert drift(ql, "compute_drift", terminal, body={"date": "2026-11-19"}).body["status"] == "missing_terminal"


def test_another_owners_terminal_answers_not_found_and_writes_nothing(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    before = ql.stack.items()
    for sample, extra in (
        ("compute_drift", {"body": {"date": DAY}}),
        ("get_drift", {}),
        ("drift_threshold", {"body": {"threshold": 0.1}}),
        ("drift_sync", {"body": {"date": DAY}}),
    ):
        assert drift(ql, sample, terminal, owner="mallory", **extra).error_code() == "NOT_FOUND", sample
    assert ql.stack.items() == before


def test_robot_urls_must_be_the_vendors_own_hosts(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    evil = {"robots": [{"kind": "dingtalk", "url": "https://169.254.169.254/latest/meta-data"}]}
    assert drift(ql, "drift_alerts", terminal, body=evil).error_code() == "VALIDATION_ERROR"
    good = drift(ql, "drift_alerts", terminal)  # the sample: one robot of each kind
    assert good.status == 200, good.text
    assert good.body["email"] == "alice@example.com"
    assert [(r["kind"], r["signed"]) for r in good.body["robots"]] == [
        ("dingtalk", True), ("wecom", False), ("feishu", True)]  # fmt: skip
    assert "access_token" not in good.text and "SEC" not in good.text  # secrets are not echoed


def test_the_sync_is_sent_once_and_the_terminal_pulls_it_as_origin_sync(ql: QuantLink, drifted) -> None:
    strategy, terminal = drifted
    report = drift(ql, "compute_drift", terminal, body={"date": DAY}).body

    sent = drift(ql, "drift_sync", terminal, body={"date": DAY})
    assert sent.status == 202, sent.text
    assert sent.body["signals"] == len(report["sync"]) == 2
    again = drift(ql, "drift_sync", terminal, body={"date": DAY})
    assert again.error_code() == "CONFLICT"

    pulled = ql.pulled(terminal)
    assert [(s["side"], s["security"], s["amount"], s["origin"]) for s in pulled] == [
        (o["side"], o["security"], o["amount"], "sync") for o in report["sync"]]  # fmt: skip
    assert all(s["sizing"] == {"mode": "fixed", "multiplier": 1.0} for s in pulled)
    assert pulled[0]["leader"]["positionAfter"] == 0  # selling what no strategy holds closes it, odd lots too
    ql.send_signal(strategy, seq=9)  # the source's own signal, after the repair
    timeline = ql.timeline(strategy)
    assert len(timeline) == 3
    synced = [s for s in timeline if s["signalId"] in {p["signalId"] for p in pulled}]
    assert len(synced) == 2 and all(s["origin"] == "sync" for s in synced)
    assert all("origin" not in s for s in timeline if s not in synced)  # the source's own signals
    assert drift(ql, "get_drift", terminal, query={"date": DAY}).body["syncSentAt"] is not None
    sharing = Sharing(ql)
    audited = sharing.audit("alice", action="drift.sync_sent")["items"]  # once: the refused second is not
    assert [(e["target"], e["actor"]["userId"] == sharing.user_id("alice")) for e in audited] == [
        ({"kind": "terminal", "id": terminal.terminal_id}, True)]  # fmt: skip


def test_the_daily_job_reports_every_following_terminal_and_emails_its_owner(ql: QuantLink, drifted) -> None:
    _, terminal = drifted
    assert drift(ql, "drift_alerts", terminal, body={"email": True}).status == 200
    ses = boto3.client("ses", region_name="us-east-1")
    ses.verify_email_identity(EmailAddress=os.environ["MAIL_FROM"])  # the template's sender, resolved
    event = {**load_event("drift/scheduled"), "now": f"{DAY}T15:20:00+08:00"}
    result = ql.functions["drift"].handler()(event, LambdaContext(function_name="DriftFunction"))
    assert result["statuses"] == {"drift": 1} and result["alerted"] == 1
    assert drift(ql, "get_drift", terminal, query={"date": DAY}).body["status"] == "drift"
    sent = ses.get_send_statistics()["SendDataPoints"]
    assert sum(p["DeliveryAttempts"] for p in sent) == 1


@pytest.mark.parametrize(
    ("sample", "overrides"),
    [
        ("compute_drift", {"body": {"date": "9999-12-31"}}),
        ("compute_drift", {"body": {"date": "2003-01-06"}}),  # before any calendar data
        ("compute_drift", {"body": {"date": DAY, "extra": 1}}),
        ("get_drift", {"query": {"date": "2026-13-01"}}),
        ("drift_history", {"query": {"security": "AAPL"}}),
        ("drift_history", {"query": {"days": "0"}}),
        ("drift_sync", {"body": {}}),
        ("drift_alerts", {"body": {"robots": [{"kind": "feishu", "url": "http://open.feishu.cn/open-apis/x"}]}}),
    ],
)
def test_bad_drift_input_is_a_validation_error_and_writes_nothing(ql: QuantLink, drifted, sample, overrides) -> None:
    _, terminal = drifted
    before = ql.stack.items()
    reply = drift(ql, sample, terminal, **overrides)
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR"), reply.text
    assert ql.stack.items() == before


def test_snapshots_with_unknown_security_codes_are_refused_and_stored_under_their_own_day(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    bad_leader = {"v": 1, "dt": f"{DAY}T15:05:00+08:00", "positions": [{"security": "AAPL.US", "amount": 1}]}
    reply = ql.call("webhook/positions", path_params={"strategyId": strategy.strategy_id},
                    headers={"Authorization": f"Bearer {strategy.token}"}, body=bad_leader)  # fmt: skip
    assert (reply.status, reply.body["details"][0]["field"]) == (400, "positions.0.security")
    bad_terminal = {"asOf": f"{DAY}T15:10:00+08:00", "positions": [{"security": "600000", "volume": 1}]}
    reply = ql.call("terminal_ack/positions", headers={"Authorization": f"Bearer {terminal.token}"}, body=bad_terminal)
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert [i for i in ql.stack.items() if "POSITIONS#" in str(i.get("sk"))] == []

    leader_snapshot(ql, strategy, [("600000.XSHG", 100, 10.0)], total=1000.0)
    holdings(ql, terminal, [], cash=1.0, total=1.0)
    keys = sorted(str(i["sk"]) for i in ql.stack.items() if "POSITIONS#" in str(i.get("sk")))
    assert keys == ["POSITIONS#2026-11-20T07:05:00.000+00:00", "POSITIONS#2026-11-20T07:10:00.000+00:00"]
