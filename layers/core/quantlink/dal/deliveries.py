"""Deliveries: one record per (signal, terminal), sorted right after its signal in the strategy's
partition. Its status only moves forward: QUEUED → PULLED → a final status that is never overwritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item, to_python
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.models import DeliveryRecord, DeliveryStatus, Outcome
from quantlink.timeutil import iso

_STATUS = {"#s": "status"}


class DynamoDeliveryStore(TableStore):
    def put_deliveries(self, deliveries: list[DeliveryRecord]) -> None:
        self.table.put_all(
            [
                to_item(d, pk=keys.strategy_pk(d.strategy_id), sk=keys.delivery_sk(d.signal_id, d.terminal_id))
                for d in deliveries
            ]
        )

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]:
        items = self.table.query_prefix(keys.strategy_pk(strategy_id), keys.deliveries_prefix(signal_id))
        return [from_item(DeliveryRecord, item) for item in items]

    def mark_pulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> DeliveryStatus | None:
        """QUEUED/PULLED → PULLED (first pull time kept). Returns the status the delivery now has, or
        None when the delivery record does not exist."""
        update = "SET #s = :new, pulledAt = if_not_exists(pulledAt, :at)"
        return self._transition(strategy_id, signal_id, terminal_id, update, DeliveryStatus.PULLED, at)

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None:
        update = "SET #s = :new, expiredAt = :at"
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
    ) -> DeliveryStatus | None:
        update = "SET #s = :new, ackedAt = :at, outcome = :outcome, pulledAt = if_not_exists(pulledAt, :at)"
        recorded = outcome.model_dump(mode="json", by_alias=True, exclude_none=True)
        return self._transition(strategy_id, signal_id, terminal_id, update, status, at, outcome=recorded)

    def _transition(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        update: str,
        new: DeliveryStatus,
        at: datetime,
        **extra: Any,
    ) -> DeliveryStatus | None:
        """Move a delivery out of QUEUED/PULLED. A final status is never overwritten: the current one is
        returned instead, which makes pulls of redelivered messages and repeated acks harmless."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.delivery_sk(signal_id, terminal_id),
                update=update,
                condition="#s IN (:queued, :pulled)",
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
            return DeliveryStatus(to_python(failed.old)["status"]) if failed.old else None
        return new
