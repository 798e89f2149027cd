"""Signals, in the strategy's partition: the dedup marker, the signal record with its fan-out lease,
and the newest-first timeline of signals with their deliveries (one Query; see dal/deliveries.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from quantlink.dal import keys
from quantlink.dal.codec import Item, from_item, to_item, to_python, value, values
from quantlink.dal.deliveries import delivery_item
from quantlink.dal.table import ConditionFailed, TableStore, TransactionCanceled
from quantlink.errors import Conflict, DuplicateSignal, RateLimited, Unavailable
from quantlink.ids import first_signal_id
from quantlink.models import DeliveryRecord, DeliveryStatus, SignalRecord, SignalStatus, TimelineEntry
from quantlink.ratelimit import RateLimit
from quantlink.timeutil import epoch_ms, iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_CONFLICT_ATTEMPTS = 6
TRANSACTION_ITEMS = 100  # DynamoDB's limit of one TransactWriteItems
_RATE_ITEM = 2  # the counter's place in the dedup transaction (after the marker and the record)
_PURGE_ROUNDS = 5
_STATUS = {"#s": "status"}
_RECEIVED = SignalStatus.RECEIVED.value


class DynamoSignalStore(TableStore):
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
        """Dedup marker, signal record, the strategy's rate-limit counter (when limited) and as many of
        the delivery records as fit, in one transaction: all or nothing. So nothing stands between it and
        the sends, and a crash after it leaves a RECEIVED signal whose records the re-drive finds.

        Returns the deliveries past DynamoDB's 100 items a transaction, not written: the caller writes
        them (put_deliveries) before sending to their terminals. Raises DuplicateSignal with the first
        signal's id when the marker already exists (a marker past its TTL counts as absent: DynamoDB
        deletes expired items lazily, moto never does), RateLimited when the window's count has reached
        the limit. Either way nothing is written, and a duplicate is not counted."""
        now_s = int(signal.received_at.timestamp())
        pk = keys.strategy_pk(signal.strategy_id)
        marker = {
            "pk": value(pk),
            "sk": value(keys.dedup_sk(signal.dedup_key)),
            "signalId": value(signal.signal_id),
            "ttl": value(now_s + dedup_ttl_seconds),
        }
        record = to_item(
            signal, pk=pk, sk=keys.signal_sk(signal.signal_id), fanoutLeaseUntil=epoch_ms(lease_until), **_work(signal)
        )
        items = [
            self.table.put_op(
                marker,
                condition="attribute_not_exists(pk) OR #ttl < :now",
                names={"#ttl": "ttl"},
                attribute_values={"now": now_s},
                return_old_on_failure=True,
            ),
            self.table.put_op(record, condition="attribute_not_exists(pk)"),
        ]
        if rate_limit is not None:
            items.append(self._count_op(pk, rate_limit, signal.received_at))  # at _RATE_ITEM
        receipts = push_receipts or {}
        room = TRANSACTION_ITEMS - len(items)
        items += [self.table.put_op(delivery_item(d, receipts.get(d.terminal_id))) for d in deliveries[:room]]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                self.table.transact(items)
                return list(deliveries[room:])
            except TransactionCanceled as canceled:
                if canceled.condition_failed_at(0):  # checked first: a retry of a recorded signal is never refused
                    old = canceled.old_item(0)
                    signal_id = to_python(old)["signalId"] if old else self._dedup_signal_id(pk, signal.dedup_key)
                    raise DuplicateSignal(signal_id) from canceled
                if rate_limit is not None and canceled.condition_failed_at(_RATE_ITEM):
                    raise _rate_limited(rate_limit, signal.received_at) from canceled
                if "TransactionConflict" not in canceled.codes:
                    raise
                # Another webhook of this strategy is in flight (the identical one, or one counting in the
                # same window): once it lands, this one is a duplicate or simply goes through.
                time.sleep(0.02 * 2**attempt * (0.5 + random.random()))
        raise Unavailable("The signal is being recorded by a concurrent request; retry with the same body.")

    def _count_op(self, pk: str, rate_limit: RateLimit, at: datetime) -> TransactWriteItemTypeDef:
        window = rate_limit.window_start(at)
        return self.table.update_op(
            pk,
            keys.rate_window_sk(window),
            update="ADD #n :one SET #ttl = if_not_exists(#ttl, :expiry)",
            condition="attribute_not_exists(#n) OR #n < :limit",
            names={"#n": "count", "#ttl": "ttl"},
            attribute_values={"one": 1, "limit": rate_limit.limit, "expiry": window + 2 * rate_limit.window_seconds},
        )

    def _dedup_signal_id(self, pk: str, dedup_key: str) -> str:
        item = self.table.get(pk, keys.dedup_sk(dedup_key))
        if item is None:  # expired between the failed write and now: the caller may retry
            raise Conflict("The webhook raced with its own expiry; retry.")
        return str(to_python(item)["signalId"])

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None:
        item = self.table.get(keys.strategy_pk(strategy_id), keys.signal_sk(signal_id))
        return from_item(SignalRecord, item) if item else None

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool:
        """Take the right to (re-)drive a RECEIVED signal whose previous fan-out lease ran out."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.signal_sk(signal_id),
                update="SET fanoutLeaseUntil = :until",
                condition="#s = :received AND (attribute_not_exists(fanoutLeaseUntil) OR fanoutLeaseUntil < :now)",
                names=_STATUS,
                attribute_values={"until": epoch_ms(lease_until), "received": _RECEIVED, "now": epoch_ms(now)},
            )
        except ConditionFailed:
            return False
        return True

    def release_fanout(self, strategy_id: str, signal_id: str) -> None:
        """Give the lease back after a failed fan-out so an immediate retry can re-drive. A signal no longer
        RECEIVED has no lease to give back (another attempt finished it)."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.signal_sk(signal_id),
                update="REMOVE fanoutLeaseUntil",
                condition="#s = :received",
                names=_STATUS,
                attribute_values={"received": _RECEIVED},
            )
        except ConditionFailed:
            return

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        """A signal deleted meanwhile (with its strategy) is not written back as a fragment."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.signal_sk(signal_id),
                update="SET #s = :done, fannedOutAt = :at, deliveries = :n REMOVE fanoutLeaseUntil, gsi1pk, gsi1sk",
                condition="attribute_exists(pk)",
                names=_STATUS,
                attribute_values={"done": SignalStatus.FANNED_OUT.value, "at": iso(at), "n": deliveries},
            )
        except ConditionFailed:
            return

    def signals_awaiting_fanout(self, *, received_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(strategyId, signalId) of signals still RECEIVED that arrived before then, oldest first per
        shard (the index is eventually consistent: the caller re-reads each before acting)."""
        found: list[tuple[str, str]] = []
        for shard in keys.fanout_shards():
            items = self.table.query(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :before",
                ExpressionAttributeValues=values(pk=shard, before=keys.time_bound(received_before)),
            )
            for item in items:
                row = to_python(item)
                found.append((str(row["strategyId"]), str(row["signalId"])))
                if len(found) >= limit:
                    return found
        return found

    def delete_signals_since(self, strategy_id: str, *, since: datetime) -> None:
        """Delete every signal received since `since`, with its deliveries, until none is left: a fan-out
        that was still writing when the strategy was deleted is caught by the next round. Once this
        returns, no message of those signals can be pulled (a pull drops a message whose delivery record
        is gone)."""
        pk = keys.strategy_pk(strategy_id)
        for _ in range(_PURGE_ROUNDS):
            found = [
                (pk, str(item["sk"]["S"]))  # type: ignore[typeddict-item]
                for item in self._signal_range(strategy_id, lower=first_signal_id(epoch_ms(since)), consistent=True)
            ]
            if not found:
                return
            self.table.delete_all(found)
        raise Unavailable("The strategy's signals are still being written; retry the delete.")

    def _signal_range(
        self,
        strategy_id: str,
        *,
        lower: str | None = None,
        upper: str | None = None,
        newest_first: bool = True,
        consistent: bool = False,
    ) -> Iterator[Item]:
        """The signals (each with its deliveries) from signal id `lower` up to signal id `upper` (the
        upper signal itself included, not its deliveries), by default all of them."""
        return self.table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={
                ":pk": value(keys.strategy_pk(strategy_id)),
                ":lo": value(keys.signal_sk(lower) if lower else keys.SIGNAL),
                ":hi": value(keys.signal_sk(upper) if upper else keys.SIGNALS_END),
            },
            ScanIndexForward=not newest_first,
            ConsistentRead=consistent,
        )

    # ---- the owner's timeline ---------------------------------------------------------------------

    def timeline(self, strategy_id: str, *, before: str | None = None) -> Iterator[TimelineEntry]:
        """Newest signals first, each with its deliveries (which sort just after it: one Query, read page
        by page as the caller iterates); `before` is a signal id (exclusive)."""
        pending: list[DeliveryRecord] = []
        for item in self._signal_range(strategy_id, upper=before):
            sk = item["sk"]["S"]  # type: ignore[typeddict-item]
            if before and sk == keys.signal_sk(before):
                continue
            if keys.is_delivery_sk(sk):
                pending.append(from_item(DeliveryRecord, item))
                continue
            signal = from_item(SignalRecord, item)
            yield TimelineEntry(signal, [d for d in reversed(pending) if d.signal_id == signal.signal_id])
            pending = []

    # ---- sharing: a share that ends takes back what its terminals have not pulled yet ----------

    def withdraw_deliveries(self, strategy_id: str, terminal_ids: list[str], *, since: datetime, at: datetime) -> int:
        """Mark REVOKED every delivery still QUEUED of these terminals for signals received since
        `since` (older ones have expired already): a pull then drops the message instead of delivering
        it. A delivery pulled meanwhile keeps its status (it was delivered before the share ended)."""
        wanted = set(terminal_ids)
        if not wanted:
            return 0
        pk = keys.strategy_pk(strategy_id)
        queued = [
            str(item["sk"]["S"])  # type: ignore[typeddict-item]
            for item in self._signal_range(strategy_id, lower=first_signal_id(epoch_ms(since)), consistent=True)
            if keys.is_delivery_sk(str(item["sk"]["S"]))  # type: ignore[typeddict-item]
            and str(item.get("terminalId", {}).get("S")) in wanted  # type: ignore[attr-defined]
            and item.get("status", {}).get("S") == DeliveryStatus.QUEUED.value  # type: ignore[attr-defined]
        ]
        marked = 0
        for sk in queued:
            try:
                self.table.update(
                    pk, sk, update="SET #s = :revoked, revokedAt = :at REMOVE gsi1pk, gsi1sk", condition="#s = :queued",
                    names=_STATUS,
                    attribute_values={"revoked": DeliveryStatus.REVOKED.value, "queued": DeliveryStatus.QUEUED.value,
                                      "at": iso(at)},
                )  # fmt: skip
                marked += 1
            except ConditionFailed:
                continue  # pulled meanwhile
        return marked


def _rate_limited(rate_limit: RateLimit, at: datetime) -> RateLimited:
    retry_after = rate_limit.retry_after(at)
    return RateLimited(
        f"This strategy sent more than {rate_limit.limit} signals in {rate_limit.window_seconds} s;"
        f" nothing was recorded: send it again in {retry_after} s.",
        details={
            "limit": rate_limit.limit,
            "windowSeconds": rate_limit.window_seconds,
            "retryAfterSeconds": retry_after,
        },
        retry_after=retry_after,
    )


def _work(signal: SignalRecord) -> dict[str, str]:
    """The sweeper's work-list entry of a signal that waits for its fan-out (none for a HELD one)."""
    if signal.status != SignalStatus.RECEIVED:
        return {}
    return {
        "gsi1pk": keys.fanout_gsi1pk(signal.signal_id),
        "gsi1sk": keys.fanout_gsi1sk(signal.received_at, signal.signal_id),
    }
