"""Subscriptions: which terminals receive a strategy's signals (materialized for the hot path)."""

from __future__ import annotations

from quantlink.dal.ports import OwnerStore, SharingStore
from quantlink.errors import NotFound
from quantlink.ids import STRATEGY_PREFIX, is_id
from quantlink.models import Sizing, Subscription
from quantlink.owner.terminals import owned_terminal
from quantlink.sharing.shares import subscribe_shared
from quantlink.sources import sizing_for
from quantlink.timeutil import now
from quantlink.views.owner import SubscriptionView


def subscribe(
    store: SharingStore, owner_id: str, terminal_id: str, strategy_id: str, sizing: Sizing | None
) -> SubscriptionView:
    """The caller's own terminal to the caller's own strategy, or to one shared with the caller (within
    the share's terminalLimit: TERMINAL_LIMIT_REACHED past it)."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    strategy = store.get_strategy(strategy_id) if is_id(strategy_id, STRATEGY_PREFIX) else None
    if strategy is None:
        raise NotFound("No such strategy.")
    chosen = sizing_for(strategy, sizing)  # ratio only where the source sends the portfolio value
    if strategy.owner_id != owner_id:
        subscribe_shared(store, owner_id, terminal, strategy_id, chosen)
        return SubscriptionView(terminal_id=terminal_id, strategy_id=strategy_id, sizing=chosen)
    store.put_subscription(
        Subscription(
            strategy_id=strategy_id,
            terminal_id=terminal_id,
            owner_id=owner_id,
            queue_url=terminal.queue_url,
            sizing=chosen.model_dump(mode="json", by_alias=True),
            created_at=now(),
        )
    )
    return SubscriptionView(terminal_id=terminal_id, strategy_id=strategy_id, sizing=chosen)


def unsubscribe(store: OwnerStore, owner_id: str, terminal_id: str, strategy_id: str) -> None:
    owned_terminal(store, owner_id, terminal_id)
    store.delete_subscription(terminal_id, strategy_id)
