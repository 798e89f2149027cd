"""PATCH / DELETE /api/strategies/{strategyId} (rename, the kill switch, delete), the signal's own
status as its deliveries settle, the timeline's status filter, and each subscription's sizing in the
terminal views."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from quantlink import relay
from quantlink.owner import strategies as owner_strategies
from quantlink.timeutil import now as real_now

if TYPE_CHECKING:
    from conftest import QuantLink, Reply, StrategyCreds


def on(strategy: StrategyCreds) -> dict[str, str]:
    return {"strategyId": strategy.strategy_id}


def patch(ql: QuantLink, strategy: StrategyCreds, body: Any, owner: str | None = None) -> Reply:
    return ql.owner_call("owner_api/update_strategy", owner or strategy.owner, path_params=on(strategy), body=body)


def delete(ql: QuantLink, strategy: StrategyCreds) -> Reply:
    return ql.owner_call("owner_api/delete_strategy", strategy.owner, path_params=on(strategy))


def timeline(ql: QuantLink, strategy: StrategyCreds, **query: str) -> Reply:
    return ql.owner_call("owner_api/signals", strategy.owner, path_params=on(strategy), query=query or None)


# ---- rename --------------------------------------------------------------------------------------


def test_renaming_changes_only_the_name(ql: QuantLink) -> None:
    strategy = ql.create_strategy()

    reply = patch(ql, strategy, {"name": "沪深300 轮动 v2"})

    assert reply.status == 200 and (reply.body["name"], reply.body["paused"]) == ("沪深300 轮动 v2", False)
    got = ql.owner_call("owner_api/get_strategy", "alice", path_params=on(strategy)).body
    assert got == reply.body
    assert ql.webhook(strategy, ql.signal_body()).status == 202  # the token is untouched


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="nothing to change"),
        pytest.param({"name": ""}, id="empty name"),
        pytest.param({"name": "x" * 101}, id="name too long"),
        pytest.param({"name": None}, id="null name"),
        pytest.param({"paused": None}, id="null paused"),
        pytest.param({"paused": "true"}, id="paused a string"),
        pytest.param({"paused": 1}, id="paused 1"),
        pytest.param({"nmae": "typo"}, id="unknown field"),
        pytest.param([], id="a list"),
        pytest.param(b'{"paused": true, "paused": false}', id="repeated key"),
        pytest.param(b"{", id="not JSON"),
    ],
)
def test_a_bad_update_body_is_a_validation_error_and_changes_nothing(ql: QuantLink, body: Any) -> None:
    strategy = ql.create_strategy()
    before = ql.stack.items()

    reply = patch(ql, strategy, body)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert reply.body["details"]
    assert ql.stack.items() == before


# ---- the kill switch -----------------------------------------------------------------------------


def test_while_paused_a_webhook_is_recorded_held_and_delivered_to_no_terminal_then_or_later(ql: QuantLink) -> None:
    # Given a paused strategy with a subscribed terminal
    strategy, (terminal,) = ql.linked()
    paused = patch(ql, strategy, {"paused": True})
    assert paused.status == 200 and paused.body["paused"] is True

    # When JoinQuant posts an order (and then retries it)
    body = ql.signal_body(seq=1)
    reply = ql.webhook(strategy, body)
    retried = ql.webhook(strategy, body)

    # Then it is accepted and says it was held; nothing is queued, now or after resuming
    assert reply.status == 202
    assert reply.body == {"signalId": reply.body["signalId"], "duplicate": False, "deliveries": 0, "held": True}
    assert retried.status == 200 and retried.body["duplicate"] is True
    (signal,) = ql.stack.signals(strategy.strategy_id)
    assert signal["status"] == "HELD" and ql.stack.deliveries(strategy.strategy_id) == []
    assert ql.stack.queue_depth(terminal.terminal_id) == 0
    assert patch(ql, strategy, {"paused": False}).body["paused"] is False
    assert ql.webhook(strategy, body).status == 200  # a retry after resuming does not deliver it either
    assert ql.stack.queue_depth(terminal.terminal_id) == 0
    (item,) = timeline(ql, strategy).body["items"]
    assert (item["signalId"], item["status"], item["deliveries"]) == (signal["signalId"], "HELD", [])

    # And a signal after resuming is delivered as usual
    fresh = ql.send_signal(strategy, seq=2)
    assert fresh["deliveries"] == 1 and "held" not in fresh
    assert [s["seq"] for s in ql.pulled(terminal)] == [2]


class Crash(BaseException):
    """The process dying mid-request: nothing in the handler gets to clean up."""


def test_a_signal_stuck_before_the_pause_is_not_re_driven_while_paused(
    ql: QuantLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a signal whose fan-out died, left RECEIVED, and its lease run out
    strategy, (terminal,) = ql.linked()
    body = ql.signal_body(seq=1)

    def die(*args: Any, **kwargs: Any) -> int:
        raise Crash

    with monkeypatch.context() as dying:
        dying.setattr(relay, "send_deliveries", die)
        with pytest.raises(Crash):
            ql.webhook(strategy, body)
    lease = ql.functions["webhook"].module.runtime().settings.fanout_lease_seconds
    monkeypatch.setattr(relay, "now", lambda: real_now() + timedelta(seconds=lease + 1))

    # When the strategy is paused and JoinQuant's retry comes
    patch(ql, strategy, {"paused": True})
    assert ql.webhook(strategy, body).body["duplicate"] is True

    # Then the retry does not re-drive it while the kill switch is on; once resumed, the next one does
    assert ql.stack.signals(strategy.strategy_id)[0]["status"] == "RECEIVED"
    assert ql.stack.queue_depth(terminal.terminal_id) == 0
    patch(ql, strategy, {"paused": False})
    assert ql.webhook(strategy, body).body["duplicate"] is True
    assert ql.stack.queue_depth(terminal.terminal_id) == 1


# ---- delete --------------------------------------------------------------------------------------


def test_deleting_stops_the_webhook_ends_subscriptions_and_removes_its_signals(ql: QuantLink) -> None:
    # Given a strategy with a delivered signal, a queued one, and a neighbour that must stay
    strategy, (terminal,) = ql.linked()
    neighbour = ql.create_strategy(name="neighbour")
    assert ql.subscribe(terminal, neighbour).status == 200
    ql.send_signal(strategy, seq=1)
    (pulled,) = ql.pulled(terminal)
    ql.ack(terminal, [ql.executed(pulled)])
    ql.send_signal(strategy, seq=2)  # queued, not pulled yet
    ql.call(
        "webhook/positions",
        path_params=on(strategy),
        headers={"Authorization": f"Bearer {strategy.token}"},
        body=ql.sample_body("webhook/positions"),
    )
    kept = ql.send_signal(neighbour, seq=1)

    # When the owner deletes it
    reply = delete(ql, strategy)

    # Then: 204; 401 for its webhook like an unknown id; 404 for every owner read; nothing left
    assert reply.status == 204 and reply.text == ""
    unknown = ql.webhook(strategy, ql.signal_body(seq=3), strategy_id="stg_0000000000000000")
    after = ql.webhook(strategy, ql.signal_body(seq=3))
    assert (after.status, after.text) == (401, unknown.text)
    for sample in ("owner_api/get_strategy", "owner_api/signals", "owner_api/rotate_token"):
        assert ql.owner_call(sample, "alice", path_params=on(strategy)).status == 404, sample
    assert [s["strategyId"] for s in ql.owner_call("owner_api/list_strategies", "alice").body["items"]] == [
        neighbour.strategy_id
    ]
    assert ql.stack.items_under(f"STRATEGY#{strategy.strategy_id}") == []
    assert ql.terminal_view(terminal)["subscriptions"] == [neighbour.strategy_id]
    assert delete(ql, strategy).status == 404  # purged: nothing left to delete

    # And the message still queued is dropped by the next pull, never delivered; the neighbour's is
    assert [s["signalId"] for s in ql.pulled(terminal)] == [kept["signalId"]]
    assert ql.stack.visible_messages(terminal.terminal_id) == 0
    assert len(ql.stack.signals(neighbour.strategy_id)) == 1


def test_a_large_partition_is_purged_over_several_deletes_and_is_gone_for_readers_at_once(
    ql: QuantLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy, (terminal,) = ql.linked()
    for seq in range(6):
        ql.send_signal(strategy, seq=seq)  # 6 markers, 6 signals, 6 deliveries
    # A purge batch of 5 items, and no signal young enough to go at once: only the bounded purge runs
    monkeypatch.setenv("STRATEGY_PURGE_BATCH", "5")
    ql.functions["owner_api"].clear_caches()
    monkeypatch.setattr(owner_strategies, "_STILL_DELIVERABLE", timedelta(0))

    first = delete(ql, strategy)

    # Then the strategy is gone for every reader although part of its partition is still there
    assert first.status == 204
    assert ql.owner_call("owner_api/get_strategy", "alice", path_params=on(strategy)).status == 404
    assert ql.webhook(strategy, ql.signal_body(seq=9)).status == 401
    left = ql.stack.items_under(f"STRATEGY#{strategy.strategy_id}")
    assert 0 < len(left) < 19
    # Deleting again goes on with the purge (the same answer) until nothing is left
    for _ in range(5):
        assert delete(ql, strategy).status in (204, 404)
    assert ql.stack.items_under(f"STRATEGY#{strategy.strategy_id}") == []
    assert ql.pulled(terminal) == []


# ---- the signal's own status ---------------------------------------------------------------------


def test_the_signal_status_follows_its_deliveries(ql: QuantLink) -> None:
    strategy, (first, second) = ql.linked(terminals=2)
    nobody = ql.create_strategy(name="nobody listens")
    ql.send_signal(strategy, seq=1)

    def status() -> str:
        (item,) = timeline(ql, strategy).body["items"]
        value: str = item["status"]
        return value

    assert status() == "QUEUED"
    (a,) = ql.pulled(first)
    assert status() == "DELIVERED"
    ql.ack(first, [ql.executed(a)])
    assert status() == "PARTIALLY_EXECUTED"
    (b,) = ql.pulled(second)
    ql.ack(second, [ql.executed(b)])
    assert status() == "EXECUTED"

    ql.send_signal(nobody, seq=1)
    assert [i["status"] for i in timeline(ql, nobody).body["items"]] == ["UNDELIVERED"]


def test_the_timeline_filters_by_status_across_pages(ql: QuantLink) -> None:
    strategy, (terminal,) = ql.linked()
    sent = [ql.send_signal(strategy, seq=seq)["signalId"] for seq in range(5)]
    pulled = ql.pulled(terminal)
    executed = {sent[1], sent[3], sent[4]}
    ql.ack(terminal, [ql.executed(s) for s in pulled if s["signalId"] in executed])
    ql.ack(terminal, [ql.executed(s, status="failed", error="no cash") for s in pulled if s["signalId"] == sent[2]])

    first = timeline(ql, strategy, status="EXECUTED", limit="2").body
    rest = timeline(ql, strategy, status="EXECUTED", limit="2", before=first["nextBefore"]).body
    failed = timeline(ql, strategy, status="FAILED").body
    delivered = timeline(ql, strategy, status="DELIVERED").body

    assert [i["signalId"] for i in first["items"]] == [sent[4], sent[3]] and first["nextBefore"] == sent[3]
    assert [i["signalId"] for i in rest["items"]] == [sent[1]] and rest["nextBefore"] is None
    assert [i["signalId"] for i in failed["items"]] == [sent[2]] and failed["nextBefore"] is None
    assert [(i["signalId"], i["status"]) for i in delivered["items"]] == [(sent[0], "DELIVERED")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "DONE"}, "query.status"),
        ({"status": "executed"}, "query.status"),
        ({"before": "x" * 2000}, "query.before"),
    ],
)
def test_a_bad_status_filter_or_cursor_is_a_validation_error(ql: QuantLink, query: dict[str, str], field: str) -> None:
    strategy = ql.create_strategy()

    reply = timeline(ql, strategy, **query)

    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert [d["field"] for d in reply.body["details"]] == [field]


# ---- sizing in the terminal views ----------------------------------------------------------------


def test_the_terminal_views_show_each_subscriptions_sizing(ql: QuantLink) -> None:
    one, other = ql.create_strategy(name="one"), ql.create_strategy(name="other")
    terminal = ql.register_terminal()
    ql.subscribe(terminal, one, {"sizing": {"mode": "fixed", "multiplier": 2.5}})
    ql.subscribe(terminal, other)

    view = ql.terminal_view(terminal)
    (listed,) = ql.owner_call("owner_api/list_terminals", "alice").body["items"]

    assert sorted(view["subscriptions"]) == sorted([one.strategy_id, other.strategy_id])
    assert view["subscriptionSizing"] == {
        one.strategy_id: {"mode": "fixed", "multiplier": 2.5},
        other.strategy_id: {"mode": "ratio", "multiplier": 1.0},
    }
    assert listed == view


def test_a_subscription_written_before_the_terminal_side_held_its_sizing_still_shows_it(ql: QuantLink) -> None:
    strategy, terminal = ql.create_strategy(), ql.register_terminal()
    ql.subscribe(terminal, strategy, {"sizing": {"mode": "ratio", "multiplier": 0.5}})
    # The terminal side as it was written before: only the strategy id
    ql.stack.dynamodb.put_item(
        TableName=ql.stack.table_name,
        Item={
            "pk": {"S": f"TERMINAL#{terminal.terminal_id}"},
            "sk": {"S": f"SUB#{strategy.strategy_id}"},
            "strategyId": {"S": strategy.strategy_id},
        },
    )

    view = ql.terminal_view(terminal)

    assert view["subscriptions"] == [strategy.strategy_id]
    assert view["subscriptionSizing"] == {strategy.strategy_id: {"mode": "ratio", "multiplier": 0.5}}
