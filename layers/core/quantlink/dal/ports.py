"""The interfaces domain code depends on: one Protocol per store (aggregate), and the compositions the
relay and the owner operations take. dal/store.py's DynamoStore (every store over one table) and
dal/queues.py's TerminalQueues implement them against AWS; tests/unit/fakes.py implements them in
memory with the same semantics (conditions included). Method names are unique across the stores, so
one object can implement any composition of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from quantlink.dal.queues import QueueMessage
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    Strategy,
    Subscription,
    Terminal,
    TimelineEntry,
)


class StrategyStore(Protocol):
    def put_strategy(self, strategy: Strategy) -> None:
        """Raises Conflict when the id exists."""

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        """None for a deleted strategy, as for one that never existed."""

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        """Newest first."""

    def set_webhook_token_hash(
        self, strategy_id: str, owner_id: str, token_hash: str, *, sealed_signing_secret: str | None = None
    ) -> None:
        """The token's hash and, when given, the sealed signing secret, in one write, only on the owner's own
        strategy; raises NotFound otherwise."""

    def update_strategy(
        self, strategy_id: str, owner_id: str, *, name: str | None = None, paused: bool | None = None
    ) -> None:
        """The given fields, only on the owner's own strategy; raises NotFound otherwise."""

    def tombstone_strategy(self, strategy_id: str, owner_id: str, *, at: datetime) -> None:
        """Deleted from now on for every reader (again on a tombstone is harmless); raises NotFound for
        another owner's strategy or one already purged."""

    def purge_strategy(self, strategy_id: str, *, max_items: int) -> bool:
        """Delete up to `max_items` items of a tombstoned strategy's partition, its record last; True
        when the partition is gone."""


class TerminalStore(Protocol):
    def put_terminal(self, terminal: Terminal) -> None:
        """Raises Conflict when the id exists."""

    def get_terminal(self, terminal_id: str) -> Terminal | None: ...

    def list_terminals(self, owner_id: str) -> list[Terminal]:
        """Newest first."""

    def set_terminal_token_hash(self, terminal_id: str, owner_id: str, token_hash: str) -> None:
        """Only on the owner's own terminal; raises NotFound otherwise."""

    def claim_device(self, terminal_id: str, fingerprint_hash: str, *, at: datetime) -> None:
        """Claim-or-check the device and record lastSeenAt, decided by the stored record (never by what
        the caller read before); raises DeviceTakenOver."""

    def release_device(self, terminal_id: str, owner_id: str) -> None:
        """Only on the owner's own terminal; raises NotFound otherwise."""

    def delete_terminal(self, terminal_id: str) -> None:
        """The terminal, its snapshots and both sides of its subscriptions."""


class SubscriptionStore(Protocol):
    def put_subscription(self, subscription: Subscription) -> None:
        """Both sides, only while the terminal exists; raises NotFound otherwise."""

    def delete_subscription(self, terminal_id: str, strategy_id: str) -> None: ...

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        """The hot path's one Query."""

    def subscribed_strategy_ids(self, terminal_id: str) -> list[str]: ...

    def subscriptions_of_terminal(self, terminal_id: str) -> list[Subscription]:
        """Ordered by strategy id."""

    def delete_strategy_subscriptions(self, strategy_id: str) -> None:
        """Both sides of every subscription to the strategy."""


class SignalStore(Protocol):
    def record_signal(self, signal: SignalRecord, *, dedup_ttl_seconds: int, lease_until: datetime) -> None:
        """Dedup marker + signal, both or neither; raises DuplicateSignal."""

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None: ...

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool: ...

    def release_fanout(self, strategy_id: str, signal_id: str) -> None: ...

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        """Not for a signal deleted meanwhile (nothing is written then)."""

    def timeline(self, strategy_id: str, *, before: str | None = None) -> Iterator[TimelineEntry]:
        """Newest first, each signal with its deliveries, read as the caller iterates; `before` is a
        signal id (exclusive)."""

    def delete_signals_since(self, strategy_id: str, *, since: datetime) -> None:
        """Every signal received since then, with its deliveries, until none is left."""


class DeliveryStore(Protocol):
    def put_deliveries(self, deliveries: list[DeliveryRecord]) -> None: ...

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]: ...

    def mark_pulled(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime, receipt_hash: str
    ) -> DeliveryStatus | None:
        """The status the delivery has now (a final one is kept), or None when there is no delivery.
        Remembers the receipt handed out, which an ack must bring back."""

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
        receipt_hash: str,
    ) -> DeliveryStatus | None:
        """None when there is no delivery or this receipt was never handed out for it."""


class PositionStore(Protocol):
    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None: ...

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None: ...


class RelayStore(StrategyStore, TerminalStore, SubscriptionStore, SignalStore, DeliveryStore, Protocol):
    """What the hot path reads and writes, as one object."""


class OwnerStore(StrategyStore, TerminalStore, SubscriptionStore, SignalStore, Protocol):
    """What the owner operations that span aggregates take (each other operation takes its own store)."""


class RelayQueues(Protocol):
    def send(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None: ...

    def receive(self, queue_url: str, *, max_messages: int, wait_seconds: int) -> list[QueueMessage]: ...

    def delete_message(self, queue_url: str, receipt_handle: str) -> bool: ...


class QueueAdmin(Protocol):
    """Creating and deleting a terminal's own FIFO queue (the owner API)."""

    def create(self, terminal_id: str, *, visibility_timeout_seconds: int) -> str:
        """The new queue's URL."""

    def delete(self, queue_url: str) -> None:
        """A queue that is already gone is not an error."""
