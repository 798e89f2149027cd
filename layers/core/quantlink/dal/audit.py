"""The audit log: each entry stored once per user it concerns (the target's owner, and the actor when
that is someone else), newest first by time, with a `ttl` from the retention setting; the owner's copy is
also on gsi1 under AUDIT, where admins read every entry. Layout: dal/keys.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item, values
from quantlink.dal.table import TableStore
from quantlink.sharing.records import AuditEntry


class DynamoAuditStore(TableStore):
    def put_audit_entry(self, entry: AuditEntry, *, audiences: list[str], expires_at: datetime) -> None:
        sk = keys.audit_sk(entry.at, entry.audit_id)
        ttl = int(expires_at.timestamp())
        items = [
            to_item(entry, pk=keys.audit_pk(user_id), sk=sk, ttl=ttl)
            | ({"gsi1pk": {"S": keys.audit_all_gsi1pk()}, "gsi1sk": {"S": sk}} if n == 0 else {})
            for n, user_id in enumerate(dict.fromkeys(audiences))
        ]
        self.table.put_all(items)

    def audit_entries(
        self, user_id: str | None, *, since: datetime, until: datetime, before: str | None = None
    ) -> Iterator[tuple[str, AuditEntry]]:
        """Newest first, each with its position (a cursor: `before` continues after it), from `until`
        (or `before`, exclusive) back to `since`; every entry for an admin (user_id None)."""
        lower, upper = keys.audit_bound(since), before or keys.audit_bound(until) + "~"
        if user_id is None:
            condition, pk = "gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi", keys.audit_all_gsi1pk()
            extra: dict[str, str] = {"IndexName": "gsi1"}
        else:
            condition, pk, extra = "pk = :pk AND sk BETWEEN :lo AND :hi", keys.audit_pk(user_id), {}
        items = self.table.query(
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values(pk=pk, lo=lower, hi=upper),
            ScanIndexForward=False,
            **extra,
        )
        for item in items:
            entry = from_item(AuditEntry, item)
            position = keys.audit_sk(entry.at, entry.audit_id)
            if before is not None and position >= before:
                continue
            yield position, entry
