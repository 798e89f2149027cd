"""Subscriptions, materialized on both sides (layout: dal/keys.py): in the strategy's partition with
everything the hot path's one Query needs to send, and in the terminal's, to list and delete them (a
full copy since the terminal views show each sizing; a copy written before holds only `strategyId`,
and its strategy side is read instead)."""

from __future__ import annotations

from pydantic import ValidationError

from quantlink.concurrency import map_concurrently
from quantlink.dal import keys
from quantlink.dal.codec import from_item, to_item, to_python
from quantlink.dal.table import TableStore, TransactionCanceled
from quantlink.errors import NotFound
from quantlink.models import Subscription


class DynamoSubscriptionStore(TableStore):
    def put_subscription(self, subscription: Subscription) -> None:
        """Both sides in one transaction; the terminal must still exist (else NotFound)."""
        strategy_side = to_item(
            subscription,
            pk=keys.strategy_pk(subscription.strategy_id),
            sk=keys.subscription_sk(subscription.terminal_id),
        )
        terminal_side = to_item(
            subscription,
            pk=keys.terminal_pk(subscription.terminal_id),
            sk=keys.subscription_sk(subscription.strategy_id),
        )
        try:
            self.table.transact(
                [
                    self.table.check_op(keys.terminal_pk(subscription.terminal_id), keys.META, "attribute_exists(pk)"),
                    self.table.put_op(strategy_side),
                    self.table.put_op(terminal_side),
                ]
            )
        except TransactionCanceled as canceled:
            raise NotFound("No such terminal.") from canceled

    def delete_subscription(self, terminal_id: str, strategy_id: str) -> None:
        self.table.transact(
            [
                self.table.delete_op(keys.strategy_pk(strategy_id), keys.subscription_sk(terminal_id)),
                self.table.delete_op(keys.terminal_pk(terminal_id), keys.subscription_sk(strategy_id)),
            ]
        )

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        """The hot path's one Query: every terminal a signal of this strategy goes to."""
        items = self.table.query_prefix(keys.strategy_pk(strategy_id), keys.SUBSCRIPTION)
        return [from_item(Subscription, item) for item in items]

    def subscribed_strategy_ids(self, terminal_id: str) -> list[str]:
        items = self.table.query_prefix(keys.terminal_pk(terminal_id), keys.SUBSCRIPTION)
        return [str(to_python(item)["strategyId"]) for item in items]

    def subscriptions_of_terminal(self, terminal_id: str) -> list[Subscription]:
        """Every subscription of one terminal, ordered by strategy id."""
        found: list[Subscription] = []
        older: list[str] = []
        for item in self.table.query_prefix(keys.terminal_pk(terminal_id), keys.SUBSCRIPTION):
            try:
                found.append(from_item(Subscription, item))
            except ValidationError:  # a terminal-side copy from before it held the whole subscription
                older.append(str(to_python(item)["strategyId"]))
        sides = map_concurrently(
            lambda sid: self.table.get(keys.strategy_pk(sid), keys.subscription_sk(terminal_id)), older
        )
        for side in sides:
            if isinstance(side, BaseException):
                raise side
            if side is not None:
                found.append(from_item(Subscription, side))
        return sorted(found, key=lambda s: s.strategy_id)

    def delete_strategy_subscriptions(self, strategy_id: str) -> None:
        """Both sides of every subscription to a strategy: no fan-out reaches a terminal once this returns."""
        strategy_pk = keys.strategy_pk(strategy_id)
        terminals = [
            keys.subscribed_id(str(item["sk"]["S"]))  # type: ignore[typeddict-item]
            for item in self.table.query_prefix(strategy_pk, keys.SUBSCRIPTION)
        ]
        self.table.delete_all(
            [(strategy_pk, keys.subscription_sk(t)) for t in terminals]
            + [(keys.terminal_pk(t), keys.subscription_sk(strategy_id)) for t in terminals]
        )
