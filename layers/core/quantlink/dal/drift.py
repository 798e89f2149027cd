"""Drift: each terminal's daily reports and its drift settings (threshold, alert channels), in the
terminal's partition (layout: dal/keys.py); the sync batch that sends a report's repair orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item, to_python, value
from quantlink.dal.table import TableStore, TransactionCanceled
from quantlink.errors import Conflict, NotFound
from quantlink.models import SignalRecord
from quantlink.timeutil import epoch_ms, iso
from quantlink.views.drift import DriftReport

_SYNC_BATCH_MAX = 49  # two items per signal (dedup marker, record) plus the report: one transaction


class DynamoDriftStore(TableStore):
    def put_drift_report(self, report: DriftReport) -> None:
        """Replaces an earlier computation of the same day, keeping when its sync was sent."""
        pk, sk = keys.terminal_pk(report.terminal_id), keys.drift_sk(report.date)
        old = self.table.get(pk, sk)
        sent = to_python(old).get("syncSentAt") if old else None
        item = to_item(report, pk=pk, sk=sk)
        if sent:
            item["syncSentAt"] = value(sent)
        self.table.put(item)

    def get_drift_report(self, terminal_id: str, day: date | None = None) -> DriftReport | None:
        """That day's, or the latest when `day` is None."""
        pk = keys.terminal_pk(terminal_id)
        if day is not None:
            item = self.table.get(pk, keys.drift_sk(day))
            return from_item(DriftReport, item) if item else None
        return next(iter(self.drift_history(terminal_id, limit=1)), None)

    def drift_history(self, terminal_id: str, *, limit: int) -> list[DriftReport]:
        """Newest first."""
        items = self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": value(keys.terminal_pk(terminal_id)),
                ":prefix": value(keys.drift_prefix()),
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        found = []
        for item in items:
            found.append(from_item(DriftReport, item))
            if len(found) >= limit:
                break
        return found

    def get_drift_settings(self, terminal_id: str) -> dict[str, Any]:
        item = self.table.get(keys.terminal_pk(terminal_id), keys.DRIFT_SETTINGS)
        if item is None:
            return {}
        return {k: v for k, v in to_python(item).items() if k not in ("pk", "sk")}

    def put_drift_settings(self, terminal_id: str, settings: dict[str, Any]) -> None:
        item = {name: value(v) for name, v in settings.items() if v is not None}
        self.table.put({**item, "pk": value(keys.terminal_pk(terminal_id)), "sk": value(keys.DRIFT_SETTINGS)})

    def terminal_ids(self) -> list[str]:
        """Every terminal, for the daily job: one Scan a day (cheaper than an index every write pays)."""
        found: list[str] = []
        args: dict[str, Any] = {
            "TableName": self.table.name,
            "FilterExpression": "sk = :meta AND begins_with(pk, :terminal)",
            "ExpressionAttributeValues": {":meta": value(keys.META), ":terminal": value(keys.terminal_pk(""))},
            "ProjectionExpression": "terminalId",
        }
        while True:
            page = self.table.client.scan(**args)
            found.extend(str(to_python(item)["terminalId"]) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(found)
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record_sync_batch(
        self, terminal_id: str, day: date, signals: list[SignalRecord], *, at: datetime, dedup_ttl_seconds: int
    ) -> None:
        """The report marked sent and every sync signal recorded (RECEIVED, with its dedup marker), all
        or nothing: a second send is refused (Conflict), and a crash before the fan-out leaves the
        signals for the sweeper to re-drive."""
        if len(signals) > _SYNC_BATCH_MAX:
            raise Conflict(f"A sync sends at most {_SYNC_BATCH_MAX} orders at once.")
        pk = keys.terminal_pk(terminal_id)
        items: list[Any] = [
            {
                "Update": {
                    "TableName": self.table.name,
                    "Key": self.table.key(pk, keys.drift_sk(day)),
                    "UpdateExpression": "SET syncSentAt = :at",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(syncSentAt)",
                    "ExpressionAttributeValues": {":at": value(iso(at))},
                }
            }
        ]
        ttl = int(at.timestamp()) + dedup_ttl_seconds
        for signal in signals:
            spk = keys.strategy_pk(signal.strategy_id)
            marker = {
                "pk": value(spk),
                "sk": value(keys.dedup_sk(signal.dedup_key)),
                "signalId": value(signal.signal_id),
                "ttl": value(ttl),
            }
            record = to_item(
                signal,
                pk=spk,
                sk=keys.signal_sk(signal.signal_id),
                fanoutLeaseUntil=epoch_ms(at),
                gsi1pk=keys.fanout_gsi1pk(signal.signal_id),
                gsi1sk=keys.fanout_gsi1sk(signal.received_at, signal.signal_id),
            )
            items.append(self.table.put_op(marker, condition="attribute_not_exists(pk)"))
            items.append(self.table.put_op(record, condition="attribute_not_exists(pk)"))
        try:
            self.table.transact(items)  # type: ignore[arg-type]
        except TransactionCanceled as canceled:
            if canceled.condition_failed_at(0):
                if self.table.get(pk, keys.drift_sk(day)) is None:
                    raise NotFound("No drift report for that day.") from canceled
                raise Conflict("This report's sync was already sent.") from canceled
            raise
