"""What ends when: one DUE item per share or invitation with an end time, read by the expiry sweep up to
a time (one Query; the record itself decides, a stale entry is dropped), and the expiry warnings already
sent, each claimed by a conditional write so it goes out once even when sweeps overlap. Layout:
dal/keys.py."""

from __future__ import annotations

from datetime import datetime

from quantlink.dal import keys
from quantlink.dal.codec import values
from quantlink.dal.table import ConditionFailed, TableStore


class DynamoDueStore(TableStore):
    def put_due(self, kind: str, record_id: str, at: datetime) -> None:
        self.table.put(self.table.key(keys.DUE_PK, keys.due_sk(at, kind, record_id)))

    def due_until(self, until: datetime) -> list[tuple[str, str, str]]:
        """(position, kind, id) of everything ending up to `until`, oldest first."""
        items = self.table.query(
            KeyConditionExpression="pk = :pk AND sk <= :until",
            ExpressionAttributeValues=values(pk=keys.DUE_PK, until=keys.due_sk(until, "~", "~")),
            ConsistentRead=True,
        )
        found = []
        for item in items:
            position = str(item["sk"]["S"])  # type: ignore[typeddict-item]
            kind, record_id = keys.due_parts(position)
            found.append((position, kind, record_id))
        return found

    def delete_due(self, position: str) -> None:
        self.table.delete(keys.DUE_PK, position)

    def claim_warning(self, strategy_id: str, share_id: str, kind: str, end: datetime) -> bool:
        """True for the one caller that gets to send this warning."""
        try:
            self.table.put(
                self.table.key(keys.strategy_pk(strategy_id), keys.warned_sk(share_id, kind, end)),
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True
