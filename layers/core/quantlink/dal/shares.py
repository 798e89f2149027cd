"""Shares and grants, in the shared strategy's partition (layout: dal/keys.py).

A share is listed by its owner (gsi1) and its recipient (gsi2). A Grant is what one recipient's live
shares of the strategy add up to, with a version: `commit_grant` writes the changed shares, the new
grant and the strategy side of the recipient's subscriptions (what the hot path's one Query reads) in
one transaction, conditioned on the version read, so two concurrent changes cannot interleave; the
strategy side of the subscriptions goes first in the item list (a change past 100 items is chunked, and
the hot path must see it no later than the rest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quantlink.dal import keys
from quantlink.dal.codec import Item, from_item, to_item, values
from quantlink.dal.table import TableStore, TransactionCanceled
from quantlink.errors import Conflict, NotFound
from quantlink.ids import strategy_of_share
from quantlink.models import Subscription
from quantlink.sharing.records import Grant, Share, ShareState
from quantlink.timeutil import iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class DynamoShareStore(TableStore):
    def _share_item(self, share: Share) -> Item:
        return to_item(
            share,
            pk=keys.strategy_pk(share.strategy_id),
            sk=keys.share_sk(share.share_id),
            gsi1pk=keys.owner_gsi1pk(share.owner_id),
            gsi1sk=keys.owned_gsi1sk(keys.Owned.SHARE, share.created_at, share.share_id),
            gsi2pk=keys.recipient_gsi2pk(share.recipient_id),
            gsi2sk=keys.owned_gsi1sk(keys.Owned.SHARE, share.created_at, share.share_id),
        )

    def get_share(self, share_id: str) -> Share | None:
        strategy_id = strategy_of_share(share_id)
        item = self.table.get(keys.strategy_pk(strategy_id), keys.share_sk(share_id)) if strategy_id else None
        return from_item(Share, item) if item else None

    def shares_of_strategy(self, strategy_id: str) -> list[Share]:
        """Every share of one strategy (strongly consistent: what a grant is recomputed from)."""
        items = self.table.query_prefix(keys.strategy_pk(strategy_id), keys.SHARES)
        return [from_item(Share, item) for item in items]

    def shares_owned(self, owner_id: str) -> list[Share]:
        """Newest first."""
        items = self.table.query_gsi1(keys.owner_gsi1pk(owner_id), keys.Owned.SHARE.value)
        return [from_item(Share, item) for item in items]

    def shares_received(self, recipient_id: str) -> list[Share]:
        """Newest first."""
        items = self.table.query_gsi2(keys.recipient_gsi2pk(recipient_id), keys.Owned.SHARE.value)
        return [from_item(Share, item) for item in items]

    def get_grant(self, strategy_id: str, recipient_id: str) -> Grant | None:
        item = self.table.get(keys.strategy_pk(strategy_id), keys.grant_sk(recipient_id))
        return from_item(Grant, item) if item else None

    def commit_grant(
        self,
        strategy_id: str,
        recipient_id: str,
        *,
        read_version: int | None,
        grant: Grant | None,
        shares: list[Share],
        keep: list[str],
        drop: list[str],
    ) -> None:
        """Write `shares`, the new `grant` (None: the recipient has no live share left) and the strategy
        side of the recipient's subscriptions: those of `keep` carry the grant's pause and expiry, those
        of `drop` are deleted (both sides). Raises Conflict when the grant is no longer at `read_version`
        (None: there was none) or a subscription changed meanwhile; the caller reads again and retries."""
        pk = keys.strategy_pk(strategy_id)
        grant_sk = keys.grant_sk(recipient_id)
        ops: list[TransactWriteItemTypeDef] = [self.table.delete_op(pk, keys.subscription_sk(t)) for t in drop]
        if grant is not None:
            ops += [self._subscription_state_op(strategy_id, t, grant) for t in keep]
        if read_version is None:
            guard, at_version = "attribute_not_exists(pk)", {}
        else:
            guard, at_version = "version = :version", {"version": read_version}
        if grant is None:
            # No live share left: the grant goes (a ConditionCheck when there was none to delete).
            ops.append(self.table.check_op(pk, grant_sk, guard)
                       if read_version is None else
                       {"Delete": {**self.table.delete_op(pk, grant_sk)["Delete"], "ConditionExpression": guard,
                                   "ExpressionAttributeValues": values(**at_version)}})  # fmt: skip
        else:
            written = grant.model_copy(update={"version": (read_version or 0) + 1})
            ops.append(
                self.table.put_op(to_item(written, pk=pk, sk=grant_sk), condition=guard, attribute_values=at_version)
            )
        ops += [self.table.put_op(self._share_item(share)) for share in shares]
        ops += [
            self.table.put_op(self.table.key(keys.DUE_PK, keys.due_sk(share.expires_at, "share", share.share_id)))
            for share in shares
            if share.expires_at is not None and share.state == ShareState.LIVE
        ]
        ops += [self.table.delete_op(keys.terminal_pk(t), keys.subscription_sk(strategy_id)) for t in drop]
        try:
            self.table.transact(ops)
        except TransactionCanceled as canceled:
            raise Conflict("The share changed meanwhile; retry.") from canceled

    def _subscription_state_op(self, strategy_id: str, terminal_id: str, grant: Grant) -> TransactWriteItemTypeDef:
        pk, sk = keys.strategy_pk(strategy_id), keys.subscription_sk(terminal_id)
        if grant.expires_at is None:
            return self.table.update_op(
                pk, sk, update="SET paused = :paused REMOVE expiresAt", condition="attribute_exists(pk)",
                attribute_values={"paused": grant.paused},
            )  # fmt: skip
        return self.table.update_op(
            pk, sk, update="SET paused = :paused, expiresAt = :expires", condition="attribute_exists(pk)",
            attribute_values={"paused": grant.paused, "expires": iso(grant.expires_at)},
        )  # fmt: skip

    def put_shared_subscription(self, subscription: Subscription, grant: Grant) -> None:
        """Both sides of a recipient's subscription, while the terminal exists and the grant is still at
        the version read (bumped, so a concurrent subscribe or share change retries); raises Conflict
        when the grant moved, NotFound when the terminal is gone."""
        pk = keys.strategy_pk(subscription.strategy_id)
        state = subscription.model_copy(update={"paused": grant.paused, "expires_at": grant.expires_at})
        ops = [
            self.table.check_op(keys.terminal_pk(subscription.terminal_id), keys.META, "attribute_exists(pk)"),
            self.table.update_op(
                pk, keys.grant_sk(grant.recipient_id), update="SET version = version + :one",
                condition="version = :version", attribute_values={"one": 1, "version": grant.version},
            ),
            self.table.put_op(to_item(state, pk=pk, sk=keys.subscription_sk(subscription.terminal_id))),
            self.table.put_op(
                to_item(state, pk=keys.terminal_pk(subscription.terminal_id),
                        sk=keys.subscription_sk(subscription.strategy_id))
            ),
        ]  # fmt: skip
        try:
            self.table.transact(ops)
        except TransactionCanceled as canceled:
            if canceled.condition_failed_at(0):
                raise NotFound("No such terminal.") from canceled
            raise Conflict("The share changed meanwhile; retry.") from canceled

    def delete_strategy_shares(self, strategy_id: str) -> None:
        """Every share and grant of a strategy (it is being deleted)."""
        pk = keys.strategy_pk(strategy_id)
        found = [
            (pk, str(item["sk"]["S"]))  # type: ignore[typeddict-item]
            for prefix in (keys.SHARES, keys.GRANTS)
            for item in self.table.query_prefix(pk, prefix)
        ]
        self.table.delete_all(found)
