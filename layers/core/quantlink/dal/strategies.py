"""Strategies: one record each, listed per owner through gsi1 (layout: dal/keys.py)."""

from __future__ import annotations

from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item
from quantlink.dal.table import ConditionFailed, TableStore
from quantlink.errors import Conflict, NotFound
from quantlink.models import Strategy


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
        item = self.table.get(keys.strategy_pk(strategy_id), keys.META)
        return from_item(Strategy, item) if item else None

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.STRATEGY.value)
        return [from_item(Strategy, item) for item in items]

    def set_webhook_token_hash(self, strategy_id: str, owner_id: str, token_hash: str) -> None:
        """Replace the token's hash, only on the owner's own record: the old token stops working at once."""
        try:
            self.table.update(
                keys.strategy_pk(strategy_id),
                keys.META,
                update="SET webhookTokenHash = :hash",
                condition="ownerId = :owner",
                attribute_values={"hash": token_hash, "owner": owner_id},
            )
        except ConditionFailed as failed:
            raise NotFound("No such strategy.") from failed
