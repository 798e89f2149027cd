"""The interfaces the relay depends on. DynamoStore and TerminalQueues implement them against AWS;
tests/unit/fakes.py implements them in memory with the same semantics (conditions included)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from quantlink.dal.queues import QueueMessage
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    Strategy,
    Subscription,
    Terminal,
)


class RelayStore(Protocol):
    def get_strategy(self, strategy_id: str) -> Strategy | None: ...

    def get_terminal(self, terminal_id: str) -> Terminal | None: ...

    def touch_terminal(self, terminal_id: str, fingerprint_hash: str, *, at: datetime) -> None:
        """Claim-or-check the device and record lastSeenAt; raises DeviceTakenOver."""

    def record_signal(self, signal: SignalRecord, *, dedup_ttl_seconds: int, lease_until: datetime) -> None:
        """Dedup marker + signal, both or neither; raises DuplicateSignal."""

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None: ...

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool: ...

    def release_fanout(self, strategy_id: str, signal_id: str) -> None: ...

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]: ...

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]: ...

    def put_deliveries(self, deliveries: list[DeliveryRecord]) -> None: ...

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None: ...

    def mark_pulled(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None: ...

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None: ...

    def record_outcome(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        status: DeliveryStatus,
        outcome: Outcome,
        *,
        at: datetime,
    ) -> DeliveryStatus | None: ...


class RelayQueues(Protocol):
    def send(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None: ...

    def receive(self, queue_url: str, *, max_messages: int, wait_seconds: int) -> list[QueueMessage]: ...

    def delete_message(self, queue_url: str, receipt_handle: str) -> bool: ...
