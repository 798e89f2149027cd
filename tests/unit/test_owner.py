"""The owner operations on in-memory fakes of their ports: what each answers, what it writes, and that
another owner's record (or a malformed id) is NOT_FOUND with nothing changed. (The same routes run
against moto in tests/integration/test_owner_api.py.)"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from quantlink.errors import Conflict, NotFound, ValidationFailed
from quantlink.ids import hash_secret, new_signal_id
from quantlink.models import (
    CreateStrategyBody,
    CreateTerminalBody,
    DeliveryRecord,
    DeliveryStatus,
    InjectBody,
    Leader,
    Outcome,
    Side,
    SignalRecord,
    SignalState,
    SignalStatus,
    Sizing,
    SizingMode,
    Terminal,
    UpdateStrategyBody,
)
from quantlink.owner import strategies, subscriptions, terminals
from tests.unit.fakes import FakeQueues, FakeStore

API = "https://api.example.com/prod/"
CODE = "def initialize(context):\n    order_target_value('600000.XSHG', 1000)\n"
NOW = datetime(2026, 11, 20, 1, 31, tzinfo=UTC)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def queues() -> FakeQueues:
    return FakeQueues()


def strategy_of(store: FakeStore, owner: str = "alice", name: str = "Momentum") -> str:
    return strategies.create_strategy(store, owner, CreateStrategyBody(name=name), api_base=API).strategy_id


def terminal_of(store: FakeStore, queues: FakeQueues, owner: str = "alice") -> str:
    created = terminals.register_terminal(
        store, queues, owner, CreateTerminalBody(name="PC"), visibility_timeout_seconds=60
    )
    return created.terminal_id


def snapshot(store: FakeStore, queues: FakeQueues | None = None) -> object:
    """Everything the operations can change: every record, and the queues that exist."""
    return copy.deepcopy((store, dict(queues.created) if queues else None))


# ---- strategies ----------------------------------------------------------------------------------


def test_a_created_strategy_shows_its_token_once_and_stores_only_its_hash(store: FakeStore) -> None:
    created = strategies.create_strategy(
        store, "alice", CreateStrategyBody(name="沪深300", signal_ttl_seconds=90), api_base=API
    )

    stored = store.strategies[created.strategy_id]
    assert stored.webhook_token_hash == hash_secret(created.webhook_token) != created.webhook_token
    assert created.webhook_url == f"https://api.example.com/prod/api/webhooks/joinquant/{created.strategy_id}"
    assert (created.name, created.signal_ttl_seconds, stored.owner_id) == ("沪深300", 90, "alice")
    assert list(created.wire()) == [
        "strategyId", "name", "webhookUrl", "signalTtlSeconds", "paused", "createdAt", "source", "webhookToken"
    ]  # fmt: skip


def test_listing_shows_only_the_callers_strategies_newest_first_without_secrets(store: FakeStore) -> None:
    first, second = strategy_of(store, name="one"), strategy_of(store, name="two")
    store.strategies[first] = store.strategies[first].model_copy(update={"created_at": NOW - timedelta(days=1)})
    store.strategies[second] = store.strategies[second].model_copy(update={"created_at": NOW})
    strategy_of(store, "bob")

    listed = strategies.list_strategies(store, "alice", api_base=API)

    assert [item.strategy_id for item in listed.items] == [second, first]
    assert "webhookToken" not in listed.model_dump_json(by_alias=True)


@pytest.mark.parametrize("strategy_id", ["stg_0000000000000000", "trm_notastrategy", "stg_" + "x" * 100])
def test_an_unknown_or_malformed_strategy_id_is_not_found(store: FakeStore, strategy_id: str) -> None:
    with pytest.raises(NotFound):
        strategies.get_strategy(store, "alice", strategy_id, api_base=API)


def test_another_owners_strategy_is_not_found_for_every_operation_and_nothing_changes(store: FakeStore) -> None:
    theirs = strategy_of(store, "bob")
    before = snapshot(store)
    operations = [
        lambda: strategies.get_strategy(store, "alice", theirs, api_base=API),
        lambda: strategies.rotate_webhook_token(store, "alice", theirs),
        lambda: strategies.inject_code(store, "alice", theirs, InjectBody(code=CODE, rotate_token=True), api_base=API),
        lambda: strategies.signal_timeline(store, "alice", theirs, limit=10, before=None),
    ]
    for operation in operations:
        with pytest.raises(NotFound) as caught:
            operation()
        assert caught.value.message == "No such strategy."
    assert snapshot(store) == before


def test_rotating_the_webhook_token_replaces_the_stored_hash(store: FakeStore) -> None:
    strategy_id = strategy_of(store)

    rotated = strategies.rotate_webhook_token(store, "alice", strategy_id)

    assert store.strategies[strategy_id].webhook_token_hash == hash_secret(rotated.webhook_token)


def test_injecting_embeds_the_placeholder_and_leaves_the_token_alone(store: FakeStore) -> None:
    strategy_id = strategy_of(store)
    token_hash = store.strategies[strategy_id].webhook_token_hash

    result = strategies.inject_code(store, "alice", strategy_id, InjectBody(code=CODE), api_base=API)

    assert result.injected == 1 and "<QUANTLINK_WEBHOOK_TOKEN>" in result.code
    assert f"api.example.com/prod/api/webhooks/joinquant/{strategy_id}" in result.code
    assert "<QUANTLINK_WEBHOOK_TOKEN> stands where the webhook token belongs" in result.warnings[-1]
    assert "refuses every order" in result.warnings[-1] and "rotateToken: true" in result.warnings[-1]
    assert "webhookToken" not in result.wire()  # omitted, not null
    assert store.strategies[strategy_id].webhook_token_hash == token_hash


def test_injecting_with_rotate_token_embeds_the_new_token_and_stores_its_hash(store: FakeStore) -> None:
    strategy_id = strategy_of(store)

    result = strategies.inject_code(store, "alice", strategy_id, InjectBody(code=CODE, rotate_token=True), api_base=API)

    assert result.webhook_token is not None and result.webhook_token in result.code
    assert store.strategies[strategy_id].webhook_token_hash == hash_secret(result.webhook_token)
    assert list(result.wire()) == ["code", "injected", "warnings", "webhookToken"]


def test_code_that_does_not_parse_rotates_nothing(store: FakeStore) -> None:
    strategy_id = strategy_of(store)
    before = snapshot(store)

    with pytest.raises(ValidationFailed):
        strategies.inject_code(
            store, "alice", strategy_id, InjectBody(code="def initialize(context:\n", rotate_token=True), api_base=API
        )

    assert snapshot(store) == before


def signal(strategy_id: str, at: datetime) -> SignalRecord:
    return SignalRecord(
        signal_id=new_signal_id(int(at.timestamp() * 1000)), strategy_id=strategy_id, status=SignalStatus.FANNED_OUT,
        seq=1, security="600000.SH", source_security="600000.XSHG", side=Side.BUY, amount=100, leader=Leader(),
        dedup_key=f"k{at.timestamp()}", received_at=at, expires_at=at + timedelta(minutes=5),
    )  # fmt: skip


def test_the_timeline_pages_newest_first_with_each_signals_deliveries(store: FakeStore) -> None:
    strategy_id = strategy_of(store)
    sent = [signal(strategy_id, NOW + timedelta(seconds=n)) for n in range(3)]
    for record in sent:
        store.signals[record.signal_id] = record
    pulled = DeliveryRecord(
        signal_id=sent[2].signal_id, strategy_id=strategy_id, terminal_id="trm_1", status=DeliveryStatus.EXECUTED,
        received_at=NOW, queued_at=NOW, pulled_at=NOW + timedelta(milliseconds=40),
        acked_at=NOW + timedelta(milliseconds=90), outcome=Outcome(broker_order_id="b1", filled=100),
    )  # fmt: skip
    store.put_deliveries([pulled])

    first = strategies.signal_timeline(store, "alice", strategy_id, limit=2, before=None)
    rest = strategies.signal_timeline(store, "alice", strategy_id, limit=2, before=first.next_before)

    assert [s.signal_id for s in first.items] == [sent[2].signal_id, sent[1].signal_id]
    assert [s.signal_id for s in rest.items] == [sent[0].signal_id] and rest.next_before is None
    (delivery,) = first.items[0].deliveries
    assert (delivery.latency_ms, delivery.ack_latency_ms, delivery.broker_order_id) == (40, 90, "b1")
    assert "dedupKey" not in first.items[0].wire()


# ---- terminals -----------------------------------------------------------------------------------


def test_registering_creates_the_queue_and_stores_only_the_tokens_hash(store: FakeStore, queues: FakeQueues) -> None:
    created = terminals.register_terminal(
        store, queues, "alice", CreateTerminalBody(name="PC"), visibility_timeout_seconds=45
    )

    stored = store.terminals[created.terminal_id]
    assert created.auth_token.startswith(f"{created.terminal_id}.")
    assert stored.auth_token_hash == hash_secret(created.auth_token)
    assert queues.created == {stored.queue_url: 45}
    assert created.device_bound is False


def test_a_terminal_that_cannot_be_stored_leaves_no_queue(store: FakeStore, queues: FakeQueues) -> None:
    class Refusing(FakeStore):
        def put_terminal(self, terminal: Terminal) -> None:
            raise Conflict("A terminal with this id already exists.")

    with pytest.raises(Conflict):
        terminals.register_terminal(
            Refusing(), queues, "alice", CreateTerminalBody(name="PC"), visibility_timeout_seconds=60
        )

    assert queues.created == {}


def test_a_terminal_view_lists_its_subscriptions(store: FakeStore, queues: FakeQueues) -> None:
    terminal_id, strategy_id = terminal_of(store, queues), strategy_of(store)
    subscriptions.subscribe(store, "alice", terminal_id, strategy_id, None)
    terminal_of(store, queues, "bob")

    (listed,) = terminals.list_terminals(store, "alice").items

    assert (listed.terminal_id, listed.subscriptions) == (terminal_id, [strategy_id])
    assert terminals.get_terminal(store, "alice", terminal_id) == listed


def test_another_owners_terminal_is_not_found_for_every_operation_and_nothing_changes(
    store: FakeStore, queues: FakeQueues
) -> None:
    theirs, mine = terminal_of(store, queues, "bob"), strategy_of(store, "alice")
    store.claim_device(theirs, hash_secret("device-bob"), at=NOW)
    before = snapshot(store, queues)
    operations = [
        lambda: terminals.get_terminal(store, "alice", theirs),
        lambda: terminals.delete_terminal(store, queues, "alice", theirs),
        lambda: terminals.rotate_terminal_token(store, "alice", theirs),
        lambda: terminals.release_device(store, "alice", theirs),
        lambda: subscriptions.subscribe(store, "alice", theirs, mine, None),
        lambda: subscriptions.unsubscribe(store, "alice", theirs, mine),
    ]
    for operation in operations:
        with pytest.raises(NotFound) as caught:
            operation()
        assert caught.value.message == "No such terminal."
    assert snapshot(store, queues) == before


def test_deleting_a_terminal_removes_its_subscriptions_holdings_and_queue(store: FakeStore, queues: FakeQueues) -> None:
    terminal_id, strategy_id = terminal_of(store, queues), strategy_of(store)
    subscriptions.subscribe(store, "alice", terminal_id, strategy_id, None)
    store.put_terminal_positions(terminal_id, {"positions": []}, at=NOW)

    terminals.delete_terminal(store, queues, "alice", terminal_id)

    assert (store.terminals, store.subscriptions, store.positions, queues.created) == ({}, [], [], {})


def test_rotating_a_terminal_token_keeps_the_bound_device(store: FakeStore, queues: FakeQueues) -> None:
    terminal_id = terminal_of(store, queues)
    store.claim_device(terminal_id, hash_secret("device-a"), at=NOW)

    rotated = terminals.rotate_terminal_token(store, "alice", terminal_id)

    stored = store.terminals[terminal_id]
    assert stored.auth_token_hash == hash_secret(rotated.auth_token)
    assert stored.device_fingerprint_hash == hash_secret("device-a")


def test_releasing_the_device_unbinds_it_so_another_device_can_claim(store: FakeStore, queues: FakeQueues) -> None:
    terminal_id = terminal_of(store, queues)
    store.claim_device(terminal_id, hash_secret("device-a"), at=NOW)

    released = terminals.release_device(store, "alice", terminal_id)

    assert (released.device_bound, released.device_bound_at, released.last_seen_at) == (False, None, NOW)
    store.claim_device(terminal_id, hash_secret("device-b"), at=NOW)
    assert store.terminals[terminal_id].device_fingerprint_hash == hash_secret("device-b")


# ---- subscriptions -------------------------------------------------------------------------------


def test_subscribing_materializes_what_the_hot_path_needs(store: FakeStore, queues: FakeQueues) -> None:
    terminal_id, strategy_id = terminal_of(store, queues), strategy_of(store)

    view = subscriptions.subscribe(
        store, "alice", terminal_id, strategy_id, Sizing(mode=SizingMode.FIXED, multiplier=2)
    )

    (materialized,) = store.subscriptions_for(strategy_id)
    assert (materialized.terminal_id, materialized.owner_id) == (terminal_id, "alice")
    assert materialized.queue_url == store.terminals[terminal_id].queue_url
    assert materialized.sizing == {"mode": "fixed", "multiplier": 2.0}
    assert view.wire() == {"terminalId": terminal_id, "strategyId": strategy_id, "sizing": materialized.sizing}


def test_subscribing_again_replaces_the_sizing_and_unsubscribing_stops_delivery(
    store: FakeStore, queues: FakeQueues
) -> None:
    terminal_id, strategy_id = terminal_of(store, queues), strategy_of(store)
    subscriptions.subscribe(store, "alice", terminal_id, strategy_id, None)

    subscriptions.subscribe(store, "alice", terminal_id, strategy_id, Sizing(multiplier=3))

    (materialized,) = store.subscriptions_for(strategy_id)
    assert materialized.sizing == {"mode": "ratio", "multiplier": 3.0}
    subscriptions.unsubscribe(store, "alice", terminal_id, strategy_id)
    assert store.subscriptions_for(strategy_id) == []


def test_subscribing_to_another_owners_strategy_is_not_found(store: FakeStore, queues: FakeQueues) -> None:
    mine, theirs = terminal_of(store, queues, "alice"), strategy_of(store, "bob")

    with pytest.raises(NotFound) as caught:
        subscriptions.subscribe(store, "alice", mine, theirs, None)

    assert caught.value.message == "No such strategy."
    assert store.subscriptions == []


# ---- rename, pause, delete -----------------------------------------------------------------------


def test_an_update_changes_only_the_fields_given(store: FakeStore) -> None:
    strategy_id = strategy_of(store, name="before")

    paused = strategies.update_strategy(store, "alice", strategy_id, UpdateStrategyBody(paused=True), api_base=API)
    renamed = strategies.update_strategy(store, "alice", strategy_id, UpdateStrategyBody(name="after"), api_base=API)

    assert (paused.name, paused.paused) == ("before", True)
    assert (renamed.name, renamed.paused) == ("after", True)
    assert store.strategies[strategy_id].model_dump(include={"name", "paused"}) == {"name": "after", "paused": True}


def test_another_owner_can_neither_update_nor_delete_and_nothing_changes(store: FakeStore) -> None:
    theirs = strategy_of(store, "bob")
    before = snapshot(store)

    for operation in (
        lambda: strategies.update_strategy(store, "alice", theirs, UpdateStrategyBody(paused=True), api_base=API),
        lambda: strategies.delete_strategy(store, "alice", theirs, purge_batch=100),
    ):
        with pytest.raises(NotFound):
            operation()
    assert snapshot(store) == before


def test_deleting_removes_subscriptions_and_signals_and_reads_as_unknown(store: FakeStore, queues: FakeQueues) -> None:
    strategy_id, terminal_id = strategy_of(store), terminal_of(store, queues)
    subscriptions.subscribe(store, "alice", terminal_id, strategy_id, None)
    store.record_signal(signal(strategy_id, datetime.now(UTC)), dedup_ttl_seconds=60, lease_until=NOW)

    strategies.delete_strategy(store, "alice", strategy_id, purge_batch=100)

    assert store.get_strategy(strategy_id) is None and store.signals == {} and store.subscriptions == []
    with pytest.raises(NotFound):
        strategies.get_strategy(store, "alice", strategy_id, api_base=API)
    with pytest.raises(NotFound):
        strategies.delete_strategy(store, "alice", strategy_id, purge_batch=100)  # nothing left


def test_a_filtered_timeline_reads_a_bounded_number_of_signals_per_page(
    store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy_id = strategy_of(store)
    sent = [signal(strategy_id, NOW + timedelta(seconds=n)) for n in range(7)]
    for record in sent:
        store.signals[record.signal_id] = record  # FANNED_OUT with no delivery: UNDELIVERED
    monkeypatch.setattr(strategies, "TIMELINE_SCAN_LIMIT", 3)

    first = strategies.signal_timeline(store, "alice", strategy_id, limit=10, before=None, status=SignalState.EXECUTED)
    pages = [first]
    while pages[-1].next_before is not None:
        pages.append(
            strategies.signal_timeline(
                store, "alice", strategy_id, limit=10, before=pages[-1].next_before, status=SignalState.EXECUTED
            )
        )

    assert first.items == [] and first.next_before == sent[4].signal_id  # 3 read, none matched
    assert len(pages) == 3 and all(page.items == [] for page in pages)
    undelivered = strategies.signal_timeline(
        store, "alice", strategy_id, limit=10, before=None, status=SignalState.UNDELIVERED
    )
    assert len(undelivered.items) == 3 and undelivered.next_before == sent[4].signal_id
