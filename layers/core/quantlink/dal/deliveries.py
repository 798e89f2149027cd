"""Deliveries: one record per (signal, terminal), sorted right after its signal in the strategy's
partition. Its status only moves forward: QUEUED → PULLED → a final status that is never overwritten.

Each pull adds the hash of the receipt it hands out to the record's `receiptHashes` (in the update
that marks it PULLED), and an outcome is recorded only for a receipt found there: an ack must match
a delivery this terminal actually pulled (quantlink.acktokens)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import Item, from_item, to_item, to_python, values
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.models import DeliveryRecord, DeliveryStatus, Outcome
from quantlink.timeutil import iso

_STATUS = {"#s": "status"}
_LEAVE_WORK = " REMOVE gsi1pk, gsi1sk"  # pulled or settled: off the sweeper's list of unpulled deliveries


class DynamoDeliveryStore(TableStore):
    def put_deliveries(
        self, deliveries: list[DeliveryRecord], *, push_receipts: Mapping[str, str] | None = None
    ) -> None:
        """`push_receipts` (terminalId -> receipt hash): the receipt a push of this delivery will hand
        out, written with the record so an ack can arrive the instant the push does."""
        receipts = push_receipts or {}
        self.table.put_all([delivery_item(d, receipts.get(d.terminal_id)) for d in deliveries])

    def mark_pushed(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> None:
        """Record when the signal was pushed (the first push counts); QUEUED becomes PULLED (handed out),
        and pulledAt, the timeline's "the terminal has it", is the push's time, not the later ack's.
        A delivery settled meanwhile (the terminal acked before this write) only gains pushedAt."""
        pk, sk = keys.strategy_pk(strategy_id), keys.delivery_sk(signal_id, terminal_id)
        moment = {"at": iso(at)}
        try:
            self.table.update(
                pk,
                sk,
                update=(
                    "SET #s = :pulled, pushedAt = if_not_exists(pushedAt, :at),"
                    " pulledAt = if_not_exists(pulledAt, :at)" + _LEAVE_WORK
                ),
                condition="#s = :queued",
                names=_STATUS,
                attribute_values={
                    **moment,
                    "queued": DeliveryStatus.QUEUED.value,
                    "pulled": DeliveryStatus.PULLED.value,
                },
            )
        except ConditionFailed:
            with contextlib.suppress(ConditionFailed):  # the delivery is gone (its strategy was deleted)
                self.table.update(
                    pk,
                    sk,
                    update="SET pushedAt = if_not_exists(pushedAt, :at)",
                    condition="attribute_exists(pk)",
                    attribute_values=moment,
                )

    def unpulled_past_expiry(self, *, at: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(strategyId, signalId, terminalId) of deliveries never pulled whose signal expired before `at`
        (from the eventually consistent index: `expire_unpulled` decides)."""
        found: list[tuple[str, str, str]] = []
        for shard in keys.unpulled_shards():
            items = self.table.query(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :before",
                ExpressionAttributeValues=values(pk=shard, before=keys.time_bound(at)),
            )
            for item in items:
                row = to_python(item)
                found.append((str(row["strategyId"]), str(row["signalId"]), str(row["terminalId"])))
                if len(found) >= limit:
                    return found
        return found

    def expire_unpulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> bool:
        """QUEUED → EXPIRED, only if no terminal pulled it meanwhile; True when this call expired it."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.delivery_sk(signal_id, terminal_id),
                update="SET #s = :new, expiredAt = :at REMOVE gsi1pk, gsi1sk",
                condition="#s = :queued",
                names=_STATUS,
                attribute_values={
                    "new": DeliveryStatus.EXPIRED.value,
                    "at": iso(at),
                    "queued": DeliveryStatus.QUEUED.value,
                },
            )
        except ConditionFailed:
            # Moved on by a write that left its work-list entry behind: drop the entry, so stale ones never
            # crowd out the due ones of a sweep's batch.
            with contextlib.suppress(ConditionFailed):
                self.table.update(
                    keys.strategy_pk(strategy_id),
                    keys.delivery_sk(signal_id, terminal_id),
                    update="REMOVE gsi1pk, gsi1sk",
                    condition="attribute_exists(pk) AND #s <> :queued",
                    names=_STATUS,
                    attribute_values={"queued": DeliveryStatus.QUEUED.value},
                )
            return False
        return True

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]:
        items = self.table.query_prefix(keys.strategy_pk(strategy_id), keys.deliveries_prefix(signal_id))
        return [from_item(DeliveryRecord, item) for item in items]

    def mark_pulled(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime, receipt_hash: str
    ) -> DeliveryStatus | None:
        """QUEUED/PULLED → PULLED (first pull time kept), remembering the receipt handed out. Returns the
        status the delivery now has, or None when the delivery record does not exist."""
        update = "SET #s = :new, pulledAt = if_not_exists(pulledAt, :at) ADD receiptHashes :handed" + _LEAVE_WORK
        return self._transition(
            strategy_id, signal_id, terminal_id, update, DeliveryStatus.PULLED, at, handed={receipt_hash}
        )

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None:
        update = "SET #s = :new, expiredAt = :at" + _LEAVE_WORK
        return self._transition(strategy_id, signal_id, terminal_id, update, DeliveryStatus.EXPIRED, at)

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
        """Settle a delivery pulled with this receipt. None when there is no such delivery or the receipt
        was never handed out for it; its final status when it was settled before (acks are idempotent)."""
        update = (
            "SET #s = :new, ackedAt = :at, outcome = :outcome, pulledAt = if_not_exists(pulledAt, :at)" + _LEAVE_WORK
        )
        recorded = outcome.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self._transition(
            strategy_id, signal_id, terminal_id, update, status, at, receipt=receipt_hash, outcome=recorded
        )

    def _transition(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        update: str,
        new: DeliveryStatus,
        at: datetime,
        *,
        receipt: str | None = None,
        **extra: Any,
    ) -> DeliveryStatus | None:
        """Move a delivery out of QUEUED/PULLED (only for a `receipt` it handed out, when one is given).
        A final status is never overwritten: the current one is returned instead, which makes pulls of
        redelivered messages and repeated acks harmless. No record, or a receipt it never handed out,
        answers None."""
        condition = "#s IN (:queued, :pulled)"
        if receipt is not None:
            condition += " AND contains(receiptHashes, :receipt)"
            extra["receipt"] = receipt
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.delivery_sk(signal_id, terminal_id),
                update=update,
                condition=condition,
                names=_STATUS,
                attribute_values={
                    "new": new.value,
                    "at": iso(at),
                    "queued": DeliveryStatus.QUEUED.value,
                    "pulled": DeliveryStatus.PULLED.value,
                    **extra,
                },
                return_old_on_failure=True,
            )
        except ConditionFailed as failed:
            old = to_python(failed.old) if failed.old else None
            if old is None or (receipt is not None and receipt not in old.get("receiptHashes", set())):
                return None
            return DeliveryStatus(old["status"])
        return new


def delivery_item(delivery: DeliveryRecord, push_receipt: str | None = None) -> Item:
    """A delivery as stored (batch-written here, or inside the webhook's dedup transaction)."""
    d = delivery
    item = to_item(d, pk=keys.strategy_pk(d.strategy_id), sk=keys.delivery_sk(d.signal_id, d.terminal_id), **_work(d))
    if push_receipt is not None:
        item["receiptHashes"] = {"SS": [push_receipt]}
    return item


def _work(delivery: DeliveryRecord) -> dict[str, str]:
    """The sweeper's work-list entry of a delivery waiting to be pulled."""
    if delivery.status != DeliveryStatus.QUEUED or delivery.expires_at is None:
        return {}
    return {
        "gsi1pk": keys.unpulled_gsi1pk(delivery.signal_id, delivery.terminal_id),
        "gsi1sk": keys.unpulled_gsi1sk(delivery.expires_at, delivery.signal_id, delivery.terminal_id),
    }
