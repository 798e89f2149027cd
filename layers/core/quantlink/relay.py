"""The hot path: receive a signal (dedup + record), fan it out, let terminals pull it and ack it.

Delivery is at-least-once: a fan-out writes every delivery record before it sends, so a pulled
message always has one, and a message whose record is gone (its strategy was deleted) is dropped,
never delivered; a crash before FANNED_OUT leaves the signal RECEIVED, and the next duplicate
webhook (or the sweeper) re-drives it under a lease, so only one fan-out runs at a time. While the
strategy is paused, signals are recorded HELD and nothing is sent or re-driven.

Push is an accelerator on top (API.md, "Push"): after a terminal's SQS send, a terminal holding a
WebSocket also gets the signal posted to it, with an ackToken of its own (quantlink.acktokens) whose
receipt hash the delivery record was written with. A push that fails costs nothing: the queued copy
waits for the terminal's next pull, and a copy met after the pushed one was acked is dropped as settled."""

from __future__ import annotations

import hmac
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from quantlink import faults
from quantlink.acktokens import AckToken
from quantlink.concurrency import map_concurrently, start
from quantlink.dal.ports import RelayPush, RelayQueues, RelayStore
from quantlink.dal.queues import QueueMessage
from quantlink.errors import (
    DeviceTakenOver,
    DuplicateSignal,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from quantlink.ids import STRATEGY_PREFIX, hash_secret, is_id, secret_matches, terminal_id_from_token
from quantlink.models import (
    Ack,
    DeliveryRecord,
    DeliveryStatus,
    IncomingSignal,
    QueuedSignal,
    SignalRecord,
    SignalStatus,
    Strategy,
    Subscription,
    Terminal,
)
from quantlink.observability import Metric, MetricUnit, logger, metrics
from quantlink.ratelimit import RateLimit
from quantlink.throttling import RateCounted, TerminalRate
from quantlink.timeutil import millis_between, now
from quantlink.views.relay import AckResult, PulledSignal, PushFrame


@dataclass(frozen=True)
class Received:
    signal_id: str
    duplicate: bool
    deliveries: int | None = None
    held: bool = False  # the strategy is paused: recorded, delivered to no terminal


# ---- authentication ------------------------------------------------------------------------------


def authenticate_strategy(store: RelayStore, strategy_id: str, token: str | None) -> Strategy:
    """A wrong token and an unknown strategy answer the same, in the same time."""
    strategy = store.get_strategy(strategy_id) if is_id(strategy_id, STRATEGY_PREFIX) else None
    if not secret_matches(token or "", strategy.webhook_token_hash if strategy else None) or strategy is None:
        raise Unauthorized("Invalid strategy id or webhook token.")
    return strategy


def authenticate_terminal(store: RelayStore, token: str | None) -> Terminal:
    terminal_id = terminal_id_from_token(token or "")
    terminal = store.get_terminal(terminal_id) if terminal_id else None
    if not secret_matches(token or "", terminal.auth_token_hash if terminal else None) or terminal is None:
        raise Unauthorized("Invalid terminal token; it may have been rotated or the terminal deleted.")
    return terminal


def check_fingerprint(fingerprint: str | None) -> str:
    if fingerprint is None or not 8 <= len(fingerprint) <= 128 or not fingerprint.isprintable():
        raise ValidationFailed(
            "X-Device-Fingerprint must be 8 to 128 printable characters.",
            details=[{"field": "header.X-Device-Fingerprint", "message": "missing or malformed"}],
        )
    return hash_secret(fingerprint)


def verify_device(terminal: Terminal, fingerprint: str | None) -> None:
    """For calls that carry the device header without claiming (ack, holdings): check it when present."""
    if fingerprint is None:
        return
    fingerprint_hash = check_fingerprint(fingerprint)
    bound = terminal.device_fingerprint_hash
    if bound is not None and not hmac.compare_digest(bound, fingerprint_hash):
        raise DeviceTakenOver()


def claim_device(
    store: RelayStore, terminal: Terminal, fingerprint: str | None, *, at: datetime, rate: TerminalRate | None = None
) -> None:
    """First device wins; any other gets DEVICE_TAKEN_OVER until the owner releases the terminal. Given a
    rate, the same write counts the call in the terminal's window (RATE_LIMITED past it).

    The check against the record read at authentication only spares a write; what decides is the
    store's conditional write, so a record read before another device bound the terminal cannot let a
    second device in."""
    fingerprint_hash = check_fingerprint(fingerprint)
    bound = terminal.device_fingerprint_hash
    try:
        if bound is not None and not hmac.compare_digest(bound, fingerprint_hash):
            raise DeviceTakenOver()
        counted = RateCounted.of(rate, terminal) if rate is not None else None
        store.claim_device(terminal.terminal_id, fingerprint_hash, at=at, rate=counted)
    except DeviceTakenOver:
        metrics.add_metric(name=Metric.DEVICE_CONFLICTS, unit=MetricUnit.Count, value=1)
        raise
    except RateLimited:
        _throttled(terminal, rate)
        raise


def count_call(store: RelayStore, terminal: Terminal, rate: TerminalRate, *, at: datetime) -> None:
    """Count a call that claims nothing (an ack, a holdings report) in the terminal's window."""
    try:
        store.count_call(terminal.terminal_id, RateCounted.of(rate, terminal), at=at)
    except RateLimited:
        _throttled(terminal, rate)
        raise


def _throttled(terminal: Terminal, rate: TerminalRate | None) -> None:
    metrics.add_metric(name=Metric.THROTTLED, unit=MetricUnit.Count, value=1)
    logger.warning(
        "terminal throttled", extra={"terminal_id": terminal.terminal_id, "rate": rate.name if rate else None}
    )


# ---- webhook -------------------------------------------------------------------------------------


def prefetch_subscriptions(store: RelayStore, strategy_id: str) -> Future[list[Subscription]] | None:
    """Start the strategy's one subscriptions Query before its webhook is authenticated (it depends on
    nothing but the id), so it runs alongside the strategy's GetItem; an unauthenticated or duplicate
    webhook never uses the answer. None for an id that could not be a strategy's (nothing is read)."""
    if not is_id(strategy_id, STRATEGY_PREFIX):
        return None
    return start(lambda: store.subscriptions_for(strategy_id))


def receive_signal(
    store: RelayStore,
    queues: RelayQueues,
    strategy: Strategy,
    incoming: IncomingSignal,
    *,
    signal_id: str,
    dedup_ttl_seconds: int,
    lease_seconds: int,
    received_at: datetime,
    push: RelayPush | None = None,
    subscriptions: Future[list[Subscription]] | None = None,
    rate_limit: RateLimit | None = None,
) -> Received:
    """Dedup, record and fan out one signal. The shortest way to the first send: the subscriptions are
    read alongside authentication (`prefetch_subscriptions`), the delivery records are written in the
    dedup transaction itself, and the push connections are read while it runs; then the sends.
    Raises RateLimited (nothing written) past the strategy's `rate_limit`."""
    signal = SignalRecord.new(signal_id, strategy, incoming, received_at)
    lease_until = received_at + timedelta(seconds=lease_seconds)
    if strategy.paused:  # the kill switch: recorded HELD, nothing is sent, re-drives included
        try:
            _record(store, signal, dedup_ttl_seconds=dedup_ttl_seconds, lease_until=lease_until, rate_limit=rate_limit)
        except DuplicateSignal as duplicate:
            metrics.add_metric(name=Metric.DUPLICATES, unit=MetricUnit.Count, value=1)
            return Received(duplicate.signal_id, duplicate=True)
        metrics.add_metric(name=Metric.SIGNALS, unit=MetricUnit.Count, value=1)
        logger.info("held: the strategy is paused", extra={"signal_id": signal.signal_id})
        return Received(signal.signal_id, duplicate=False, deliveries=0, held=True)
    if subscriptions is None:
        subscriptions = start(lambda: store.subscriptions_for(strategy.strategy_id))
    plan = plan_fan_out(signal, subscriptions.result(), push=push is not None)
    # Which terminals hold a WebSocket is read while the transaction runs.
    connections = start(lambda: store.push_connections(plan.new_terminal_ids)) if plan.push_tokens else None
    try:
        unwritten = _record(
            store,
            signal,
            dedup_ttl_seconds=dedup_ttl_seconds,
            lease_until=lease_until,
            deliveries=plan.records,
            push_receipts=plan.push_receipts,
            rate_limit=rate_limit,
        )
    except DuplicateSignal as duplicate:
        metrics.add_metric(name=Metric.DUPLICATES, unit=MetricUnit.Count, value=1)
        redrive(store, queues, strategy.strategy_id, duplicate.signal_id, lease_seconds=lease_seconds)
        return Received(duplicate.signal_id, duplicate=True)
    metrics.add_metric(name=Metric.SIGNALS, unit=MetricUnit.Count, value=1)
    faults.point(faults.AFTER_RECORD)  # a crash here leaves the signal RECEIVED: the sweeper re-drives it
    deliveries = send_deliveries(store, queues, signal, plan, unwritten=unwritten, connections=connections, push=push)
    return Received(signal.signal_id, duplicate=False, deliveries=deliveries)


def _record(
    store: RelayStore,
    signal: SignalRecord,
    *,
    dedup_ttl_seconds: int,
    lease_until: datetime,
    rate_limit: RateLimit | None,
    deliveries: list[DeliveryRecord] | None = None,
    push_receipts: dict[str, str] | None = None,
) -> list[DeliveryRecord]:
    """The store's one recording transaction; a refusal past the rate limit is counted and logged."""
    try:
        return store.record_signal(
            signal,
            dedup_ttl_seconds=dedup_ttl_seconds,
            lease_until=lease_until,
            deliveries=deliveries or [],
            push_receipts=push_receipts,
            rate_limit=rate_limit,
        )
    except RateLimited:
        metrics.add_metric(name=Metric.RATE_LIMITED, unit=MetricUnit.Count, value=1)
        logger.warning("webhook refused: past the strategy's rate limit", extra={"strategy_id": signal.strategy_id})
        raise


def redrive(
    store: RelayStore,
    queues: RelayQueues,
    strategy_id: str,
    signal_id: str,
    *,
    lease_seconds: int,
    at: datetime | None = None,
) -> bool:
    """Finish the fan-out of a signal left RECEIVED, if its lease ran out at `at` (default now): the
    first attempt died."""
    at = at or now()
    signal = store.get_signal(strategy_id, signal_id)
    if signal is None or signal.status != SignalStatus.RECEIVED:
        return False
    if not store.claim_fanout(strategy_id, signal_id, now=at, lease_until=at + timedelta(seconds=lease_seconds)):
        return False
    logger.warning("re-driving a stuck signal", extra={"signal_id": signal_id, "strategy_id": strategy_id})
    metrics.add_metric(name=Metric.REDRIVES, unit=MetricUnit.Count, value=1)
    fan_out(store, queues, signal, existing=store.deliveries_of(strategy_id, signal_id))
    return True


@dataclass(frozen=True)
class FanOutPlan:
    """What one fan-out writes and sends: the terminals it reaches (share expiry and pauses applied),
    the delivery records still to write, and the push tokens of the new ones (first fan-out only)."""

    subscriptions: list[Subscription]
    known: dict[str, DeliveryRecord]
    records: list[DeliveryRecord]
    push_tokens: dict[str, AckToken]

    @property
    def new_terminal_ids(self) -> list[str]:
        return [d.terminal_id for d in self.records]

    @property
    def push_receipts(self) -> dict[str, str]:
        return {terminal_id: token.receipt_hash for terminal_id, token in self.push_tokens.items()}

    @property
    def pending(self) -> list[Subscription]:
        """The terminals to send to: a delivery pulled (or done) in an earlier attempt is not sent again."""
        known = self.known
        return [
            s
            for s in self.subscriptions
            if s.terminal_id not in known or known[s.terminal_id].status == DeliveryStatus.QUEUED
        ]

    @property
    def count(self) -> int:
        """The signal's deliveries: every terminal reached now, and those an earlier attempt reached."""
        reached = {s.terminal_id for s in self.subscriptions}
        return len(reached) + len([t for t in self.known if t not in reached])


def plan_fan_out(
    signal: SignalRecord,
    subscriptions: list[Subscription],
    *,
    existing: list[DeliveryRecord] | None = None,
    push: bool = False,
) -> FanOutPlan:
    queued_at = now()
    reached = [
        s
        for s in subscriptions
        if s.active(queued_at) and signal.target_terminal_id in (None, s.terminal_id)  # a sync order: one terminal
    ]
    known = {d.terminal_id: d for d in existing or []}
    new = [s.terminal_id for s in reached if s.terminal_id not in known]
    records = [
        DeliveryRecord(
            signal_id=signal.signal_id,
            strategy_id=signal.strategy_id,
            terminal_id=terminal_id,
            status=DeliveryStatus.QUEUED,
            received_at=signal.received_at,
            queued_at=queued_at,
            expires_at=signal.expires_at,
        )
        for terminal_id in new
    ]
    # Pushed only on the first fan-out: a re-drive's records carry no push receipt, its pulls serve.
    push_tokens = {terminal_id: AckToken.for_push(signal.strategy_id) for terminal_id in new} if push else {}
    return FanOutPlan(reached, known, records, push_tokens)


def fan_out(
    store: RelayStore,
    queues: RelayQueues,
    signal: SignalRecord,
    *,
    subscriptions: list[Subscription] | None = None,
    existing: list[DeliveryRecord] | None = None,
    push: RelayPush | None = None,
) -> int:
    """A fan-out of a signal already recorded (a re-drive, a drift sync): one Query for the
    subscriptions (unless given), the missing delivery records, then the sends and FANNED_OUT."""
    if subscriptions is None:
        subscriptions = store.subscriptions_for(signal.strategy_id)
    plan = plan_fan_out(signal, subscriptions, existing=existing, push=push is not None)
    connections = start(lambda: store.push_connections(plan.new_terminal_ids)) if plan.push_tokens else None
    return send_deliveries(store, queues, signal, plan, unwritten=plan.records, connections=connections, push=push)


def send_deliveries(
    store: RelayStore,
    queues: RelayQueues,
    signal: SignalRecord,
    plan: FanOutPlan,
    *,
    unwritten: list[DeliveryRecord],
    connections: Future[dict[str, str]] | None,
    push: RelayPush | None,
) -> int:
    """Concurrent sends (each followed by its push when the terminal holds a WebSocket), then FANNED_OUT.
    A delivery record exists before its terminal's send, so a pulled message always has one: those in
    `unwritten` are written first, while the terminals whose records are already stored get theirs."""
    pending = plan.pending
    later = {d.terminal_id for d in unwritten}
    now_ready = [s for s in pending if s.terminal_id not in later]
    written = start(lambda: store.put_deliveries(unwritten, push_receipts=plan.push_receipts)) if unwritten else None

    # Waited for here, not inside the sends: they run on the shared pool the lookup's own reads need.
    live = _live_connections(connections)

    def send(subscription: Subscription) -> None:
        queued = QueuedSignal.for_subscription(signal, subscription)
        body = queued.model_dump_json(by_alias=True)
        faults.point(faults.FANOUT_SEND)  # a crash mid-fan-out: the signal stays RECEIVED, the sweeper re-drives
        queues.send(subscription.queue_url, body, group_id=signal.strategy_id, deduplication_id=signal.signal_id)
        connection_id = live.get(subscription.terminal_id)
        if push is not None and connection_id is not None:  # durable first: only after the send
            push_signal(
                store, push, queued, subscription.terminal_id, connection_id, plan.push_tokens[subscription.terminal_id]
            )

    results = map_concurrently(send, now_ready)
    if written is not None:
        try:
            written.result()
        except Exception as error:  # noqa: BLE001 - reported with the failed sends below
            results.append(error)
        else:
            results += map_concurrently(send, [s for s in pending if s.terminal_id in later])
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        logger.error("fan-out failed", extra={"signal_id": signal.signal_id, "errors": [repr(f) for f in failures]})
        store.release_fanout(signal.strategy_id, signal.signal_id)
        raise Unavailable("The signal was recorded but not every terminal got it yet; retry with the same body.")
    count = plan.count
    store.mark_fanned_out(signal.strategy_id, signal.signal_id, deliveries=count, at=now())
    metrics.add_metric(name=Metric.DELIVERIES, unit=MetricUnit.Count, value=len(pending))
    return count


def _live_connections(lookup: Future[dict[str, str]] | None) -> dict[str, str]:
    if lookup is None:
        return {}
    try:
        return lookup.result()
    except Exception as error:  # noqa: BLE001 - push is an accelerator: without it the queue serves
        logger.warning("push connections unreadable; terminals will pull", extra={"error": repr(error)})
        return {}


def push_signal(
    store: RelayStore, push: RelayPush, signal: QueuedSignal, terminal_id: str, connection_id: str, token: AckToken
) -> bool:
    """Post one signal to a terminal's WebSocket; never raises (the signal already waits in its queue).
    A connection that is gone (410) is forgotten, unless the terminal opened a newer one meanwhile."""
    frame = PushFrame(type="signals", signals=[PulledSignal.model_construct(**dict(signal), ack_token=token.encode())])
    try:
        delivered = push.post(connection_id, frame.model_dump_json(by_alias=True).encode())
        if not delivered:
            store.clear_push_connection(terminal_id, connection_id)
            logger.info("push connection gone", extra={"terminal_id": terminal_id})
            return False
        at = now()
        faults.point(faults.PUSH_AFTER_POST)  # pushed, never marked: the ack still settles it (push receipt)
        store.mark_pushed(signal.strategy_id, signal.signal_id, terminal_id, at=at)
    except Exception as error:  # noqa: BLE001 - the queued copy is the durable one
        metrics.add_metric(name=Metric.PUSH_FAILURES, unit=MetricUnit.Count, value=1)
        logger.warning(
            "push failed; the signal waits in the queue", extra={"terminal_id": terminal_id, "error": repr(error)}
        )
        return False
    metrics.add_metric(name=Metric.PUSHED, unit=MetricUnit.Count, value=1)
    latency = millis_between(signal.created_at, at)
    if latency is not None:
        metrics.add_metric(name=Metric.RELAY_LATENCY, unit=MetricUnit.Milliseconds, value=latency)
    return True


# ---- pull ----------------------------------------------------------------------------------------


def pull_signals(
    store: RelayStore, queues: RelayQueues, terminal: Terminal, *, wait_seconds: int, max_signals: int
) -> list[dict[str, Any]]:
    """Long-poll the terminal's queue until a deliverable signal arrives or the wait runs out.
    Expired signals and deliveries already settled are dropped (deleted), never returned."""
    deadline = time.monotonic() + wait_seconds
    while True:
        remaining = max(0, round(deadline - time.monotonic()))
        messages = queues.receive(terminal.queue_url, max_messages=max_signals, wait_seconds=remaining)
        if not messages:
            return []
        results = map_concurrently(lambda m: _take(store, queues, terminal, m), messages)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
        delivered = [r for r in results if isinstance(r, dict)]
        if delivered or remaining == 0:
            return delivered


def _take(store: RelayStore, queues: RelayQueues, terminal: Terminal, message: QueueMessage) -> dict[str, Any] | None:
    try:
        signal = QueuedSignal.model_validate_json(message.body)
    except ValidationError:
        logger.error("dropping an unreadable message", extra={"terminal_id": terminal.terminal_id})
        queues.delete_message(terminal.queue_url, message.receipt_handle)
        return None
    at = now()
    keys = (signal.strategy_id, signal.signal_id, terminal.terminal_id)
    if at >= signal.expires_at:
        store.mark_expired(*keys, at=at)
        queues.delete_message(terminal.queue_url, message.receipt_handle)
        metrics.add_metric(name=Metric.EXPIRED, unit=MetricUnit.Count, value=1)
        return None
    token = AckToken.for_queue(signal.strategy_id, message.receipt_handle)
    faults.point(faults.PULL_AFTER_RECEIVE)  # received, not PULLED: redelivered after the visibility timeout
    status = store.mark_pulled(*keys, at=at, receipt_hash=token.receipt_hash)
    if status is None or status.is_final:
        # Settled already (a redelivery), or no record: the strategy was deleted and its signals with it.
        if status is None:
            logger.info("dropping a message whose delivery is gone", extra={"signal_id": signal.signal_id})
        queues.delete_message(terminal.queue_url, message.receipt_handle)
        return None
    faults.point(faults.PULL_AFTER_MARK)  # PULLED, never answered: the redelivery is handed out again
    metrics.add_metric(name=Metric.PULLED, unit=MetricUnit.Count, value=1)
    latency = millis_between(signal.created_at, at)
    if latency is not None:
        metrics.add_metric(name=Metric.RELAY_LATENCY, unit=MetricUnit.Milliseconds, value=latency)
    return PulledSignal.model_construct(**dict(signal), ack_token=token.encode()).wire()


# ---- ack -----------------------------------------------------------------------------------------


def ack_signals(store: RelayStore, queues: RelayQueues, terminal: Terminal, acks: list[Ack]) -> list[dict[str, Any]]:
    def settle(ack: Ack) -> dict[str, Any]:
        token = AckToken.parse(ack.ack_token)
        if token is None:
            return AckResult(
                signal_id=ack.signal_id, ok=False, code="VALIDATION_ERROR", message="malformed ackToken"
            ).wire()
        status = store.record_outcome(
            token.strategy_id,
            ack.signal_id,
            terminal.terminal_id,
            ack.status.delivery_status,
            ack.outcome(),
            at=now(),
            receipt_hash=token.receipt_hash,
        )
        if status is None:  # no such delivery, or one this terminal was never handed with this token
            return AckResult(
                signal_id=ack.signal_id, ok=False, code="NOT_FOUND", message="no such signal for this terminal"
            ).wire()
        faults.point(faults.ACK_AFTER_RECORD)  # recorded, not deleted: the redelivered copy is dropped at pull
        # Delete after recording: if the receipt is stale the redelivered copy is dropped at pull. A pushed
        # signal was never received from the queue: its copy there is dropped when a pull meets it.
        if token.queue_receipt is not None:
            queues.delete_message(terminal.queue_url, token.queue_receipt)
        faults.point(faults.ACK_AFTER_DELETE)  # settled, never answered: the agent's retried ack is idempotent
        metrics.add_metric(name=Metric.ACKED, unit=MetricUnit.Count, value=1)
        return AckResult(signal_id=ack.signal_id, ok=True, status=status).wire()

    results = map_concurrently(settle, acks)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return [r for r in results if isinstance(r, dict)]
