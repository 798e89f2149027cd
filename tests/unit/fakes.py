"""In-memory implementations of the relay's ports (quantlink.dal.ports), with the real adapters'
semantics: conditional writes, final delivery states that never change, FIFO order, visibility."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from quantlink.dal.queues import QueueMessage
from quantlink.errors import DeviceTakenOver, DuplicateSignal
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    SignalStatus,
    Strategy,
    Subscription,
    Terminal,
)


@dataclass
class FakeStore:
    strategies: dict[str, Strategy] = field(default_factory=dict)
    terminals: dict[str, Terminal] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    dedup: dict[tuple[str, str], str] = field(default_factory=dict)
    signals: dict[str, SignalRecord] = field(default_factory=dict)
    leases: dict[str, datetime | None] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], DeliveryRecord] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # the order of writes, for assertions

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        return self.strategies.get(strategy_id)

    def get_terminal(self, terminal_id: str) -> Terminal | None:
        return self.terminals.get(terminal_id)

    def touch_terminal(self, terminal_id: str, fingerprint_hash: str, *, at: datetime) -> None:
        terminal = self.terminals[terminal_id]
        if terminal.device_fingerprint_hash not in (None, fingerprint_hash):
            raise DeviceTakenOver()
        self.terminals[terminal_id] = terminal.model_copy(
            update={"device_fingerprint_hash": fingerprint_hash, "last_seen_at": at}
        )

    def record_signal(self, signal: SignalRecord, *, dedup_ttl_seconds: int, lease_until: datetime) -> None:
        key = (signal.strategy_id, signal.dedup_key)
        if key in self.dedup:
            raise DuplicateSignal(self.dedup[key])
        self.dedup[key] = signal.signal_id
        self.signals[signal.signal_id] = signal
        self.leases[signal.signal_id] = lease_until
        self.log.append(f"record {signal.signal_id}")

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None:
        return self.signals.get(signal_id)

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool:
        lease = self.leases.get(signal_id)
        if self.signals[signal_id].status != SignalStatus.RECEIVED or (lease is not None and lease >= now):
            return False
        self.leases[signal_id] = lease_until
        return True

    def release_fanout(self, strategy_id: str, signal_id: str) -> None:
        self.leases[signal_id] = None

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.strategy_id == strategy_id]

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]:
        return [d for (sid, _), d in self.deliveries.items() if sid == signal_id]

    def put_deliveries(self, deliveries: list[DeliveryRecord]) -> None:
        for delivery in deliveries:
            self.deliveries[(delivery.signal_id, delivery.terminal_id)] = delivery
            self.log.append(f"delivery {delivery.terminal_id}")

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        self.signals[signal_id] = self.signals[signal_id].model_copy(
            update={"status": SignalStatus.FANNED_OUT, "deliveries": deliveries, "fanned_out_at": at}
        )
        self.leases[signal_id] = None
        self.log.append(f"fanned out {signal_id}")

    def _transition(
        self, signal_id: str, terminal_id: str, new: DeliveryStatus, **changes: object
    ) -> DeliveryStatus | None:
        delivery = self.deliveries.get((signal_id, terminal_id))
        if delivery is None:
            return None
        if delivery.status.is_final:
            return delivery.status
        self.deliveries[(signal_id, terminal_id)] = delivery.model_copy(update={"status": new, **changes})
        return new

    def mark_pulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> DeliveryStatus | None:
        current = self.deliveries.get((signal_id, terminal_id))
        pulled_at = current.pulled_at if current and current.pulled_at else at
        return self._transition(signal_id, terminal_id, DeliveryStatus.PULLED, pulled_at=pulled_at)

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None:
        return self._transition(signal_id, terminal_id, DeliveryStatus.EXPIRED)

    def record_outcome(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        status: DeliveryStatus,
        outcome: Outcome,
        *,
        at: datetime,
    ) -> DeliveryStatus | None:
        return self._transition(signal_id, terminal_id, status, outcome=outcome, acked_at=at)


@dataclass
class FakeQueues:
    """One FIFO list per queue URL; a received message is hidden until deleted (no visibility expiry)."""

    messages: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # url -> (receipt, body, dedup)
    in_flight: set[str] = field(default_factory=set)
    sent_dedup_ids: dict[str, set[str]] = field(default_factory=dict)
    fail_sends_to: set[str] = field(default_factory=set)
    store: FakeStore | None = None  # to log sends in the same sequence as writes
    _receipts: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None:
        if queue_url in self.fail_sends_to:
            raise ConnectionError(f"send to {queue_url} failed")
        if deduplication_id in self.sent_dedup_ids.setdefault(queue_url, set()):
            return  # SQS FIFO deduplication
        self.sent_dedup_ids[queue_url].add(deduplication_id)
        self.messages.setdefault(queue_url, []).append((f"r{next(self._receipts)}", body, deduplication_id))
        if self.store is not None:
            self.store.log.append(f"send {queue_url}")

    def receive(self, queue_url: str, *, max_messages: int, wait_seconds: int) -> list[QueueMessage]:
        visible = [m for m in self.messages.get(queue_url, []) if m[0] not in self.in_flight][:max_messages]
        self.in_flight.update(receipt for receipt, _, _ in visible)
        return [QueueMessage(body, receipt) for receipt, body, _ in visible]

    def delete_message(self, queue_url: str, receipt_handle: str) -> bool:
        before = len(self.messages.get(queue_url, []))
        self.messages[queue_url] = [m for m in self.messages.get(queue_url, []) if m[0] != receipt_handle]
        return len(self.messages[queue_url]) < before

    def depth(self, queue_url: str) -> int:
        return len(self.messages.get(queue_url, []))
