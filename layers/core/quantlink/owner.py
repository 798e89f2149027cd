"""Owner operations: strategies, terminals, subscriptions, the signal timeline. Another owner's
strategy or terminal answers NOT_FOUND, exactly like a missing one, so ids cannot be probed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quantlink.dal.queues import TerminalQueues
from quantlink.dal.store import DynamoStore
from quantlink.errors import NotFound
from quantlink.ids import (
    STRATEGY_PREFIX,
    TERMINAL_PREFIX,
    hash_secret,
    is_id,
    new_strategy_id,
    new_terminal_id,
    new_terminal_token,
    new_webhook_token,
)
from quantlink.models import CreateStrategyBody, CreateTerminalBody, Sizing, Strategy, Subscription, Terminal
from quantlink.timeutil import now


@dataclass(frozen=True)
class WithSecret:
    """A record and the secret that is shown once (only its hash is stored)."""

    record: Any
    secret: str


def webhook_url(api_base: str, strategy_id: str) -> str:
    return f"{api_base.rstrip('/')}/api/webhooks/joinquant/{strategy_id}"


# ---- strategies ----------------------------------------------------------------------------------


def create_strategy(store: DynamoStore, owner_id: str, body: CreateStrategyBody) -> WithSecret:
    token = new_webhook_token()
    strategy = Strategy(
        strategy_id=new_strategy_id(),
        owner_id=owner_id,
        name=body.name,
        webhook_token_hash=hash_secret(token),
        signal_ttl_seconds=body.signal_ttl_seconds,
        created_at=now(),
    )
    store.put_strategy(strategy)
    return WithSecret(strategy, token)


def owned_strategy(store: DynamoStore, owner_id: str, strategy_id: str) -> Strategy:
    strategy = store.get_strategy(strategy_id) if is_id(strategy_id, STRATEGY_PREFIX) else None
    if strategy is None or strategy.owner_id != owner_id:
        raise NotFound("No such strategy.")
    return strategy


def rotate_webhook_token(store: DynamoStore, owner_id: str, strategy_id: str) -> str:
    owned_strategy(store, owner_id, strategy_id)
    token = new_webhook_token()
    store.set_webhook_token_hash(strategy_id, owner_id, hash_secret(token))
    return token


def signal_timeline(
    store: DynamoStore, owner_id: str, strategy_id: str, *, limit: int, before: str | None
) -> dict[str, Any]:
    owned_strategy(store, owner_id, strategy_id)
    entries = store.timeline(strategy_id, limit=limit, before=before)
    items = []
    for entry in entries:
        signal = entry.signal.wire()
        signal.pop("dedupKey", None)
        signal["deliveries"] = [delivery.public() for delivery in entry.deliveries]
        items.append(signal)
    next_before = entries[-1].signal.signal_id if len(entries) == limit else None
    return {"items": items, "nextBefore": next_before}


# ---- terminals -----------------------------------------------------------------------------------


def register_terminal(
    store: DynamoStore,
    queues: TerminalQueues,
    owner_id: str,
    body: CreateTerminalBody,
    *,
    visibility_timeout_seconds: int,
) -> WithSecret:
    terminal_id = new_terminal_id()
    token = new_terminal_token(terminal_id)
    queue_url = queues.create(terminal_id, visibility_timeout_seconds=visibility_timeout_seconds)
    terminal = Terminal(
        terminal_id=terminal_id,
        owner_id=owner_id,
        name=body.name,
        kind=body.kind,
        auth_token_hash=hash_secret(token),
        queue_url=queue_url,
        created_at=now(),
    )
    try:
        store.put_terminal(terminal)
    except Exception:
        queues.delete(queue_url)  # no orphan queue when the record could not be written
        raise
    return WithSecret(terminal, token)


def owned_terminal(store: DynamoStore, owner_id: str, terminal_id: str) -> Terminal:
    terminal = store.get_terminal(terminal_id) if is_id(terminal_id, TERMINAL_PREFIX) else None
    if terminal is None or terminal.owner_id != owner_id:
        raise NotFound("No such terminal.")
    return terminal


def delete_terminal(store: DynamoStore, queues: TerminalQueues, owner_id: str, terminal_id: str) -> None:
    terminal = owned_terminal(store, owner_id, terminal_id)
    store.delete_terminal(terminal)
    queues.delete(terminal.queue_url)


def rotate_terminal_token(store: DynamoStore, owner_id: str, terminal_id: str) -> str:
    """A leaked terminal token: the old one stops working at once; the bound device stays bound."""
    owned_terminal(store, owner_id, terminal_id)
    token = new_terminal_token(terminal_id)
    store.set_terminal_token_hash(terminal_id, owner_id, hash_secret(token))
    return token


def release_device(store: DynamoStore, owner_id: str, terminal_id: str) -> Terminal:
    owned_terminal(store, owner_id, terminal_id)
    store.release_device(terminal_id, owner_id)
    return owned_terminal(store, owner_id, terminal_id)


def subscribe(
    store: DynamoStore, owner_id: str, terminal_id: str, strategy_id: str, sizing: Sizing | None
) -> Subscription:
    terminal = owned_terminal(store, owner_id, terminal_id)
    # Sharing (a later part) widens this to strategies shared with the caller.
    owned_strategy(store, owner_id, strategy_id)
    subscription = Subscription(
        strategy_id=strategy_id,
        terminal_id=terminal_id,
        owner_id=owner_id,
        queue_url=terminal.queue_url,
        sizing=(sizing or Sizing()).model_dump(mode="json", by_alias=True),
        created_at=now(),
    )
    store.put_subscription(subscription)
    return subscription


def unsubscribe(store: DynamoStore, owner_id: str, terminal_id: str, strategy_id: str) -> None:
    owned_terminal(store, owner_id, terminal_id)
    store.delete_subscription(terminal_id, strategy_id)


def terminal_view(store: DynamoStore, terminal: Terminal) -> dict[str, Any]:
    view = terminal.public()
    view["subscriptions"] = store.subscribed_strategy_ids(terminal.terminal_id)
    return view
