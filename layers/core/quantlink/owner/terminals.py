"""Terminals: register (with its own FIFO queue), list, read, delete, rotate the auth token, release
the bound device."""

from __future__ import annotations

from quantlink.dal.ports import OwnerStore, QueueAdmin, TerminalStore
from quantlink.errors import NotFound
from quantlink.ids import TERMINAL_PREFIX, hash_secret, is_id, new_terminal_id, new_terminal_token
from quantlink.models import CreateTerminalBody, Sizing, Terminal
from quantlink.timeutil import now
from quantlink.views.owner import AuthToken, CreatedTerminal, TerminalDetail, TerminalList, TerminalView


def owned_terminal(store: TerminalStore, owner_id: str, terminal_id: str) -> Terminal:
    terminal = store.get_terminal(terminal_id) if is_id(terminal_id, TERMINAL_PREFIX) else None
    if terminal is None or terminal.owner_id != owner_id:
        raise NotFound("No such terminal.")
    return terminal


def register_terminal(
    store: TerminalStore,
    queues: QueueAdmin,
    owner_id: str,
    body: CreateTerminalBody,
    *,
    visibility_timeout_seconds: int,
) -> CreatedTerminal:
    """The auth token is in the answer once; only its hash is stored."""
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
    return CreatedTerminal.of(terminal, auth_token=token)


def _detail(store: OwnerStore, terminal: Terminal) -> TerminalDetail:
    subscriptions = store.subscriptions_of_terminal(terminal.terminal_id)
    return TerminalDetail.of(
        terminal,
        subscriptions=[s.strategy_id for s in subscriptions],
        subscription_sizing={s.strategy_id: Sizing.model_validate(s.sizing) for s in subscriptions},
    )


def list_terminals(store: OwnerStore, owner_id: str) -> TerminalList:
    return TerminalList(items=[_detail(store, t) for t in store.list_terminals(owner_id)])


def get_terminal(store: OwnerStore, owner_id: str, terminal_id: str) -> TerminalDetail:
    return _detail(store, owned_terminal(store, owner_id, terminal_id))


def delete_terminal(store: TerminalStore, queues: QueueAdmin, owner_id: str, terminal_id: str) -> None:
    """Its record and subscriptions first (no fan-out targets it any more), then its queue."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    store.delete_terminal(terminal.terminal_id)
    queues.delete(terminal.queue_url)


def rotate_terminal_token(store: TerminalStore, owner_id: str, terminal_id: str) -> AuthToken:
    """A leaked terminal token: the old one stops working at once; the bound device stays bound."""
    owned_terminal(store, owner_id, terminal_id)
    token = new_terminal_token(terminal_id)
    store.set_terminal_token_hash(terminal_id, owner_id, hash_secret(token))
    return AuthToken(auth_token=token)


def release_device(store: TerminalStore, owner_id: str, terminal_id: str) -> TerminalView:
    """Forget the bound device: the next device to pull claims the terminal."""
    owned_terminal(store, owner_id, terminal_id)
    store.release_device(terminal_id, owner_id)
    return TerminalView.of(owned_terminal(store, owner_id, terminal_id))
