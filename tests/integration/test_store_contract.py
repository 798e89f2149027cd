"""The stores' contract, run twice: on DynamoStore against moto (the table from template.yaml) and on
the in-memory FakeStore the unit tests use. What decides each answer is the store's conditional write,
never what the caller read before, and the fake must decide alike, or the unit tests prove nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from quantlink import relay
from quantlink.dal.ports import DriftJobStore, RelayStore
from quantlink.dal.store import DynamoStore
from quantlink.errors import Conflict, DeviceTakenOver, DuplicateSignal, NotFound, RateLimited
from quantlink.ids import hash_secret, new_signal_id, new_strategy_id, new_terminal_id
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Leader,
    Outcome,
    Side,
    SignalRecord,
    SignalStatus,
    Strategy,
    Subscription,
    Terminal,
)
from quantlink.throttling import TerminalRate
from quantlink.views.drift import DriftReport, DriftStatus
from tests.unit.fakes import FakeStore

if TYPE_CHECKING:
    from conftest import Stack

NOW = datetime(2026, 11, 20, 1, 31, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "fake"])
def store(request: pytest.FixtureRequest) -> RelayStore:
    if request.param == "fake":
        return FakeStore()
    stack: Stack = request.getfixturevalue("mock_aws")
    return DynamoStore.for_table(stack.table_name)


def strategy(owner: str = "alice", at: datetime = NOW) -> Strategy:
    return Strategy(
        strategy_id=new_strategy_id(), owner_id=owner, name="s", webhook_token_hash=hash_secret("t"), created_at=at
    )


def terminal(owner: str = "alice", at: datetime = NOW) -> Terminal:
    terminal_id = new_terminal_id()
    return Terminal(
        terminal_id=terminal_id, owner_id=owner, name="pc", kind="qmt", auth_token_hash=hash_secret("a"),
        queue_url=f"https://sqs.example/{terminal_id}.fifo", created_at=at,
    )  # fmt: skip


def subscription(strategy_id: str, terminal_id: str) -> Subscription:
    return Subscription(
        strategy_id=strategy_id, terminal_id=terminal_id, owner_id="alice", queue_url="q", created_at=NOW
    )


def signal(strategy_id: str, dedup_key: str = "k", at: datetime = NOW) -> SignalRecord:
    return SignalRecord(
        signal_id=new_signal_id(int(at.timestamp() * 1000)), strategy_id=strategy_id, status=SignalStatus.RECEIVED,
        seq=1, security="600000.SH", source_security="600000.XSHG", side=Side.BUY, amount=100, leader=Leader(),
        dedup_key=dedup_key, received_at=at, expires_at=at + timedelta(minutes=5),
    )  # fmt: skip


# ---- the device claim ------------------------------------------------------------------------------


def test_a_claim_made_with_a_stale_terminal_record_is_refused_by_the_stored_binding(store: RelayStore) -> None:
    # Given a terminal read (by device B's pull) before device A bound it
    record = terminal()
    store.put_terminal(record)
    stale = store.get_terminal(record.terminal_id)
    assert stale is not None and stale.device_fingerprint_hash is None
    relay.claim_device(store, store.get_terminal(record.terminal_id) or stale, "device-aaaa", at=NOW)

    # When device B claims with its stale record, which still shows the terminal unbound
    with pytest.raises(DeviceTakenOver):
        relay.claim_device(store, stale, "device-bbbb", at=NOW + timedelta(seconds=1))

    # Then the conditional write refused it: device A stays bound and B's visit left no trace
    bound = store.get_terminal(record.terminal_id)
    assert bound is not None
    assert bound.device_fingerprint_hash == hash_secret("device-aaaa")
    assert (bound.device_bound_at, bound.last_seen_at) == (NOW, NOW)


def test_the_bound_device_comes_back_and_a_released_terminal_is_claimed_anew(store: RelayStore) -> None:
    record = terminal()
    store.put_terminal(record)
    store.claim_device(record.terminal_id, hash_secret("device-aaaa"), at=NOW)
    store.claim_device(record.terminal_id, hash_secret("device-aaaa"), at=NOW + timedelta(minutes=1))

    with pytest.raises(NotFound):
        store.release_device(record.terminal_id, "bob")
    store.release_device(record.terminal_id, "alice")
    store.claim_device(record.terminal_id, hash_secret("device-bbbb"), at=NOW + timedelta(minutes=2))

    bound = store.get_terminal(record.terminal_id)
    assert bound is not None and bound.device_fingerprint_hash == hash_secret("device-bbbb")
    assert bound.device_bound_at == bound.last_seen_at == NOW + timedelta(minutes=2)


def test_a_deleted_terminal_cannot_be_claimed(store: RelayStore) -> None:
    with pytest.raises(DeviceTakenOver):
        store.claim_device(new_terminal_id(), hash_secret("device-aaaa"), at=NOW)


# ---- owner-conditioned writes --------------------------------------------------------------------


def test_token_hashes_change_only_on_the_owners_own_records(store: RelayStore) -> None:
    mine, theirs = strategy(), terminal()
    store.put_strategy(mine)
    store.put_terminal(theirs)

    with pytest.raises(NotFound):
        store.set_webhook_token_hash(mine.strategy_id, "bob", "evil")
    with pytest.raises(NotFound):
        store.set_terminal_token_hash(theirs.terminal_id, "bob", "evil")
    with pytest.raises(NotFound):
        store.set_webhook_token_hash(new_strategy_id(), "alice", "evil")
    store.set_webhook_token_hash(mine.strategy_id, "alice", "new")

    assert store.get_strategy(mine.strategy_id) == mine.model_copy(update={"webhook_token_hash": "new"})
    assert store.get_terminal(theirs.terminal_id) == theirs


def test_an_id_is_never_written_twice(store: RelayStore) -> None:
    first, record = strategy(), terminal()
    store.put_strategy(first)
    store.put_terminal(record)

    with pytest.raises(Conflict):
        store.put_strategy(first.model_copy(update={"owner_id": "bob"}))
    with pytest.raises(Conflict):
        store.put_terminal(record.model_copy(update={"owner_id": "bob"}))
    assert store.get_strategy(first.strategy_id) == first


def test_owners_list_their_own_records_newest_first(store: RelayStore) -> None:
    older, newer = strategy(at=NOW - timedelta(days=1)), strategy(at=NOW)
    for record in (older, newer, strategy("bob")):
        store.put_strategy(record)
    old_terminal, new_terminal = terminal(at=NOW - timedelta(days=1)), terminal(at=NOW)
    for item in (old_terminal, new_terminal, terminal("bob")):
        store.put_terminal(item)

    assert store.list_strategies("alice") == [newer, older]
    assert store.list_terminals("alice") == [new_terminal, old_terminal]


# ---- subscriptions -------------------------------------------------------------------------------


def test_a_subscription_needs_its_terminal_and_goes_with_it(store: RelayStore) -> None:
    owned, record = strategy(), terminal()
    store.put_strategy(owned)

    with pytest.raises(NotFound):
        store.put_subscription(subscription(owned.strategy_id, record.terminal_id))
    assert store.subscriptions_for(owned.strategy_id) == []

    store.put_terminal(record)
    store.put_subscription(subscription(owned.strategy_id, record.terminal_id))
    assert [s.terminal_id for s in store.subscriptions_for(owned.strategy_id)] == [record.terminal_id]
    assert store.subscribed_strategy_ids(record.terminal_id) == [owned.strategy_id]

    store.delete_terminal(record.terminal_id)
    assert store.subscriptions_for(owned.strategy_id) == []
    assert store.get_terminal(record.terminal_id) is None


# ---- signals and deliveries ----------------------------------------------------------------------


def test_the_same_dedup_key_is_one_signal(store: RelayStore) -> None:
    first = signal("stg_a")
    store.record_signal(first, dedup_ttl_seconds=600, lease_until=NOW + timedelta(seconds=15))

    with pytest.raises(DuplicateSignal) as caught:
        store.record_signal(signal("stg_a"), dedup_ttl_seconds=600, lease_until=NOW + timedelta(seconds=15))

    assert caught.value.signal_id == first.signal_id
    store.record_signal(signal("stg_b"), dedup_ttl_seconds=600, lease_until=NOW)  # the key is per strategy
    assert store.get_signal("stg_a", first.signal_id) == first


def test_a_fan_out_lease_is_taken_once_until_it_runs_out(store: RelayStore) -> None:
    record = signal("stg_a")
    store.record_signal(record, dedup_ttl_seconds=600, lease_until=NOW + timedelta(seconds=15))

    assert not store.claim_fanout("stg_a", record.signal_id, now=NOW, lease_until=NOW + timedelta(seconds=30))
    later = NOW + timedelta(seconds=16)
    assert store.claim_fanout("stg_a", record.signal_id, now=later, lease_until=later + timedelta(seconds=15))
    assert not store.claim_fanout("stg_a", record.signal_id, now=later, lease_until=later + timedelta(seconds=15))
    store.mark_fanned_out("stg_a", record.signal_id, deliveries=0, at=later)
    assert not store.claim_fanout("stg_a", record.signal_id, now=later + timedelta(hours=1), lease_until=later)


def test_a_final_delivery_status_is_never_overwritten(store: RelayStore) -> None:
    record = signal("stg_a")
    delivery = DeliveryRecord(
        signal_id=record.signal_id, strategy_id="stg_a", terminal_id="trm_1", status=DeliveryStatus.QUEUED,
        received_at=NOW, queued_at=NOW,
    )  # fmt: skip
    store.put_deliveries([delivery])
    keys = ("stg_a", record.signal_id, "trm_1")

    assert store.mark_pulled(*keys, at=NOW + timedelta(seconds=1), receipt_hash="r1") == DeliveryStatus.PULLED
    assert store.mark_pulled(*keys, at=NOW + timedelta(seconds=2), receipt_hash="r2") == DeliveryStatus.PULLED
    done = Outcome(broker_order_id="b1", filled=100.0)
    assert store.record_outcome(*keys, DeliveryStatus.EXECUTED, done, at=NOW, receipt_hash="r1") == (
        DeliveryStatus.EXECUTED
    )
    late = Outcome(error="x")
    assert store.record_outcome(*keys, DeliveryStatus.FAILED, late, at=NOW, receipt_hash="r2") == (
        DeliveryStatus.EXECUTED
    )
    assert store.mark_expired(*keys, at=NOW) == DeliveryStatus.EXECUTED
    assert store.mark_pulled("stg_a", record.signal_id, "trm_unknown", at=NOW, receipt_hash="r3") is None

    (stored,) = store.deliveries_of("stg_a", record.signal_id)
    assert (stored.status, stored.outcome, stored.pulled_at) == (
        DeliveryStatus.EXECUTED,
        done,
        NOW + timedelta(seconds=1),
    )


def test_the_timeline_is_newest_first_with_each_signals_deliveries(store: RelayStore) -> None:
    records = [signal("stg_a", f"k{n}", NOW + timedelta(seconds=n)) for n in range(3)]
    for record in records:
        store.record_signal(record, dedup_ttl_seconds=600, lease_until=NOW)
    store.put_deliveries(
        [
            DeliveryRecord(signal_id=r.signal_id, strategy_id="stg_a", terminal_id=t, status=DeliveryStatus.QUEUED,
                           received_at=NOW, queued_at=NOW)
            for r in records for t in ("trm_1", "trm_2")
        ]
    )  # fmt: skip
    store.put_leader_positions("stg_a", {"positions": []}, at=NOW)  # shares the partition, not the timeline

    page = list(itertools.islice(store.timeline("stg_a"), 2))
    rest = list(store.timeline("stg_a", before=page[-1].signal.signal_id))

    assert [e.signal.signal_id for e in page] == [records[2].signal_id, records[1].signal_id]
    assert [e.signal.signal_id for e in rest] == [records[0].signal_id]
    for entry in page + rest:
        assert [(d.signal_id, d.terminal_id) for d in entry.deliveries] == [
            (entry.signal.signal_id, "trm_1"),
            (entry.signal.signal_id, "trm_2"),
        ]


def test_an_outcome_is_recorded_only_for_a_receipt_the_delivery_handed_out(store: RelayStore) -> None:
    # Given a delivery never pulled, and one pulled with receipt r1
    record = signal("stg_a")
    store.put_deliveries([delivery_of(record, "trm_1"), delivery_of(record, "trm_2")])
    store.mark_pulled("stg_a", record.signal_id, "trm_2", at=NOW, receipt_hash="r1")
    done = Outcome(broker_order_id="b1")

    # When acks come with receipts nobody handed out
    never_pulled = store.record_outcome(
        "stg_a", record.signal_id, "trm_1", DeliveryStatus.EXECUTED, done, at=NOW, receipt_hash="r1"
    )
    made_up = store.record_outcome(
        "stg_a", record.signal_id, "trm_2", DeliveryStatus.EXECUTED, done, at=NOW, receipt_hash="made-up"
    )

    # Then neither settles anything; the receipt handed out does, and a made-up one still learns nothing
    assert (never_pulled, made_up) == (None, None)
    assert [d.status for d in store.deliveries_of("stg_a", record.signal_id)] == [
        DeliveryStatus.QUEUED,
        DeliveryStatus.PULLED,
    ]
    settled = store.record_outcome(
        "stg_a", record.signal_id, "trm_2", DeliveryStatus.EXECUTED, done, at=NOW, receipt_hash="r1"
    )
    assert settled == DeliveryStatus.EXECUTED
    assert (
        store.record_outcome(
            "stg_a", record.signal_id, "trm_2", DeliveryStatus.FAILED, done, at=NOW, receipt_hash="made-up"
        )
        is None
    )


def delivery_of(record: SignalRecord, terminal_id: str) -> DeliveryRecord:
    return DeliveryRecord(
        signal_id=record.signal_id, strategy_id=record.strategy_id, terminal_id=terminal_id,
        status=DeliveryStatus.QUEUED, received_at=record.received_at, queued_at=record.received_at,
    )  # fmt: skip


# ---- rename, pause, delete -------------------------------------------------------------------------


def test_a_strategy_is_renamed_and_paused_only_by_its_owner(store: RelayStore) -> None:
    mine = strategy()
    store.put_strategy(mine)

    with pytest.raises(NotFound):
        store.update_strategy(mine.strategy_id, "bob", paused=True)
    store.update_strategy(mine.strategy_id, "alice", paused=True)
    store.update_strategy(mine.strategy_id, "alice", name="renamed")

    assert store.get_strategy(mine.strategy_id) == mine.model_copy(update={"paused": True, "name": "renamed"})


def test_a_tombstoned_strategy_reads_as_absent_and_is_purged_in_bounded_steps(store: RelayStore) -> None:
    # Given a strategy with signals, deliveries, a subscription and a snapshot, and a neighbour
    doomed, neighbour, record = strategy(), strategy(), terminal()
    for item in (doomed, neighbour):
        store.put_strategy(item)
    store.put_terminal(record)
    store.put_subscription(subscription(doomed.strategy_id, record.terminal_id))
    store.put_subscription(subscription(neighbour.strategy_id, record.terminal_id))
    signals = [signal(doomed.strategy_id, f"k{n}", NOW + timedelta(seconds=n)) for n in range(3)]
    for item in signals:
        store.record_signal(item, dedup_ttl_seconds=600, lease_until=NOW)
    store.put_deliveries([delivery_of(item, record.terminal_id) for item in signals])
    store.put_leader_positions(doomed.strategy_id, {"positions": []}, at=NOW)
    kept = signal(neighbour.strategy_id)
    store.record_signal(kept, dedup_ttl_seconds=600, lease_until=NOW)

    # When another owner tries, then the owner deletes it
    with pytest.raises(NotFound):
        store.tombstone_strategy(doomed.strategy_id, "bob", at=NOW)
    assert store.get_strategy(doomed.strategy_id) == doomed
    store.tombstone_strategy(doomed.strategy_id, "alice", at=NOW)

    # Then it is gone for every reader at once, and a second tombstone is harmless
    assert store.get_strategy(doomed.strategy_id) is None
    assert [s.strategy_id for s in store.list_strategies("alice")] == [neighbour.strategy_id]
    store.tombstone_strategy(doomed.strategy_id, "alice", at=NOW)
    with pytest.raises(NotFound):
        store.update_strategy(doomed.strategy_id, "alice", paused=True)

    # And the purge goes in steps of at most max_items until the partition, record last, is gone
    store.delete_strategy_subscriptions(doomed.strategy_id)
    assert store.subscriptions_for(doomed.strategy_id) == []
    assert store.subscribed_strategy_ids(record.terminal_id) == [neighbour.strategy_id]
    steps = 0
    while not store.purge_strategy(doomed.strategy_id, max_items=4):
        steps += 1
    assert steps == 2  # 3 markers + 3 signals + 3 deliveries + 1 snapshot = 10 items, 4 per step
    assert list(store.timeline(doomed.strategy_id)) == []
    with pytest.raises(NotFound):
        store.tombstone_strategy(doomed.strategy_id, "alice", at=NOW)  # nothing left to delete
    assert store.get_signal(neighbour.strategy_id, kept.signal_id) == kept


def test_signals_since_a_moment_go_with_their_deliveries_and_older_ones_stay(store: RelayStore) -> None:
    old, recent = signal("stg_a", "old", NOW - timedelta(days=2)), signal("stg_a", "new", NOW)
    for item in (old, recent):
        store.record_signal(item, dedup_ttl_seconds=600, lease_until=NOW)
    store.put_deliveries([delivery_of(old, "trm_1"), delivery_of(recent, "trm_1")])

    store.delete_signals_since("stg_a", since=NOW - timedelta(days=1))

    assert store.get_signal("stg_a", recent.signal_id) is None
    assert store.deliveries_of("stg_a", recent.signal_id) == []
    assert store.mark_pulled("stg_a", recent.signal_id, "trm_1", at=NOW, receipt_hash="r") is None
    assert [e.signal.signal_id for e in store.timeline("stg_a")] == [old.signal_id]


def test_a_signal_deleted_meanwhile_is_not_written_back_by_its_fan_out(store: RelayStore) -> None:
    record = signal("stg_a")
    store.record_signal(record, dedup_ttl_seconds=600, lease_until=NOW)
    store.delete_signals_since("stg_a", since=NOW - timedelta(seconds=1))

    store.mark_fanned_out("stg_a", record.signal_id, deliveries=1, at=NOW)

    assert store.get_signal("stg_a", record.signal_id) is None


def test_a_terminals_subscriptions_carry_their_sizing(store: RelayStore) -> None:
    first, second, record = strategy(), strategy(), terminal()
    store.put_terminal(record)
    for item, multiplier in ((first, 2.0), (second, 0.5)):
        store.put_strategy(item)
        store.put_subscription(
            subscription(item.strategy_id, record.terminal_id).model_copy(
                update={"sizing": {"mode": "ratio", "multiplier": multiplier}}
            )
        )

    found = store.subscriptions_of_terminal(record.terminal_id)

    expected = sorted([(first.strategy_id, 2.0), (second.strategy_id, 0.5)])
    assert [(s.strategy_id, s.sizing["multiplier"]) for s in found] == expected


# ---- the sweeper's work lists and drift ----------------------------------------------------------


def test_only_signals_still_waiting_for_their_fan_out_are_listed_for_the_sweeper(store: RelayStore) -> None:
    mine = strategy()
    store.put_strategy(mine)
    waiting, done = signal(mine.strategy_id, "a"), signal(mine.strategy_id, "b")
    for record in (waiting, done):
        store.record_signal(record, dedup_ttl_seconds=60, lease_until=NOW)
    store.mark_fanned_out(mine.strategy_id, done.signal_id, deliveries=0, at=NOW)

    listed = store.signals_awaiting_fanout(received_before=NOW + timedelta(seconds=1), limit=10)
    assert (mine.strategy_id, waiting.signal_id) in listed and (mine.strategy_id, done.signal_id) not in listed
    assert store.signals_awaiting_fanout(received_before=NOW - timedelta(seconds=1), limit=10) == []


def test_only_deliveries_never_pulled_expire_and_only_once(store: RelayStore) -> None:
    mine = strategy()
    store.put_strategy(mine)
    record = signal(mine.strategy_id)
    store.record_signal(record, dedup_ttl_seconds=60, lease_until=NOW)
    store.put_deliveries([
        DeliveryRecord(signal_id=record.signal_id, strategy_id=mine.strategy_id, terminal_id=t,
                       status=DeliveryStatus.QUEUED, received_at=NOW, queued_at=NOW, expires_at=record.expires_at)
        for t in ("trm_idle", "trm_busy")
    ])  # fmt: skip
    store.mark_pulled(mine.strategy_id, record.signal_id, "trm_busy", at=NOW, receipt_hash="r")
    after = record.expires_at + timedelta(seconds=1)

    due = [d for d in store.unpulled_past_expiry(at=after, limit=10) if d[1] == record.signal_id]
    assert due == [(mine.strategy_id, record.signal_id, "trm_idle")]
    assert store.unpulled_past_expiry(at=record.expires_at - timedelta(seconds=1), limit=10) == []
    assert store.expire_unpulled(mine.strategy_id, record.signal_id, "trm_idle", at=after) is True
    assert store.expire_unpulled(mine.strategy_id, record.signal_id, "trm_idle", at=after) is False
    assert store.expire_unpulled(mine.strategy_id, record.signal_id, "trm_busy", at=after) is False
    assert [d for d in store.unpulled_past_expiry(at=after, limit=10) if d[1] == record.signal_id] == []


def test_the_latest_snapshot_of_a_day_is_the_one_read(store: DriftJobStore) -> None:
    morning, close, next_day = NOW, NOW + timedelta(hours=5), NOW + timedelta(days=1)
    store.put_leader_positions("stg_x", {"v": 1, "positions": [], "totalValue": 1.0}, at=morning)
    store.put_leader_positions("stg_x", {"v": 1, "positions": [], "totalValue": 2.0}, at=close)
    store.put_leader_positions("stg_x", {"v": 1, "positions": [], "totalValue": 3.0}, at=next_day)
    day_start = NOW.replace(hour=0, minute=0)
    found = store.latest_leader_positions("stg_x", since=day_start, until=day_start + timedelta(days=1))
    assert found is not None and found["totalValue"] == 2.0
    assert store.latest_terminal_positions("trm_x", since=day_start, until=day_start + timedelta(days=1)) is None


def test_a_reports_sync_batch_is_recorded_once(store: DriftJobStore) -> None:
    report = DriftReport(terminal_id="trm_x", date=NOW.date(), status=DriftStatus.DRIFT, score=0.5, threshold=0.05,
                         rows=[], sync=[], computed_at=NOW)  # fmt: skip
    with pytest.raises(NotFound):
        store.record_sync_batch("trm_x", NOW.date(), [], at=NOW, dedup_ttl_seconds=60)
    store.put_drift_report(report)
    batch = [signal("stg_x", "sync-1")]
    store.record_sync_batch("trm_x", NOW.date(), batch, at=NOW, dedup_ttl_seconds=60)
    with pytest.raises(Conflict):
        store.record_sync_batch("trm_x", NOW.date(), [signal("stg_x", "sync-2")], at=NOW, dedup_ttl_seconds=60)
    stored = store.get_drift_report("trm_x")
    assert stored is not None and stored.sync_sent_at == NOW
    store.put_drift_report(report)  # a recomputation keeps when the sync went
    assert (store.get_drift_report("trm_x", NOW.date()) or report).sync_sent_at == NOW
    assert store.get_signal("stg_x", batch[0].signal_id) is not None


# ---- push ------------------------------------------------------------------------------------------


def test_a_push_receipt_written_with_the_delivery_settles_it_and_pushed_at_keeps_the_first_push(
    store: RelayStore,
) -> None:
    record = signal("stg_a")
    store.put_deliveries([delivery_of(record, "trm_1"), delivery_of(record, "trm_2")], push_receipts={"trm_1": "p1"})
    keys = ("stg_a", record.signal_id, "trm_1")

    store.mark_pushed(*keys, at=NOW + timedelta(seconds=1))
    store.mark_pushed(*keys, at=NOW + timedelta(seconds=5))
    done = Outcome(filled=100.0)
    # the push receipt is only trm_1's
    assert store.record_outcome("stg_a", record.signal_id, "trm_2", DeliveryStatus.EXECUTED, done, at=NOW,
                                receipt_hash="p1") is None  # fmt: skip
    assert store.record_outcome(*keys, DeliveryStatus.EXECUTED, done, at=NOW, receipt_hash="p1") == (
        DeliveryStatus.EXECUTED
    )
    store.mark_pushed(*keys, at=NOW + timedelta(seconds=9))  # a late write keeps the settled status
    store.mark_pushed("stg_a", record.signal_id, "trm_gone", at=NOW)  # no record: nothing is written

    stored = {d.terminal_id: d for d in store.deliveries_of("stg_a", record.signal_id)}
    assert set(stored) == {"trm_1", "trm_2"}
    assert (stored["trm_1"].status, stored["trm_1"].pushed_at) == (DeliveryStatus.EXECUTED, NOW + timedelta(seconds=1))
    # handed over at the push: the ack does not move pulledAt to its own time
    assert stored["trm_1"].pulled_at == NOW + timedelta(seconds=1)
    assert (stored["trm_2"].status, stored["trm_2"].pushed_at) == (DeliveryStatus.QUEUED, None)


def test_a_push_connection_is_the_newest_one_and_a_stale_disconnect_keeps_it(store: RelayStore) -> None:
    first, second = terminal(), terminal()
    store.put_terminal(first)
    store.put_terminal(second)

    store.set_push_connection(first.terminal_id, "old", at=NOW)
    store.set_push_connection(first.terminal_id, "new", at=NOW)  # a refresh: new before old closes
    assert store.forget_connection("old") == first.terminal_id
    assert store.clear_push_connection(first.terminal_id, "old") is False
    assert store.push_connections([first.terminal_id, second.terminal_id, "trm_unknown"]) == {first.terminal_id: "new"}
    assert store.forget_connection("new") == first.terminal_id
    assert store.clear_push_connection(first.terminal_id, "new") is True
    assert store.forget_connection("new") is None
    assert store.push_connections([first.terminal_id]) == {}
    with pytest.raises(NotFound):
        store.set_push_connection("trm_unknown", "c", at=NOW)


# ---- throttling (quantlink.throttling): the stored counter decides, never what the caller read --------

PULLS = TerminalRate(name="pull", limit=3, window_seconds=60)
ACKS = TerminalRate(name="ack", limit=2, window_seconds=60)


def test_pulls_past_the_limit_are_refused_until_the_window_ends(store: RelayStore) -> None:
    record = terminal()
    store.put_terminal(record)
    start = NOW.replace(second=10)
    for n in range(3):  # each claim reads the record first, as the pull does
        relay.claim_device(store, _read(store, record), "device-aaaa", at=start + timedelta(seconds=n), rate=PULLS)
    with pytest.raises(RateLimited) as refused:
        relay.claim_device(store, _read(store, record), "device-aaaa", at=start + timedelta(seconds=5), rate=PULLS)
    assert refused.value.retry_after == 45  # the window ends at :00 of the next minute
    assert refused.value.headers() == {"Retry-After": "45"}
    assert refused.value.body()["code"] == "RATE_LIMITED"
    # The next window admits again, and counts from one.
    relay.claim_device(store, _read(store, record), "device-aaaa", at=start + timedelta(seconds=50), rate=PULLS)
    stored = _read(store, record)
    assert (stored.pull_window, stored.pull_count) == (PULLS.window(start + timedelta(seconds=50)), 1)
    assert stored.last_seen_at == start + timedelta(seconds=50)


def test_a_stale_record_counts_nothing_twice_and_admits_no_call_past_the_limit(store: RelayStore) -> None:
    """Calls that all read the record before any of them wrote (racing pulls): the writes' conditions
    decide, so exactly `limit` of them are admitted, in the old window and in a new one."""
    record = terminal()
    store.put_terminal(record)
    for at in (NOW, NOW + timedelta(minutes=1)):
        stale = _read(store, record)
        admitted = 0
        for n in range(5):
            try:
                relay.claim_device(store, stale, "device-aaaa", at=at + timedelta(seconds=n), rate=PULLS)
                admitted += 1
            except RateLimited:
                pass
        assert admitted == PULLS.limit
        assert _read(store, record).pull_count == PULLS.limit


def test_a_throttled_pull_of_another_device_is_still_device_taken_over(store: RelayStore) -> None:
    record = terminal()
    store.put_terminal(record)
    for n in range(3):
        relay.claim_device(store, _read(store, record), "device-aaaa", at=NOW + timedelta(seconds=n), rate=PULLS)
    with pytest.raises(DeviceTakenOver):
        relay.claim_device(store, record, "device-bbbb", at=NOW + timedelta(seconds=4), rate=PULLS)


def test_acks_have_their_own_counter(store: RelayStore) -> None:
    record = terminal()
    store.put_terminal(record)
    relay.claim_device(store, _read(store, record), "device-aaaa", at=NOW, rate=PULLS)
    relay.count_call(store, _read(store, record), ACKS, at=NOW)
    relay.count_call(store, _read(store, record), ACKS, at=NOW)
    with pytest.raises(RateLimited):
        relay.count_call(store, _read(store, record), ACKS, at=NOW + timedelta(seconds=1))
    stored = _read(store, record)
    assert (stored.pull_count, stored.ack_count) == (1, 2)
    # The pulls' window is untouched by the acks': two more pulls fit.
    relay.claim_device(store, stored, "device-aaaa", at=NOW + timedelta(seconds=2), rate=PULLS)
    with pytest.raises(NotFound):
        relay.count_call(store, terminal(), ACKS, at=NOW)  # never stored (or deleted since it was read)


def _read(store: RelayStore, record: Terminal) -> Terminal:
    found = store.get_terminal(record.terminal_id)
    assert found is not None
    return found
