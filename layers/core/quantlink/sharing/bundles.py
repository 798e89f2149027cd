"""Bundles (`sg_…`): strategies shared together. Each member has a share (via "bundle", viaId the bundle)
of every strategy in it: adding a strategy shares it with every member at once, removing it, removing a
member or deleting the bundle revokes exactly the shares that came through the bundle (a direct share of
the same strategy stays). People join through an invitation with `bundleId`.

Order keeps a removed member from receiving: a removal changes the bundle record first, then revokes
(each revocation rewrites that member's subscriptions before it returns); a join adds the member first,
then shares what the bundle holds, then drops what the bundle lost meanwhile."""

from __future__ import annotations

from quantlink.dal.ports import SharingStore
from quantlink.errors import Conflict, NotFound, PlanRequired, Unavailable
from quantlink.ids import BUNDLE_PREFIX, is_id, new_bundle_id
from quantlink.models import Strategy
from quantlink.owner.strategies import owned_strategy
from quantlink.sharing import groups, shares
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import Bundle, BundleMember, CreateBundleBody, Share, ShareState, ShareVia
from quantlink.sharing.users import Caller, PlanLimits, require_sharing
from quantlink.timeutil import now
from quantlink.views.sharing import BundleList, BundleView, Party

_ATTEMPTS = 6


def owned_bundle(store: SharingStore, owner_id: str, bundle_id: str) -> Bundle:
    bundle = store.get_bundle(bundle_id) if is_id(bundle_id, BUNDLE_PREFIX) else None
    if bundle is None or bundle.owner_id != owner_id:
        raise NotFound("No such bundle.")
    return bundle


def _view(store: SharingStore, bundle: Bundle) -> BundleView:
    members = [Party(user_id=m.user_id, email=m.email) for m in store.bundle_members(bundle.bundle_id)]
    return BundleView(bundle_id=bundle.bundle_id, name=bundle.name, strategy_ids=bundle.strategy_ids,
                      permissions=bundle.permissions, members=members)  # fmt: skip


def create_bundle(
    store: SharingStore, audit: Audit, caller: Caller, body: CreateBundleBody, limits: PlanLimits
) -> BundleView:
    require_sharing(store, caller)
    if len(store.list_bundles(caller.user_id)) >= limits.bundles:
        raise PlanRequired(f"Your plan allows {limits.bundles} bundles.")
    strategy_ids = list(dict.fromkeys(body.strategy_ids))
    for strategy_id in strategy_ids:
        owned_strategy(store, caller.user_id, strategy_id)
    bundle = Bundle(bundle_id=new_bundle_id(), owner_id=caller.user_id, name=body.name, strategy_ids=strategy_ids,
                    permissions=body.permissions, created_at=now())  # fmt: skip
    store.put_bundle(bundle)
    audit.record("bundle.created", "bundle", bundle.bundle_id, owner_id=caller.user_id,
                 after={"name": bundle.name, "strategyIds": strategy_ids})  # fmt: skip
    return _view(store, bundle)


def list_bundles(store: SharingStore, caller: Caller) -> BundleList:
    return BundleList(items=[_view(store, b) for b in store.list_bundles(caller.user_id)])


def get_bundle(store: SharingStore, caller: Caller, bundle_id: str) -> BundleView:
    return _view(store, owned_bundle(store, caller.user_id, bundle_id))


def _change_strategies(store: SharingStore, caller: Caller, bundle_id: str, *, add: str | None = None,
                       remove: str | None = None) -> tuple[Bundle, bool]:  # fmt: skip
    """The bundle after the change (version-checked, retried), and whether it changed anything."""
    for _ in range(_ATTEMPTS):
        bundle = owned_bundle(store, caller.user_id, bundle_id)
        ids = [s for s in bundle.strategy_ids if s != remove]
        if add is not None and add not in ids:
            ids.append(add)
        if ids == bundle.strategy_ids:
            return bundle, False
        changed = bundle.model_copy(update={"strategy_ids": ids, "version": bundle.version + 1})
        try:
            store.put_bundle(changed)
        except Conflict:
            continue
        return changed, True
    raise Unavailable("The bundle kept changing under us; retry.")


def _share_with_member(store: SharingStore, audit: Audit, bundle: Bundle, strategy: Strategy,
                       member: BundleMember) -> None:  # fmt: skip
    had = [
        s
        for s in store.shares_of_strategy(strategy.strategy_id)
        if s.recipient_id == member.user_id and s.via_id == bundle.bundle_id and s.state == ShareState.LIVE
    ]
    if had:
        return  # fmt: skip
    owner = store.get_user(bundle.owner_id)
    shares.create_share(store, audit, strategy, owner_email=owner.email if owner else "", recipient_id=member.user_id,
                        recipient_email=member.email, permissions=bundle.permissions, expires_at=None,
                        via=ShareVia.BUNDLE, via_id=bundle.bundle_id)  # fmt: skip


