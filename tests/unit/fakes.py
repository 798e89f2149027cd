"""In-memory implementations of the ports (quantlink.dal.ports), with the real adapters' semantics:
conditional writes (existence, owner checks, the stored device binding), final delivery states that
never change, newest-first lists, FIFO order, visibility. FakeStore is every store at once, as
DynamoStore is."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from quantlink.dal.queues import QueueMessage
from quantlink.dal.signals import TRANSACTION_ITEMS
from quantlink.errors import Conflict, DeviceTakenOver, DuplicateSignal, NotFound, RateLimited
from quantlink.ids import first_signal_id
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    SignalStatus,
    Strategy,
    Subscription,
    Terminal,
    TimelineEntry,
)
from quantlink.ratelimit import RateLimit
from quantlink.throttling import RateCounted
from quantlink.views.drift import DriftReport
from tests.unit.sharing_fakes import FakeSharing


@dataclass
class FakeStore(FakeSharing):
    strategies: dict[str, Strategy] = field(default_factory=dict)
    terminals: dict[str, Terminal] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    dedup: dict[tuple[str, str], str] = field(default_factory=dict)
    signals: dict[str, SignalRecord] = field(default_factory=dict)
    leases: dict[str, datetime | None] = field(default_factory=dict)
    deliveries: dict[tuple[str, str], DeliveryRecord] = field(default_factory=dict)
    receipts: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # receipt hashes a pull handed out
    deleted: dict[str, Strategy] = field(default_factory=dict)  # tombstones, by strategy id
    positions: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (kind, id, snapshot)
    log: list[str] = field(default_factory=list)  # the order of writes, for assertions
    drift_reports: dict[tuple[str, date], DriftReport] = field(default_factory=dict)
    drift_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: dict[str, str] = field(default_factory=dict)  # push connection id -> terminal id
    rate_counts: dict[tuple[str, int], int] = field(default_factory=dict)  # (strategy, window start) -> signals

    # ---- strategies ----

    def put_strategy(self, strategy: Strategy) -> None:
        if strategy.strategy_id in self.strategies:
            raise Conflict("A strategy with this id already exists.")
        self.strategies[strategy.strategy_id] = strategy

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        return self.strategies.get(strategy_id)

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        owned = [s for s in self.strategies.values() if s.owner_id == owner_id]
        return sorted(owned, key=lambda s: (s.created_at, s.strategy_id), reverse=True)

    def _owned_strategy(self, strategy_id: str, owner_id: str) -> Strategy:
        strategy = self.strategies.get(strategy_id)
        if strategy is None or strategy.owner_id != owner_id:
            raise NotFound("No such strategy.")
        return strategy

    def set_webhook_token_hash(
        self, strategy_id: str, owner_id: str, token_hash: str, *, sealed_signing_secret: str | None = None
    ) -> None:
        strategy = self._owned_strategy(strategy_id, owner_id)
        changes: dict[str, Any] = {"webhook_token_hash": token_hash}
        if sealed_signing_secret is not None:
            changes["sealed_signing_secret"] = sealed_signing_secret
        self.strategies[strategy_id] = strategy.model_copy(update=changes)

    def update_strategy(
        self, strategy_id: str, owner_id: str, *, name: str | None = None, paused: bool | None = None
    ) -> None:
        strategy = self._owned_strategy(strategy_id, owner_id)
        changes = {k: v for k, v in (("name", name), ("paused", paused)) if v is not None}
        self.strategies[strategy_id] = strategy.model_copy(update=changes)

    def tombstone_strategy(self, strategy_id: str, owner_id: str, *, at: datetime) -> None:
        tombstone = self.deleted.get(strategy_id)
        if tombstone is not None and tombstone.owner_id == owner_id:
            return
        self.deleted[strategy_id] = self._owned_strategy(strategy_id, owner_id)
        del self.strategies[strategy_id]

    def purge_strategy(self, strategy_id: str, *, max_items: int) -> bool:
        """Items counted as the table holds them: dedup markers, signals, deliveries, subscriptions and
        snapshots; the tombstone goes once nothing else is left."""
        mine = strategy_id
        doomed: list[Callable[[], object]] = [
            *(functools.partial(self.dedup.pop, k) for k in self.dedup if k[0] == mine),
            *(functools.partial(self.signals.pop, i) for i, s in self.signals.items() if s.strategy_id == mine),
            *(functools.partial(self.deliveries.pop, k) for k, d in self.deliveries.items() if d.strategy_id == mine),
            *(functools.partial(self.subscriptions.remove, s) for s in self.subscriptions if s.strategy_id == mine),
            *(functools.partial(self.positions.remove, p) for p in self.positions if p[:2] == ("leader", mine)),
        ]
        for delete in doomed[:max_items]:
            delete()
        if len(doomed) >= max_items:
            return False
        self.deleted.pop(strategy_id, None)
        return True

    def _delete_signal(self, signal_id: str) -> None:
        self.signals.pop(signal_id, None)
        self.leases.pop(signal_id, None)
        for key in [k for k in self.deliveries if k[0] == signal_id]:
            del self.deliveries[key]
            self.receipts.pop(key, None)

    # ---- terminals ----

    def put_terminal(self, terminal: Terminal) -> None:
        if terminal.terminal_id in self.terminals:
            raise Conflict("A terminal with this id already exists.")
        self.terminals[terminal.terminal_id] = terminal

    def get_terminal(self, terminal_id: str) -> Terminal | None:
        return self.terminals.get(terminal_id)

    def list_terminals(self, owner_id: str) -> list[Terminal]:
        owned = [t for t in self.terminals.values() if t.owner_id == owner_id]
        return sorted(owned, key=lambda t: (t.created_at, t.terminal_id), reverse=True)

    def _owned_terminal(self, terminal_id: str, owner_id: str) -> Terminal:
        terminal = self.terminals.get(terminal_id)
        if terminal is None or terminal.owner_id != owner_id:
            raise NotFound("No such terminal.")
        return terminal

    def set_terminal_token_hash(self, terminal_id: str, owner_id: str, token_hash: str) -> None:
        terminal = self._owned_terminal(terminal_id, owner_id)
        self.terminals[terminal_id] = terminal.model_copy(update={"auth_token_hash": token_hash})

    def claim_device(
        self, terminal_id: str, fingerprint_hash: str, *, at: datetime, rate: RateCounted | None = None
    ) -> None:
        """Decided by the stored record, as the conditional write is: never by what the caller read."""
        terminal = self.terminals.get(terminal_id)
        if terminal is None or terminal.device_fingerprint_hash not in (None, fingerprint_hash):
            raise DeviceTakenOver()
        counted = self._counted(terminal, rate, at)
        self.terminals[terminal_id] = terminal.model_copy(
            update={
                "device_fingerprint_hash": fingerprint_hash,
                "device_bound_at": terminal.device_bound_at or at,
                "last_seen_at": at,
                **counted,
            }
        )

    def count_call(self, terminal_id: str, rate: RateCounted, *, at: datetime) -> None:
        terminal = self.terminals.get(terminal_id)
        if terminal is None:
            raise NotFound("No such terminal.")
        self.terminals[terminal_id] = terminal.model_copy(update=self._counted(terminal, rate, at))

    @staticmethod
    def _counted(terminal: Terminal, rate: RateCounted | None, at: datetime) -> dict[str, int]:
        """The stored record's counter advanced by the rule (raises RateLimited), whatever the caller read."""
        if rate is None:
            return {}
        name = rate.limit.name
        stored = getattr(terminal, f"{name}_window"), getattr(terminal, f"{name}_count")
        window, count = rate.limit.admit(*stored, at)
        return {f"{name}_window": window, f"{name}_count": count}

    def release_device(self, terminal_id: str, owner_id: str) -> None:
        terminal = self._owned_terminal(terminal_id, owner_id)
        self.terminals[terminal_id] = terminal.model_copy(
            update={"device_fingerprint_hash": None, "device_bound_at": None}
        )

    def set_push_connection(self, terminal_id: str, connection_id: str, *, at: datetime) -> None:
        self.connections[connection_id] = terminal_id
        terminal = self.terminals.get(terminal_id)
        if terminal is None:
            raise NotFound("No such terminal.")
        self.terminals[terminal_id] = terminal.model_copy(
            update={"push_connection_id": connection_id, "push_connected_at": at}
        )

    def clear_push_connection(self, terminal_id: str, connection_id: str) -> bool:
        terminal = self.terminals.get(terminal_id)
        if terminal is None or terminal.push_connection_id != connection_id:
            return False
        self.terminals[terminal_id] = terminal.model_copy(
            update={"push_connection_id": None, "push_connected_at": None}
        )
        return True

    def forget_connection(self, connection_id: str) -> str | None:
        return self.connections.pop(connection_id, None)

    def push_connections(self, terminal_ids: list[str]) -> dict[str, str]:
        return {
            t: terminal.push_connection_id
            for t in terminal_ids
            if (terminal := self.terminals.get(t)) is not None and terminal.push_connection_id is not None
        }

    def delete_terminal(self, terminal_id: str) -> None:
        self.terminals.pop(terminal_id, None)
        self.subscriptions = [s for s in self.subscriptions if s.terminal_id != terminal_id]
        self.positions = [p for p in self.positions if p[:2] != ("terminal", terminal_id)]

    # ---- subscriptions ----

    def put_subscription(self, subscription: Subscription) -> None:
        if subscription.terminal_id not in self.terminals:
            raise NotFound("No such terminal.")
        self.delete_subscription(subscription.terminal_id, subscription.strategy_id)
        self.subscriptions.append(subscription)

    def delete_subscription(self, terminal_id: str, strategy_id: str) -> None:
        self.subscriptions = [
            s for s in self.subscriptions if (s.terminal_id, s.strategy_id) != (terminal_id, strategy_id)
        ]

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        return [s for s in self.subscriptions if s.strategy_id == strategy_id]

    def subscribed_strategy_ids(self, terminal_id: str) -> list[str]:
        return sorted(s.strategy_id for s in self.subscriptions if s.terminal_id == terminal_id)

    def subscriptions_of_terminal(self, terminal_id: str) -> list[Subscription]:
        return sorted((s for s in self.subscriptions if s.terminal_id == terminal_id), key=lambda s: s.strategy_id)

    def delete_strategy_subscriptions(self, strategy_id: str) -> None:
        self.subscriptions = [s for s in self.subscriptions if s.strategy_id != strategy_id]

    # ---- signals ----

    def record_signal(
        self,
        signal: SignalRecord,
        *,
        dedup_ttl_seconds: int,
        lease_until: datetime,
        deliveries: Sequence[DeliveryRecord] = (),
        push_receipts: Mapping[str, str] | None = None,
        rate_limit: RateLimit | None = None,
    ) -> list[DeliveryRecord]:
        key = (signal.strategy_id, signal.dedup_key)
        if key in self.dedup:
            raise DuplicateSignal(self.dedup[key])
        window = (signal.strategy_id, rate_limit.window_start(signal.received_at)) if rate_limit else None
        if rate_limit is not None and window is not None:
            if self.rate_counts.get(window, 0) >= rate_limit.limit:
                raise RateLimited(retry_after=rate_limit.retry_after(signal.received_at))
            self.rate_counts[window] = self.rate_counts.get(window, 0) + 1
        self.dedup[key] = signal.signal_id
        self.signals[signal.signal_id] = signal
        self.leases[signal.signal_id] = lease_until
        self.log.append(f"record {signal.signal_id}")
        room = TRANSACTION_ITEMS - (3 if rate_limit else 2)  # as one DynamoDB transaction holds
        self.put_deliveries(list(deliveries[:room]), push_receipts=push_receipts)
        return list(deliveries[room:])

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

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        if signal_id not in self.signals:
            return  # deleted meanwhile, with its strategy
        self.signals[signal_id] = self.signals[signal_id].model_copy(
            update={"status": SignalStatus.FANNED_OUT, "deliveries": deliveries, "fanned_out_at": at}
        )
        self.leases[signal_id] = None
        self.log.append(f"fanned out {signal_id}")

    def timeline(self, strategy_id: str, *, before: str | None = None) -> Iterator[TimelineEntry]:
        signals = sorted(
            (
                s
                for s in self.signals.values()
                if s.strategy_id == strategy_id and (before is None or s.signal_id < before)
            ),
            key=lambda s: s.signal_id,
            reverse=True,
        )
        for signal in signals:
            yield TimelineEntry(signal, self.deliveries_of(strategy_id, signal.signal_id))

    def signals_awaiting_fanout(self, *, received_before: datetime, limit: int) -> list[tuple[str, str]]:
        waiting = sorted(
            (s for s in self.signals.values() if s.status == SignalStatus.RECEIVED and s.received_at < received_before),
            key=lambda s: s.received_at,
        )
        return [(s.strategy_id, s.signal_id) for s in waiting][:limit]

    def delete_signals_since(self, strategy_id: str, *, since: datetime) -> None:
        lower = first_signal_id(int(since.timestamp() * 1000))
        for signal_id in [i for i, s in self.signals.items() if s.strategy_id == strategy_id and i >= lower]:
            self._delete_signal(signal_id)
        for key in [k for k, d in self.deliveries.items() if d.strategy_id == strategy_id and k[0] >= lower]:
            del self.deliveries[key]  # a delivery whose signal record went first

    # ---- deliveries ----

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]:
        found = [d for (sid, _), d in self.deliveries.items() if sid == signal_id]
        return sorted(found, key=lambda d: d.terminal_id)

    def put_deliveries(
        self, deliveries: list[DeliveryRecord], *, push_receipts: Mapping[str, str] | None = None
    ) -> None:
        for delivery in deliveries:
            self.deliveries[(delivery.signal_id, delivery.terminal_id)] = delivery
            if push_receipts and delivery.terminal_id in push_receipts:
                self.receipts[(delivery.signal_id, delivery.terminal_id)] = {push_receipts[delivery.terminal_id]}
            self.log.append(f"delivery {delivery.terminal_id}")

    def mark_pushed(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> None:
        delivery = self.deliveries.get((signal_id, terminal_id))
        if delivery is None:
            return
        changes: dict[str, object] = {"pushed_at": delivery.pushed_at or at}
        if delivery.status == DeliveryStatus.QUEUED:
            changes["status"] = DeliveryStatus.PULLED
            changes["pulled_at"] = delivery.pulled_at or at
        self.deliveries[(signal_id, terminal_id)] = delivery.model_copy(update=changes)
        self.log.append(f"pushed {terminal_id}")

    def _transition(
        self, signal_id: str, terminal_id: str, new: DeliveryStatus, receipt: str | None = None, **changes: object
    ) -> DeliveryStatus | None:
        delivery = self.deliveries.get((signal_id, terminal_id))
        if delivery is None:
            return None
        if receipt is not None and receipt not in self.receipts.get((signal_id, terminal_id), set()):
            return None
        if delivery.status.is_final:
            return delivery.status
        self.deliveries[(signal_id, terminal_id)] = delivery.model_copy(update={"status": new, **changes})
        return new

    def mark_pulled(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime, receipt_hash: str
    ) -> DeliveryStatus | None:
        current = self.deliveries.get((signal_id, terminal_id))
        pulled_at = current.pulled_at if current and current.pulled_at else at
        status = self._transition(signal_id, terminal_id, DeliveryStatus.PULLED, pulled_at=pulled_at)
        if status == DeliveryStatus.PULLED:
            self.receipts.setdefault((signal_id, terminal_id), set()).add(receipt_hash)
        return status

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None:
        return self._transition(signal_id, terminal_id, DeliveryStatus.EXPIRED)

    def unpulled_past_expiry(self, *, at: datetime, limit: int) -> list[tuple[str, str, str]]:
        due = [
            (d.strategy_id, d.signal_id, d.terminal_id)
            for d in self.deliveries.values()
            if d.status == DeliveryStatus.QUEUED and d.expires_at is not None and d.expires_at < at
        ]
        return due[:limit]

    def expire_unpulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> bool:
        delivery = self.deliveries.get((signal_id, terminal_id))
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return False
        self.deliveries[(signal_id, terminal_id)] = delivery.model_copy(update={"status": DeliveryStatus.EXPIRED})
        return True

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
        return self._transition(signal_id, terminal_id, status, receipt_hash, outcome=outcome, acked_at=at)

    # ---- position snapshots ----

    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self.positions.append(("leader", strategy_id, {**snapshot, "at": at}))

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None:
        self.positions.append(("terminal", terminal_id, {**snapshot, "at": at}))

    def _latest(self, kind: str, record_id: str, since: datetime, until: datetime) -> dict[str, Any] | None:
        found = [p for k, i, p in self.positions if (k, i) == (kind, record_id) and since <= p["at"] < until]
        if not found:
            return None
        latest = max(found, key=lambda p: p["at"])
        return {k: v for k, v in latest.items() if k != "at"}

    def latest_leader_positions(self, strategy_id: str, *, since: datetime, until: datetime) -> dict[str, Any] | None:
        return self._latest("leader", strategy_id, since, until)

    def latest_terminal_positions(self, terminal_id: str, *, since: datetime, until: datetime) -> dict[str, Any] | None:
        return self._latest("terminal", terminal_id, since, until)

    # ---- drift ----

    def put_drift_report(self, report: DriftReport) -> None:
        old = self.drift_reports.get((report.terminal_id, report.date))
        sent = old.sync_sent_at if old else None
        self.drift_reports[(report.terminal_id, report.date)] = report.model_copy(update={"sync_sent_at": sent})

    def get_drift_report(self, terminal_id: str, day: date | None = None) -> DriftReport | None:
        if day is not None:
            return self.drift_reports.get((terminal_id, day))
        return next(iter(self.drift_history(terminal_id, limit=1)), None)

    def drift_history(self, terminal_id: str, *, limit: int) -> list[DriftReport]:
        mine = sorted((r for (t, _), r in self.drift_reports.items() if t == terminal_id), key=lambda r: r.date)
        return list(reversed(mine))[:limit]

    def get_drift_settings(self, terminal_id: str) -> dict[str, Any]:
        return dict(self.drift_settings.get(terminal_id, {}))

    def put_drift_settings(self, terminal_id: str, settings: dict[str, Any]) -> None:
        self.drift_settings[terminal_id] = {k: v for k, v in settings.items() if v is not None}

    def terminal_ids(self) -> list[str]:
        return sorted(self.terminals)

    def record_sync_batch(
        self, terminal_id: str, day: date, signals: list[SignalRecord], *, at: datetime, dedup_ttl_seconds: int
    ) -> None:
        report = self.drift_reports.get((terminal_id, day))
        if report is None:
            raise NotFound("No drift report for that day.")
        if report.sync_sent_at is not None:
            raise Conflict("This report's sync was already sent.")
        if any((s.strategy_id, s.dedup_key) in self.dedup for s in signals):
            raise Conflict("This report's sync was already sent.")
        self.drift_reports[(terminal_id, day)] = report.model_copy(update={"sync_sent_at": at})
        for signal in signals:
            self.dedup[(signal.strategy_id, signal.dedup_key)] = signal.signal_id
            self.signals[signal.signal_id] = signal
            self.leases[signal.signal_id] = at


@dataclass
class FakeQueues:
    """One FIFO list per queue URL; a received message is hidden until deleted (no visibility expiry)."""

    messages: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # url -> (receipt, body, dedup)
    in_flight: set[str] = field(default_factory=set)
    sent_dedup_ids: dict[str, set[str]] = field(default_factory=dict)
    fail_sends_to: set[str] = field(default_factory=set)
    store: FakeStore | None = None  # to log sends in the same sequence as writes
    created: dict[str, int] = field(default_factory=dict)  # queue URL -> visibility timeout
    _receipts: itertools.count[int] = field(default_factory=itertools.count)

    def create(self, terminal_id: str, *, visibility_timeout_seconds: int) -> str:
        url = f"fake://queues/{terminal_id}.fifo"
        self.created[url] = visibility_timeout_seconds
        return url

    def delete(self, queue_url: str) -> None:
        self.created.pop(queue_url, None)
        self.messages.pop(queue_url, None)

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


@dataclass
class FakePush:
    """The terminals' WebSockets: frames posted per connection; a connection in `gone` answers 410,
    one in `failing` raises (API Gateway trouble)."""

    frames: dict[str, list[bytes]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    store: FakeStore | None = None

    def post(self, connection_id: str, data: bytes) -> bool:
        if connection_id in self.failing:
            raise ConnectionError(f"post to {connection_id} failed")
        if connection_id in self.gone:
            return False
        self.frames.setdefault(connection_id, []).append(data)
        if self.store is not None:
            self.store.log.append(f"post {connection_id}")
        return True
