"""Strategies: one record each, listed per owner through gsi1 (layout: dal/keys.py).

Deleting one is a tombstone, then a purge: `tombstone_strategy` marks the record deleted (every read
answers as for an unknown id from then on: the webhook 401, the owner 404) and takes it out of the
owner's list; `purge_strategy` removes the partition in bounded steps, the record itself last, so a
partition of any size never holds up one request and a purge cut short is resumed by the next call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantlink.dal import keys
from quantlink.dal.codec import Item, from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict, NotFound
from quantlink.models import Strategy
from quantlink.timeutil import iso

_LIVE = "attribute_not_exists(deletedAt)"


def _live(item: Item | None) -> Strategy | None:
    return from_item(Strategy, item) if item and "deletedAt" not in item else None


class DynamoStrategyStore(TableStore):
    def put_strategy(self, strategy: Strategy) -> None:
        item = to_item(
            strategy,
            pk=keys.strategy_pk(strategy.strategy_id),
            sk=keys.META,
            gsi1pk=keys.owner_gsi1pk(strategy.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.STRATEGY, strategy.created_at, strategy.strategy_id),
        )
        try:
            self.table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise Conflict("A strategy with this id already exists.") from failed

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        """None for a deleted strategy, as for one that never existed."""
        return _live(self.table.get(keys.strategy_pk(strategy_id), keys.META))

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        """Newest first (the index may lag a deletion by a moment: deleted ones are left out here too)."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.STRATEGY.value)
        return [strategy for strategy in map(_live, items) if strategy is not None]

    def update_strategy(
        self, strategy_id: str, owner_id: str, *, name: str | None = None, paused: bool | None = None
    ) -> None:
        """Only on the owner's own live strategy; raises NotFound otherwise."""
        changes: dict[str, Any] = {"name": name, "paused": paused}
        given = {field: change for field, change in changes.items() if change is not None}
        self._update_owned_strategy(
            strategy_id,
            owner_id,
            "SET " + ", ".join(f"#{field} = :{field}" for field in given),
            names={f"#{field}": field for field in given},
            **given,
        )

    def tombstone_strategy(self, strategy_id: str, owner_id: str, *, at: datetime) -> None:
        """Mark the owner's strategy deleted: its token stops working and it leaves the owner's list at
        once. Again on a tombstone is harmless (a purge cut short is resumed by deleting again); raises
        NotFound for another owner's strategy or one already purged."""
        self._update_owned_strategy(
            strategy_id,
            owner_id,
            "SET deletedAt = if_not_exists(deletedAt, :at) REMOVE webhookTokenHash, gsi1pk, gsi1sk",
            live_only=False,
            at=iso(at),
        )

    def purge_strategy(self, strategy_id: str, *, max_items: int) -> bool:
        """Delete up to `max_items` items of a tombstoned strategy's partition; the record itself goes
        last, once nothing else is left. True when the partition is gone."""
        pk = keys.strategy_pk(strategy_id)
        batch: list[tuple[str, str]] = []
        for item in self.table.query_partition(pk):
            sk = str(item["sk"]["S"])  # type: ignore[typeddict-item]
            if sk != keys.META:
                batch.append((pk, sk))
            if len(batch) >= max_items:
                self.table.delete_all(batch)
                return False
        self.table.delete_all(batch)
        self._purge_record(pk)
        return True

    def _purge_record(self, pk: str) -> None:
        try:
            self.table.delete(pk, keys.META, condition="attribute_exists(deletedAt)")
        except ConditionFailed:
            return  # already purged, or never tombstoned: nothing to remove

    def set_webhook_token_hash(
        self, strategy_id: str, owner_id: str, token_hash: str, *, sealed_signing_secret: str | None = None
    ) -> None:
        """Replace the token's hash (and the sealed signing secret, when given) in one write, only on the
        owner's own record: the old token (and secret) stop working at once."""
        if sealed_signing_secret is None:
            self._update_owned_strategy(strategy_id, owner_id, "SET webhookTokenHash = :hash", hash=token_hash)
            return
        self._update_owned_strategy(
            strategy_id,
            owner_id,
            "SET webhookTokenHash = :hash, sealedSigningSecret = :secret",
            hash=token_hash,
            secret=sealed_signing_secret,
        )

    def _update_owned_strategy(
        self,
        strategy_id: str,
        owner_id: str,
        update: str,
        *,
        names: dict[str, str] | None = None,
        live_only: bool = True,
        **attribute_values: Any,
    ) -> None:
        condition = "ownerId = :owner" + (f" AND {_LIVE}" if live_only else "")
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.META,
                update=update,
                condition=condition,
                names=names,
                attribute_values={**attribute_values, "owner": owner_id},
            )
        except ConditionFailed as failed:
            raise NotFound("No such strategy.") from failed