def _revoke_member_shares(store: SharingStore, audit: Audit, bundle_id: str, strategy: Strategy,
                          member_id: str | None = None) -> None:  # fmt: skip
    """Revoke the live shares of this strategy that came through the bundle (one member's, or all)."""
    came: list[Share] = [
        s for s in store.shares_of_strategy(strategy.strategy_id)
        if s.via == ShareVia.BUNDLE and s.via_id == bundle_id and s.state == ShareState.LIVE
        and (member_id is None or s.recipient_id == member_id)
    ]  # fmt: skip
    for share in came:
        shares.revoke_share(store, audit, strategy, share.share_id, action="share.revoked")


def add_strategy(store: SharingStore, audit: Audit, caller: Caller, bundle_id: str, strategy_id: str) -> BundleView:
    strategy = owned_strategy(store, caller.user_id, strategy_id)
    owned_bundle(store, caller.user_id, bundle_id)
    bundle, changed = _change_strategies(store, caller, bundle_id, add=strategy_id)
    for member in store.bundle_members(bundle_id):
        _share_with_member(store, audit, bundle, strategy, member)
    groups.bundle_strategy_added(store, audit, bundle_id, strategy)
    if changed:
        audit.record("bundle.strategy_added", "bundle", bundle_id, owner_id=caller.user_id, strategy_id=strategy_id)
    return _view(store, bundle)


def remove_strategy(store: SharingStore, audit: Audit, caller: Caller, bundle_id: str, strategy_id: str) -> None:
    owned_bundle(store, caller.user_id, bundle_id)
    _, changed = _change_strategies(store, caller, bundle_id, remove=strategy_id)
    strategy = store.get_strategy(strategy_id)
    if strategy is not None:
        _revoke_member_shares(store, audit, bundle_id, strategy)
        groups.bundle_strategy_removed(store, audit, bundle_id, strategy)
    if changed:
        audit.record("bundle.strategy_removed", "bundle", bundle_id, owner_id=caller.user_id, strategy_id=strategy_id)


def remove_member(store: SharingStore, audit: Audit, caller: Caller, bundle_id: str, user_id: str) -> None:
    bundle = owned_bundle(store, caller.user_id, bundle_id)
    if user_id not in {m.user_id for m in store.bundle_members(bundle_id)}:
        raise NotFound("No such member.")
    store.delete_bundle_member(bundle_id, user_id)
    for strategy_id in bundle.strategy_ids:
        strategy = store.get_strategy(strategy_id)
        if strategy is not None:
            _revoke_member_shares(store, audit, bundle_id, strategy, user_id)
    audit.record("bundle.member_removed", "bundle", bundle_id, owner_id=caller.user_id, also=(user_id,),
                 before={"userId": user_id})  # fmt: skip


def delete_bundle(store: SharingStore, audit: Audit, caller: Caller, bundle_id: str) -> None:
    bundle = owned_bundle(store, caller.user_id, bundle_id)
    for strategy_id in bundle.strategy_ids:
        _change_strategies(store, caller, bundle_id, remove=strategy_id)  # emptied first: no join gets it
        strategy = store.get_strategy(strategy_id)
        if strategy is not None:
            _revoke_member_shares(store, audit, bundle_id, strategy)
            groups.bundle_strategy_removed(store, audit, bundle_id, strategy)
    groups.bundle_deleted(store, audit, bundle_id)
    store.delete_bundle(bundle_id)
    audit.record("bundle.deleted", "bundle", bundle_id, owner_id=caller.user_id, before={"name": bundle.name})


def join(store: SharingStore, audit: Audit, bundle: Bundle, member: BundleMember) -> list[Share]:
    """A member joins (an accepted invitation): a share of every strategy in the bundle. Conflict when
    the user is a member already."""
    if not store.put_bundle_member(member):
        raise Conflict("You are a member of this bundle already.")
    current = store.get_bundle(bundle.bundle_id) or bundle
    for strategy_id in current.strategy_ids:
        strategy = store.get_strategy(strategy_id)
        if strategy is not None:
            _share_with_member(store, audit, current, strategy, member)
    after = store.get_bundle(bundle.bundle_id)
    for strategy_id in set(current.strategy_ids) - set(after.strategy_ids if after else []):
        strategy = store.get_strategy(strategy_id)  # removed while we shared it: take it back
        if strategy is not None:
            _revoke_member_shares(store, audit, bundle.bundle_id, strategy, member.user_id)
    found = [
        s
        for sid in (after or current).strategy_ids
        for s in store.shares_of_strategy(sid)
        if s.recipient_id == member.user_id and s.via_id == bundle.bundle_id and s.state == ShareState.LIVE
    ]
    return found  # fmt: skip
