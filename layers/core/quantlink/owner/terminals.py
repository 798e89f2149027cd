"""Terminals: register (with its own FIFO queue), list, read, delete, rotate the auth token, release
the bound device."""

from __future__ import annotations

from typing import Any

from quantlink.dal.ports import OwnerStore, QueueAdmin, TerminalStore
from quantlink.errors import NotFound
from quantlink.ids import TERMINAL_PREFIX, hash_secret, is_id, new_terminal_id, new_terminal_token
from quantlink.models import CreateTerminalBody, Sizing, Terminal
from quantlink.owner.strategies import Recorder
from quantlink.timeutil import now
from quantlink.views.owner import AuthToken, CreatedTerminal, TerminalDetail, TerminalList, TerminalView


def _record(audit: Recorder, action: str, terminal: Terminal, **change: Any) -> None:
    if audit is not None:
        audit.record(action, "terminal", terminal.terminal_id, owner_id=terminal.owner_id, **change)


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
    audit: Recorder = None,
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
    _record(audit, "terminal.registered", terminal, after={"name": terminal.name, "kind": terminal.kind})
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


def delete_terminal(
    store: TerminalStore, queues: QueueAdmin, owner_id: str, terminal_id: str, *, audit: Recorder = None
) -> None:
    """Its record and subscriptions first (no fan-out targets it any more), then its queue."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    store.delete_terminal(terminal.terminal_id)
    queues.delete(terminal.queue_url)
    _record(audit, "terminal.deleted", terminal, before={"name": terminal.name})


def rotate_terminal_token(
    store: TerminalStore, owner_id: str, terminal_id: str, *, audit: Recorder = None
) -> AuthToken:
    """A leaked terminal token: the old one stops working at once; the bound device stays bound."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    token = new_terminal_token(terminal_id)
    store.set_terminal_token_hash(terminal_id, owner_id, hash_secret(token))
    _record(audit, "terminal.token_rotated", terminal)
    return AuthToken(auth_token=token)


def release_device(store: TerminalStore, owner_id: str, terminal_id: str, *, audit: Recorder = None) -> TerminalView:
    """Forget the bound device: the next device to pull claims the terminal."""
    terminal = owned_terminal(store, owner_id, terminal_id)
    store.release_device(terminal_id, owner_id)
    _record(audit, "terminal.device_released", terminal, before={"deviceBound": terminal.device_fingerprint_hash
                                                                  is not None})  # fmt: skip
    return TerminalView.of(owned_terminal(store, owner_id, terminal_id))
