"""Push delivery on in-memory fakes: durable first (the queue send before the post), the push's own
ackToken settles the delivery without an SQS receipt, a gone connection is forgotten and costs the
signal nothing, the queued copy of a settled push is dropped at pull, and the WebSocket's life."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from quantlink import push, relay
from quantlink.acktokens import AckToken, AckTokenKind
from quantlink.errors import DeviceTakenOver, Unauthorized
from quantlink.ids import new_signal_id
from quantlink.models import Ack, AckStatus, DeliveryStatus, Subscription
from quantlink.sources import joinquant
from tests.unit.fakes import FakePush, FakeQueues, FakeStore
from tests.unit.test_relay import NOW, STRATEGY, terminal

FINGERPRINT = "device-fingerprint-1"


@pytest.fixture
def world() -> tuple[FakeStore, FakeQueues]:
    store = FakeStore(strategies={"stg_a": STRATEGY}, terminals={f"trm_{n}": terminal(n) for n in (1, 2)})
    store.subscriptions = [
        Subscription(strategy_id="stg_a", terminal_id=f"trm_{n}", owner_id="u1", queue_url=f"q{n}", created_at=NOW)
        for n in (1, 2)
    ]
    return store, FakeQueues(store=store)


def webhook(store: FakeStore, queues: FakeQueues, pusher: FakePush, seq: int = 1) -> relay.Received:
    raw = json.dumps({"v": 1, "seq": seq, "order": {"security": "600000.XSHG", "side": "buy", "amount": 100}})
    incoming = joinquant.parse_signal({}, raw.encode(), max_bytes=65536)
    return relay.receive_signal(
        store, queues, STRATEGY, incoming, signal_id=new_signal_id(), dedup_ttl_seconds=600, lease_seconds=15,
        received_at=datetime.now(UTC), push=pusher,
    )  # fmt: skip


def connect(store: FakeStore, n: int, connection_id: str) -> None:
    push.connect_terminal(store, f"trm_{n}.secret", FINGERPRINT, connection_id, at=datetime.now(UTC))


def frames(pusher: FakePush, connection_id: str) -> list[dict[str, object]]:
    return [json.loads(frame) for frame in pusher.frames.get(connection_id, [])]


def test_a_connected_terminal_gets_the_pull_item_pushed_after_its_queue_send(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    pusher = FakePush(store=store)
    connect(store, 1, "conn-1")

    received = webhook(store, queues, pusher)

    (frame,) = frames(pusher, "conn-1")
    assert frame["type"] == "signals"
    (item,) = frame["signals"]  # type: ignore[misc]
    queued = json.loads(queues.messages["q1"][0][1])
    assert {k: v for k, v in item.items() if k != "ackToken"} == queued  # the same JSON as a pull item
    token = AckToken.parse(item["ackToken"])
    assert token is not None and token.kind == AckTokenKind.PUSH and token.queue_receipt is None
    assert store.log.index("send q1") < store.log.index("post conn-1") < store.log.index("pushed trm_1")
    delivery = store.deliveries[(received.signal_id, "trm_1")]
    assert delivery.status == DeliveryStatus.PULLED and delivery.pushed_at is not None
    assert store.deliveries[(received.signal_id, "trm_2")].status == DeliveryStatus.QUEUED  # not connected
    assert pusher.frames.keys() == {"conn-1"}


def test_a_pushed_signal_is_acked_with_its_token_and_its_queued_copy_is_dropped_at_pull(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, queues = world
    pusher = FakePush(store=store)
    connect(store, 1, "conn-1")
    received = webhook(store, queues, pusher)
    (item,) = frames(pusher, "conn-1")[0]["signals"]  # type: ignore[misc]

    (result,) = relay.ack_signals(
        store,
        queues,
        terminal(1),
        [Ack(signal_id=item["signalId"], ack_token=item["ackToken"], status=AckStatus.EXECUTED)],
    )

    assert result == {"signalId": received.signal_id, "ok": True, "status": "EXECUTED"}
    assert queues.depth("q1") == 1  # the ack had no receipt to delete
    assert relay.pull_signals(store, queues, terminal(1), wait_seconds=0, max_signals=10) == []
    assert queues.depth("q1") == 0  # dropped as settled
    # a made-up push token settles nothing
    forged = AckToken.for_push(STRATEGY.strategy_id).encode()
    other = webhook(store, queues, pusher, seq=2)
    (refused,) = relay.ack_signals(
        store, queues, terminal(1), [Ack(signal_id=other.signal_id, ack_token=forged, status=AckStatus.EXECUTED)]
    )
    assert refused["ok"] is False


def test_a_gone_connection_is_forgotten_and_the_signal_waits_in_the_queue(world: tuple[FakeStore, FakeQueues]) -> None:
    store, queues = world
    pusher = FakePush(store=store, gone={"conn-1"}, failing={"conn-2"})
    connect(store, 1, "conn-1")
    connect(store, 2, "conn-2")

    received = webhook(store, queues, pusher)

    assert received.deliveries == 2  # neither failure fails the fan-out
    assert store.terminals["trm_1"].push_connection_id is None  # 410: forgotten
    assert store.terminals["trm_2"].push_connection_id == "conn-2"  # a transient failure keeps it
    (pulled,) = relay.pull_signals(store, queues, terminal(1), wait_seconds=0, max_signals=10)
    assert pulled["signalId"] == received.signal_id
    assert store.deliveries[(received.signal_id, "trm_1")].pushed_at is None


def test_connect_authenticates_and_claims_like_a_pull_and_disconnect_forgets_only_its_own(
    world: tuple[FakeStore, FakeQueues],
) -> None:
    store, _ = world
    with pytest.raises(Unauthorized):
        push.connect_terminal(store, "trm_1.wrong", FINGERPRINT, "c0", at=datetime.now(UTC))
    connect(store, 1, "old")
    with pytest.raises(DeviceTakenOver):
        push.connect_terminal(store, "trm_1.secret", "another-device-00", "c1", at=datetime.now(UTC))
    assert store.terminals["trm_1"].push_connection_id == "old"

    connect(store, 1, "new")  # a refresh: the new connection first, then the old one closes
    push.disconnect_terminal(store, "old")
    assert store.terminals["trm_1"].push_connection_id == "new"
    push.disconnect_terminal(store, "new")
    assert store.terminals["trm_1"].push_connection_id is None


def test_the_keepalive_ping_is_answered_and_other_messages_are_ignored() -> None:
    answer = push.answer_message('{"action": "ping"}')
    assert answer is not None and answer.wire() == {"type": "ping"}
    assert push.answer_message('{"action": "other"}') is None
    assert push.answer_message("not json") is None
