"""The sweeper (a schedule every few minutes): a list of independent steps, each given the same context
and clock. A step that fails is logged and reported; the others still run, and the next sweep retries.

Steps here: re-drive signals left RECEIVED (a fan-out that died; relay.redrive is idempotent and
leased, so overlapping sweeps and a concurrent duplicate webhook never fan out twice), and mark
deliveries nobody pulled before their signal's TTL EXPIRED; end the shares and invitations whose
time has come, and send the 7-day and 1-day warnings of shares about to end (quantlink.sharing.expiry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from quantlink import relay
from quantlink.dal.ports import Mailer, RelayQueues, SweepStore
from quantlink.drift.alerts import Post, post_json
from quantlink.errors import Unavailable
from quantlink.observability import Metric, MetricUnit, logger, metrics
from quantlink.sharing import expiry


@dataclass(frozen=True)
class SweepContext:
    store: SweepStore
    queues: RelayQueues
    mailer: Mailer  # share expiry warnings
    stuck_after_seconds: int  # a signal RECEIVED for longer is presumed abandoned by its webhook
    lease_seconds: int  # the fan-out lease a re-drive takes (as the webhook's)
    batch: int  # at most this many items per step per sweep (the rest wait for the next)
    post: Post = post_json  # the chat robots that carry the expiry warnings too


SweepStep = Callable[[SweepContext, datetime], int]  # returns how many items it handled


def redrive_stuck_signals(context: SweepContext, at: datetime) -> int:
    store = context.store
    stuck = store.signals_awaiting_fanout(
        received_before=at - timedelta(seconds=context.stuck_after_seconds), limit=context.batch
    )
    redriven = 0
    for strategy_id, signal_id in stuck:
        strategy = store.get_strategy(strategy_id)
        if strategy is None or strategy.paused:  # deleted, or the kill switch is on: never sent
            continue
        try:
            done = relay.redrive(
                store, context.queues, strategy_id, signal_id, lease_seconds=context.lease_seconds, at=at
            )
        except Unavailable:  # a queue refused the send: the lease was given back, the next sweep retries
            logger.warning("re-drive failed; retried next sweep", extra={"signal_id": signal_id})
            continue
        redriven += done
    return redriven


def expire_unpulled_deliveries(context: SweepContext, at: datetime) -> int:
    store = context.store
    expired = 0
    for strategy_id, signal_id, terminal_id in store.unpulled_past_expiry(at=at, limit=context.batch):
        if store.expire_unpulled(strategy_id, signal_id, terminal_id, at=at):
            expired += 1
    if expired:
        metrics.add_metric(name=Metric.EXPIRED, unit=MetricUnit.Count, value=expired)
    return expired


def expire_shares_and_invitations(context: SweepContext, at: datetime) -> int:
    done = expiry.expire_due(context.store, at)
    return done.shares + done.invitations


def send_expiry_warnings(context: SweepContext, at: datetime) -> int:
    return expiry.send_expiry_warnings(context.store, context.mailer, at, post=context.post)


STEPS: list[tuple[str, SweepStep]] = [
    ("redriveStuckSignals", redrive_stuck_signals),
    ("expireUnpulledDeliveries", expire_unpulled_deliveries),
    ("expireShares", expire_shares_and_invitations),
    ("sendExpiryWarnings", send_expiry_warnings),
]


@dataclass
class SweepResult:
    handled: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def wire(self) -> dict[str, object]:
        return {"handled": self.handled, "failed": self.failed}


def run_sweep(context: SweepContext, at: datetime, steps: list[tuple[str, SweepStep]] | None = None) -> SweepResult:
    result = SweepResult()
    for name, step in STEPS if steps is None else steps:
        try:
            result.handled[name] = step(context, at)
        except Exception as error:  # noqa: BLE001 - one step's failure must not starve the others; retried next sweep
            logger.exception("sweep step failed", extra={"step": name})
            result.failed[name] = repr(error)
    logger.info("sweep done", extra=result.wire())
    return result
