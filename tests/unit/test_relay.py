"""The relay's orchestration, on in-memory fakes of its ports: what is written before what, when a
duplicate re-drives, what a pull drops, what an ack settles. (The same paths run against moto in
tests/integration and over HTTP in tests/e2e.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from quantlink import relay
from quantlink.errors import DeviceTakenOver, RateLimited, Unauthorized, Unavailable
from quantlink.ids import hash_secret, new_signal_id
from quantlink.models import Ack, AckStatus, DeliveryStatus, SignalStatus, Strategy, Subscription, Terminal
from quantlink.ratelimit import RateLimit
from quantlink.sources import joinquant
from tests.unit.fakes import FakeQueues, FakeStore

NOW = datetime(2026, 11, 20, 1, 31, tzinfo=UTC)
STRATEGY = Strategy(
    strategy_id="stg_a", owner_id="u1", name="s", webhook_token_hash=hash_secret("qlw_token"), created_at=NOW
)


def terminal(n: int) -> Terminal:
    return Terminal(
        terminal_id=f"trm_{n}",
        owner_id="u1",
        name=f"pc{n}",
        kind="qmt",
        auth_token_hash=hash_secret(f"trm_{n}.secret"),
        queue_url=f"q{n}",
        created_at=NOW,
    )


@pytest.fixture
def world() -> tuple[FakeStore, FakeQueues]:
    store = FakeStore(strategies={"stg_a": STRATEGY}, terminals={f"trm_{n}": terminal(n) for n in (1, 2)})
    store.subscriptions = [
        Subscription(strategy_id="stg_a", terminal_id=f"trm_{n}", owner_id="u1", queue_url=f"q{n}", created_at=NOW)
        for n in (1, 2)
    ]
    return store, FakeQueues(store=store)


def webhook(
    store: FakeStore,
    queues: FakeQueues,
    seq: int = 1,
    *,
    at: datetime = NOW,
    rate_limit: RateLimit | None = None,
    strategy: Strategy = STRATEGY,
) -> relay.Received:
    raw = json.dumps({"v": 1, "seq": seq, "order": {"security": "600000.XSHG", "side": "buy", "amount": 100}})
    incoming = joinquant.parse_signal({}, raw.encode(), max_bytes=65536)
    return relay.receive_signal(
        store, queues, strategy, incoming, signal_id=new_signal_id(), dedup_ttl_seconds=600, lease_seconds=15,
        received_at=at, rate_limit=rate_limit,
    )  # fmt: skip


def test_a_new_signal_records_deliveries_before_any_send_then_fans_out(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    received = webhook(store, queues)
    assert (received.duplicate, received.deliveries) == (False, 2)
    kinds = [entry.split()[0] for entry in store.log]
    # every delivery record exists before the first send: a pulled message always has one
    assert kinds.index("send") > max(i for i, k in enumerate(kinds) if k == "delivery")
    assert kinds[-1] == "fanned"
    assert store.signals[received.signal_id].status == SignalStatus.FANNED_OUT
    assert queues.depth("q1") == queues.depth("q2") == 1


def test_a_duplicate_writes_and_sends_nothing_while_the_first_fan_out_holds_its_lease(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    store.subscriptions.clear()  # the first attempt is "still fanning out": RECEIVED, lease held
    first = webhook(store, queues)
    store.signals[first.signal_id] = store.signals[first.signal_id].model_copy(update={"status": SignalStatus.RECEIVED})
    store.leases[first.signal_id] = datetime.now(UTC) + timedelta(hours=1)
    writes = list(store.log)

    again = webhook(store, queues)

    assert (again.signal_id, again.duplicate) == (first.signal_id, True)
    assert store.log == writes


def test_a_failed_send_leaves_the_signal_received_and_the_retry_re_drives_only_what_is_missing(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    queues.fail_sends_to.add("q2")
    with pytest.raises(Unavailable):
        webhook(store, queues)
    (signal,) = store.signals.values()
    assert signal.status == SignalStatus.RECEIVED
    assert store.leases[signal.signal_id] is None  # released: the retry need not wait for the lease
    assert (queues.depth("q1"), queues.depth("q2")) == (1, 0)

    queues.fail_sends_to.clear()
    retry = webhook(store, queues)

    assert (retry.signal_id, retry.duplicate) == (signal.signal_id, True)
    assert store.signals[signal.signal_id].status == SignalStatus.FANNED_OUT
    # q1 was not sent twice (FIFO dedup by signal id), q2 finally got it
    assert (queues.depth("q1"), queues.depth("q2")) == (1, 1)
    assert len(store.deliveries) == 2


def test_a_pull_drops_expired_and_already_settled_signals(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    expired = webhook(store, queues, 1, at=datetime.now(UTC) - timedelta(hours=1))
    settled = webhook(store, queues, 2)
    live = webhook(store, queues, 3, at=datetime.now(UTC))
    store.deliveries[(settled.signal_id, "trm_1")] = store.deliveries[(settled.signal_id, "trm_1")].model_copy(
        update={"status": DeliveryStatus.EXECUTED}
    )

    pulled = relay.pull_signals(store, queues, terminal(1), wait_seconds=0, max_signals=10)

    assert [s["signalId"] for s in pulled] == [live.signal_id]
    assert store.deliveries[(expired.signal_id, "trm_1")].status == DeliveryStatus.EXPIRED
    assert store.deliveries[(live.signal_id, "trm_1")].status == DeliveryStatus.PULLED
    assert queues.depth("q1") == 1  # only the delivered one waits for its ack


def test_acks_settle_once_and_unknown_signals_are_refused(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    received = webhook(store, queues, at=datetime.now(UTC))
    (signal,) = relay.pull_signals(store, queues, terminal(1), wait_seconds=0, max_signals=10)
    ack = Ack(signal_id=signal["signalId"], ack_token=signal["ackToken"], status=AckStatus.EXECUTED, filled=100)
    late = Ack(signal_id=signal["signalId"], ack_token=signal["ackToken"], status=AckStatus.FAILED, error="x")
    unknown = Ack(signal_id="sig_nope", ack_token=signal["ackToken"], status=AckStatus.EXECUTED)

    first = relay.ack_signals(store, queues, terminal(1), [ack])
    second = relay.ack_signals(store, queues, terminal(1), [late, unknown])

    assert first == [{"signalId": received.signal_id, "ok": True, "status": "EXECUTED"}]
    assert second[0] == {"signalId": received.signal_id, "ok": True, "status": "EXECUTED"}  # first outcome kept
    assert (second[1]["ok"], second[1]["code"]) == (False, "NOT_FOUND")
    assert store.deliveries[(received.signal_id, "trm_1")].outcome.filled == 100
    assert queues.depth("q1") == 0


def test_the_first_device_claims_a_terminal_and_another_is_turned_away(world: tuple[FakeStore, FakeQueues]) -> None:
    store, _ = world
    relay.claim_device(store, store.terminals["trm_1"], "device-aaaa", at=NOW)
    relay.claim_device(store, store.terminals["trm_1"], "device-aaaa", at=NOW)  # the same device again
    with pytest.raises(DeviceTakenOver):
        relay.claim_device(store, store.terminals["trm_1"], "device-bbbb", at=NOW)


def test_wrong_tokens_and_unknown_ids_are_the_same_unauthorized(world: tuple[FakeStore, FakeQueues]) -> None:
    store, _ = world
    assert relay.authenticate_strategy(store, "stg_a", "qlw_token") == STRATEGY
    for strategy_id, token in (("stg_a", "qlw_wrong"), ("stg_zzz", "qlw_token"), ("stg_a", None), ("x" * 500, "t")):
        with pytest.raises(Unauthorized) as caught:
            relay.authenticate_strategy(store, strategy_id, token)
        assert caught.value.message == "Invalid strategy id or webhook token."
    assert relay.authenticate_terminal(store, "trm_1.secret").terminal_id == "trm_1"
    with pytest.raises(Unauthorized):
        relay.authenticate_terminal(store, "trm_1.other")


# ---- the kill switch and deleted strategies ----------------------------------------------------------


def test_a_paused_strategys_signal_is_recorded_held_and_nothing_is_sent(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    paused = STRATEGY.model_copy(update={"paused": True})
    raw = json.dumps({"v": 1, "seq": 1, "order": {"security": "600000.XSHG", "side": "buy", "amount": 100}})
    incoming = joinquant.parse_signal({}, raw.encode(), max_bytes=65536)

    received = relay.receive_signal(
        store, queues, paused, incoming, signal_id=new_signal_id(), dedup_ttl_seconds=600, lease_seconds=15,
        received_at=NOW,
    )  # fmt: skip

    assert (received.held, received.deliveries, received.duplicate) == (True, 0, False)
    assert store.signals[received.signal_id].status == SignalStatus.HELD
    assert store.deliveries == {} and queues.depth("q1") == queues.depth("q2") == 0
    assert not store.claim_fanout("stg_a", received.signal_id, now=NOW + timedelta(days=1), lease_until=NOW)


def test_a_message_whose_delivery_record_is_gone_is_dropped_not_delivered(world: tuple[FakeStore, FakeQueues]) -> None:
    # Given a queued signal whose strategy was deleted (its deliveries went with it)
    store, queues = world
    received = webhook(store, queues, at=datetime.now(UTC))
    store.delete_signals_since("stg_a", since=datetime.now(UTC) - timedelta(hours=1))

    pulled = relay.pull_signals(store, queues, terminal(1), wait_seconds=0, max_signals=10)

    assert pulled == [] and queues.depth("q1") == 0
    assert received.signal_id not in store.signals


# ---- the shortest path: deliveries in the dedup transaction; the rate limit inside it too -----------


def test_past_one_transaction_every_delivery_record_is_still_written_before_its_terminals_send(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    # Given more subscribed terminals than one DynamoDB transaction holds besides the marker and the record
    store, queues = world
    store.subscriptions = [
        Subscription(strategy_id="stg_a", terminal_id=f"trm_{n:03d}", owner_id="u1", queue_url=f"q{n:03d}",
                     created_at=NOW)
        for n in range(130)
    ]  # fmt: skip

    received = webhook(store, queues)

    # Then each terminal's record precedes its send, the first 98 records are in the recording write itself,
    # and every terminal got the signal once
    assert received.deliveries == 130
    at = {entry: i for i, entry in enumerate(store.log)}
    for n in range(130):
        assert at[f"delivery trm_{n:03d}"] < at[f"send q{n:03d}"]
        assert queues.depth(f"q{n:03d}") == 1
    record = at[f"record {received.signal_id}"]
    assert [store.log[record + 1 + i] for i in range(98)] == [f"delivery trm_{n:03d}" for n in range(98)]
    assert store.signals[received.signal_id].status == SignalStatus.FANNED_OUT


def test_a_webhook_past_the_rate_limit_records_nothing_and_says_when_to_retry(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    limit = RateLimit(limit=3, window_seconds=10)
    window_start = datetime.fromtimestamp(limit.window_start(NOW), UTC)
    for seq in (1, 2, 3):
        assert webhook(store, queues, seq, at=window_start + timedelta(seconds=2), rate_limit=limit).deliveries == 2
    signals, dedup, sent = dict(store.signals), dict(store.dedup), (queues.depth("q1"), queues.depth("q2"))

    # When a fourth signal comes 3.5 s into the same window
    with pytest.raises(RateLimited) as refused:
        webhook(store, queues, 4, at=window_start + timedelta(seconds=3.5), rate_limit=limit)

    # Then nothing is recorded or sent, and the answer says when the next window opens
    assert (refused.value.status, refused.value.code) == (429, "RATE_LIMITED")
    assert refused.value.headers() == {"Retry-After": "7"}
    assert (store.signals, store.dedup) == (signals, dedup)
    assert (queues.depth("q1"), queues.depth("q2")) == sent
    # a retry of a signal already recorded is a duplicate, never refused (nor counted)
    assert webhook(store, queues, 2, at=window_start + timedelta(seconds=4), rate_limit=limit).duplicate
    # and in the next window the refused signal goes through
    accepted = webhook(store, queues, 4, at=window_start + timedelta(seconds=10), rate_limit=limit)
    assert (accepted.duplicate, accepted.deliveries) == (False, 2)


def test_a_paused_strategys_held_signals_count_against_the_limit_too(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    paused = STRATEGY.model_copy(update={"paused": True})
    limit = RateLimit(limit=1, window_seconds=60)
    assert webhook(store, queues, 1, rate_limit=limit, strategy=paused).held
    with pytest.raises(RateLimited):
        webhook(store, queues, 2, rate_limit=limit, strategy=paused)
    assert len(store.signals) == 1


@pytest.mark.parametrize(
    ("offset", "retry_after"), [(0.0, 10), (0.2, 10), (3.5, 7), (9.0, 1), (9.9, 1)]
)  # fmt: skip
def test_retry_after_is_the_whole_seconds_until_the_next_window(offset: float, retry_after: int) -> None:
    limit = RateLimit(limit=100, window_seconds=10)
    start = datetime.fromtimestamp(limit.window_start(NOW), UTC)
    assert limit.window_start(start + timedelta(seconds=offset)) == int(start.timestamp())
    assert limit.retry_after(start + timedelta(seconds=offset)) == retry_after


def test_the_subscriptions_read_before_authentication_are_the_ones_fanned_out_to(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    assert relay.prefetch_subscriptions(store, "not-a-strategy-id") is None  # nothing is read for it
    prefetched = relay.prefetch_subscriptions(store, "stg_a")
    assert prefetched is not None and len(prefetched.result()) == 2
    store.subscriptions = store.subscriptions[:1]  # changed after the read: the read is what counts
    raw = json.dumps({"v": 1, "seq": 1, "order": {"security": "600000.XSHG", "side": "buy", "amount": 100}})
    received = relay.receive_signal(
        store, queues, STRATEGY, joinquant.parse_signal({}, raw.encode(), max_bytes=65536), signal_id=new_signal_id(),
        dedup_ttl_seconds=600, lease_seconds=15, received_at=NOW, subscriptions=prefetched,
    )  # fmt: skip
    assert received.deliveries == 2 and queues.depth("q2") == 1
