"""Shares: create (from an accepted invitation), list, change (permissions, expiry, pause), revoke /
remove, and a recipient subscribing a terminal to a shared strategy.

Every change goes through `change_shares`: read the recipient's shares of the strategy and its Grant,
apply the change, recompute the Grant and commit shares + grant + the strategy side of the recipient's
subscriptions in one transaction at the version read (retried when another change won the race). When
the recipient stops receiving (paused, revoked, expired, a terminal past a lowered terminalLimit), what
its terminals have not pulled yet is withdrawn (REVOKED), so nothing more arrives from that instant on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from quantlink.dal.ports import SharingStore
from quantlink.errors import Conflict, Forbidden, NotFound, TerminalLimitReached, Unavailable
from quantlink.ids import new_share_id
from quantlink.models import Sizing, Strategy, Subscription, Terminal
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import Grant, Permissions, Share, ShareSide, ShareState, ShareVia, UpdateShareBody
from quantlink.sharing.users import Caller
from quantlink.timeutil import now
from quantlink.views.sharing import ShareList, ShareView

_ATTEMPTS = 6
# A queued signal older than its strategy's TTL (plus clock disagreement) is dropped at pull anyway.
_TTL_MARGIN = timedelta(seconds=300)

Change = Callable[[dict[str, Share]], list[Share]]


def change_shares(store: SharingStore, strategy: Strategy, recipient_id: str, change: Change) -> list[Share]:
    """Apply `change` (given the recipient's current shares of the strategy by id, it returns the shares
    it changed or created, or raises) and rewrite what the hot path reads, atomically. The changed shares."""
    for _ in range(_ATTEMPTS):
        at = now()
        current = {
            s.share_id: s for s in store.shares_of_strategy(strategy.strategy_id) if s.recipient_id == recipient_id
        }
        changed = change(dict(current))
        after = {**current, **{s.share_id: s for s in changed}}
        old = store.get_grant(strategy.strategy_id, recipient_id)
        grant = Grant.of(strategy.strategy_id, recipient_id, list(after.values()), at=at)
        subscriptions = sorted(
            (s for s in store.subscriptions_for(strategy.strategy_id) if s.owner_id == recipient_id),
            key=lambda s: (s.created_at, s.terminal_id),
        )
        limit = grant.terminal_limit if grant is not None else 0
        keep = [s.terminal_id for s in subscriptions[:limit]]
        drop = [s.terminal_id for s in subscriptions[limit:]]
        try:
            store.commit_grant(
                strategy.strategy_id,
                recipient_id,
                read_version=old.version if old is not None else None,
                grant=grant,
                shares=changed,
                keep=keep,
                drop=drop,
            )
        except Conflict:
            continue
        stopped = drop + (keep if grant is None or grant.paused or not grant.active(at) else [])
        if stopped:
            since = at - timedelta(seconds=strategy.signal_ttl_seconds) - _TTL_MARGIN
            store.withdraw_deliveries(strategy.strategy_id, stopped, since=since, at=at)
        return changed
    raise Unavailable("The share kept changing under us; retry.")


# ---- reading ----------------------------------------------------------------------------------------


def _names(store: SharingStore, shares: list[Share]) -> dict[str, str]:
    names: dict[str, str] = {}
    for strategy_id in {s.strategy_id for s in shares}:
        strategy = store.get_strategy(strategy_id)
        if strategy is not None:
            names[strategy_id] = strategy.name
    return names


def views(store: SharingStore, shares: list[Share]) -> list[ShareView]:
    """Shares of deleted strategies are left out (their records go with the strategy's partition)."""
    at, names = now(), _names(store, shares)
    return [ShareView.of(s, names[s.strategy_id], at=at) for s in shares if s.strategy_id in names]


def list_shares(store: SharingStore, caller: Caller, side: ShareSide) -> ShareList:
    owned = side == ShareSide.OWNER
    shares = store.shares_owned(caller.user_id) if owned else store.shares_received(caller.user_id)
    return ShareList(items=views(store, shares))


def _share_of(store: SharingStore, caller: Caller, share_id: str) -> tuple[Share, Strategy]:
    """A share the caller owns or receives; NOT_FOUND for anyone else's, as for a missing one."""
    share = store.get_share(share_id)
    strategy = store.get_strategy(share.strategy_id) if share is not None else None
    if share is None or strategy is None or caller.user_id not in (share.owner_id, share.recipient_id):
        raise NotFound("No such share.")
    return share, strategy


# ---- creating ---------------------------------------------------------------------------------------


def create_share(
    store: SharingStore,
    audit: Audit,
    strategy: Strategy,
    *,
    owner_email: str,
    recipient_id: str,
    recipient_email: str,
    permissions: Permissions,
    expires_at: datetime | None,
    via: ShareVia = ShareVia.DIRECT,
    via_id: str | None = None,
    source_id: str | None = None,
) -> Share:
    share = Share(
        share_id=new_share_id(strategy.strategy_id),
        strategy_id=strategy.strategy_id,
        owner_id=strategy.owner_id,
        owner_email=owner_email,
        recipient_id=recipient_id,
        recipient_email=recipient_email,
        via=via,
        via_id=via_id,
        source_id=source_id,
        permissions=permissions,
        expires_at=expires_at,
        created_at=now(),
    )
    (created,) = change_shares(store, strategy, recipient_id, lambda _: [share])
    audit.record(
        "share.created", "share", created.share_id, owner_id=strategy.owner_id, strategy_id=strategy.strategy_id,
        after=_snapshot(created), also=(recipient_id,),
    )  # fmt: skip
    return created


def _snapshot(share: Share) -> dict[str, Any]:
    return share.model_dump(mode="json", by_alias=True, include={"permissions", "expires_at", "paused", "state"})


# ---- changing ---------------------------------------------------------------------------------------


def update_share(store: SharingStore, audit: Audit, caller: Caller, share_id: str, body: UpdateShareBody) -> ShareView:
    """The owner may change everything; the recipient only `paused`, and only with canPause (else
    FORBIDDEN, nothing changes). A revoked share changes no more (CONFLICT)."""
    share, strategy = _share_of(store, caller, share_id)
    given = body.model_fields_set
    if caller.user_id != share.owner_id and (given - {"paused"} or not share.permissions.can_pause):
        raise Forbidden("Only the owner may change this share." if given - {"paused"} else
                        "This share does not let you pause it.")  # fmt: skip
    before: dict[str, Any] = {}

    def apply(current: dict[str, Share]) -> list[Share]:
        found = current.get(share_id)
        if found is None:
            raise NotFound("No such share.")
        if found.state == ShareState.REVOKED:
            raise Conflict("This share was revoked.")
        before.update(_snapshot(found))
        updates: dict[str, Any] = {name: getattr(body, name) for name in given}
        extended = "expires_at" in updates and (updates["expires_at"] is None or updates["expires_at"] > now())
        if extended and found.state == ShareState.EXPIRED:
            updates["state"] = ShareState.LIVE  # the owner extended an expired share
        return [found.model_copy(update=updates)]

    (changed,) = change_shares(store, strategy, share.recipient_id, apply)
    after = _snapshot(changed)
    if "paused" in given and before.get("paused") != changed.paused:
        action = "share.paused" if changed.paused else "share.resumed"
        audit.record(action, "share", share_id, owner_id=share.owner_id, strategy_id=share.strategy_id,
                     before={"paused": before.get("paused")}, after={"paused": changed.paused},
                     also=(share.recipient_id,))  # fmt: skip
    if given - {"paused"}:
        audit.record("share.updated", "share", share_id, owner_id=share.owner_id, strategy_id=share.strategy_id,
                     before=before, after=after, also=(share.recipient_id,))  # fmt: skip
    return ShareView.of(changed, strategy.name, at=now())


def delete_share(store: SharingStore, audit: Audit, caller: Caller, share_id: str) -> None:
    """The owner revokes; the recipient removes it only with canDelete (else FORBIDDEN). Again on a
    revoked share is harmless."""
    share, strategy = _share_of(store, caller, share_id)
    by_owner = caller.user_id == share.owner_id
    if not by_owner and not share.permissions.can_delete:
        raise Forbidden("This share does not let you remove it.")
    if share.state == ShareState.REVOKED:
        return
    revoke_share(store, audit, strategy, share_id, action="share.revoked" if by_owner else "share.removed")


def revoke_share(store: SharingStore, audit: Audit, strategy: Strategy, share_id: str, *, action: str) -> None:
    def apply(current: dict[str, Share]) -> list[Share]:
        found = current.get(share_id)
        if found is None or found.state == ShareState.REVOKED:
            return []
        return [found.model_copy(update={"state": ShareState.REVOKED})]

    share = store.get_share(share_id)
    if share is None:
        return
    changed = change_shares(store, strategy, share.recipient_id, apply)
    if changed:
        audit.record(action, "share", share_id, owner_id=share.owner_id, strategy_id=share.strategy_id,
                     before=_snapshot(share), after=_snapshot(changed[0]), also=(share.recipient_id,))  # fmt: skip


# ---- a recipient's terminal -------------------------------------------------------------------------


def subscribe_shared(
    store: SharingStore, recipient_id: str, terminal: Terminal, strategy_id: str, sizing: Sizing
) -> None:
    """The recipient's terminal to a strategy shared with it; past the grant's terminalLimit
    TERMINAL_LIMIT_REACHED. NOT_FOUND when nothing live is shared (as for an unknown strategy)."""
    for _ in range(_ATTEMPTS):
        grant = store.get_grant(strategy_id, recipient_id)
        if grant is None or not grant.active(now()):
            raise NotFound("No such strategy.")
        mine = [s.terminal_id for s in store.subscriptions_for(strategy_id) if s.owner_id == recipient_id]
        if terminal.terminal_id not in mine and len(mine) >= grant.terminal_limit:
            raise TerminalLimitReached(
                f"This share allows {grant.terminal_limit} terminal(s); unsubscribe another one first."
            )
        subscription = Subscription(
            strategy_id=strategy_id,
            terminal_id=terminal.terminal_id,
            owner_id=recipient_id,
            queue_url=terminal.queue_url,
            sizing=sizing.model_dump(mode="json", by_alias=True),
            created_at=now(),
        )
        try:
            store.put_shared_subscription(subscription, grant)
        except Conflict:
            continue
        return
    raise Unavailable("The share kept changing under us; retry.")


def revoke_matching(
    store: SharingStore, audit: Audit, strategy: Strategy, came_through: Callable[[Share], bool]
) -> None:
    """Revoke the live shares of the strategy that came through something (a bundle, a group share)."""
    for share in store.shares_of_strategy(strategy.strategy_id):
        if share.state == ShareState.LIVE and came_through(share):
            revoke_share(store, audit, strategy, share.share_id, action="share.revoked")
