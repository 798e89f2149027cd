"""Subscriptions: which terminals receive a strategy's signals (materialized for the hot path)."""

from __future__ import annotations

from quantlink.dal.ports import OwnerStore
from quantlink.models import Sizing, Subscription
from quantlink.owner.strategies import owned_strategy
from quantlink.owner.terminals import owned_terminal
from quantlink.sources import sizing_for
from quantlink.timeutil import now
from quantlink.views.owner import SubscriptionView


def subscribe(
    store: OwnerStore, owner_id: str, terminal_id: str, strategy_id: str, sizing: Sizing | None
) -> SubscriptionView:
    """The caller's own terminal to the caller's own strategy (sharing widens this to shared ones)."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    strategy = owned_strategy(store, owner_id, strategy_id)
    chosen = sizing_for(strategy, sizing)  # ratio only where the source sends the portfolio value
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
