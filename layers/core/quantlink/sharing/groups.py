"""Groups (`grp_…`): sharing a strategy or a bundle to a group shares it with every member, present and
future. Each member's share of it is marked with the group share it came from (via "group", viaId the
group, sourceId the group share), so removing a member or a group share revokes exactly those; a share the
person has otherwise (direct, bundle) stays. A group's share of a bundle follows the bundle: a strategy
added to the bundle reaches the group's members, one removed leaves them (quantlink.sharing.bundles)."""

from __future__ import annotations

from quantlink.dal.ports import Mailer, SharingStore
from quantlink.errors import Forbidden, NotFound, PlanRequired
from quantlink.ids import BUNDLE_PREFIX, GROUP_PREFIX, is_id, new_group_id, new_group_share_id
from quantlink.models import Strategy
from quantlink.owner.strategies import owned_strategy
from quantlink.sharing import shares
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import (
    CreateGroupBody,
    Group,
    GroupMember,
    GroupShare,
    GroupShareBody,
    InvitationStatus,
    ShareState,
    ShareVia,
)
from quantlink.sharing.users import Caller, PlanLimits, require_sharing
from quantlink.timeutil import now
from quantlink.views.sharing import GroupList, GroupShareView, GroupView, Party


def owned_group(store: SharingStore, owner_id: str, group_id: str) -> Group:
    group = store.get_group(group_id) if is_id(group_id, GROUP_PREFIX) else None
    if group is None or group.owner_id != owner_id:
        raise NotFound("No such group.")
    return group


def _view(store: SharingStore, group: Group) -> GroupView:
    at = now()
    invited = sorted(
        i.email or "" for i in store.list_invitations(group.owner_id)
        if i.group_id == group.group_id and i.status(at) == InvitationStatus.PENDING
    )  # fmt: skip
    return GroupView(
        group_id=group.group_id,
        name=group.name,
        members=[Party(user_id=m.user_id, email=m.email) for m in store.group_members(group.group_id)],
        shares=[GroupShareView.of(s) for s in store.group_shares(group.group_id)],
        invited=invited,
    )


def create_group(
    store: SharingStore, audit: Audit, caller: Caller, body: CreateGroupBody, limits: PlanLimits
) -> GroupView:
    require_sharing(store, caller)
    if len(store.list_groups(caller.user_id)) >= limits.groups:
        raise PlanRequired(f"Your plan allows {limits.groups} groups.")
    group = Group(group_id=new_group_id(), owner_id=caller.user_id, name=body.name, created_at=now())
    store.put_group(group)
    audit.record("group.created", "group", group.group_id, owner_id=caller.user_id, after={"name": group.name})
    return _view(store, group)


def list_groups(store: SharingStore, caller: Caller) -> GroupList:
    return GroupList(items=[_view(store, g) for g in store.list_groups(caller.user_id)])


def get_group(store: SharingStore, caller: Caller, group_id: str) -> GroupView:
    return _view(store, owned_group(store, caller.user_id, group_id))


def strategies_of(store: SharingStore, group_share: GroupShare) -> list[Strategy]:
    if group_share.bundle_id is not None:
        bundle = store.get_bundle(group_share.bundle_id)
        ids = bundle.strategy_ids if bundle is not None else []
    else:
        ids = [group_share.strategy_id or ""]
    found = [store.get_strategy(strategy_id) for strategy_id in ids]
    return [s for s in found if s is not None]


def share_with_member(
    store: SharingStore, audit: Audit, group_share: GroupShare, strategy: Strategy, member: GroupMember
) -> None:
    """The member's share of one strategy through the group share (none is made twice)."""
    had = [
        s for s in store.shares_of_strategy(strategy.strategy_id)
        if s.recipient_id == member.user_id and s.source_id == group_share.group_share_id and s.state == ShareState.LIVE
    ]  # fmt: skip
    if had:
        return
    owner = store.get_user(group_share.owner_id)
    shares.create_share(
        store, audit, strategy, owner_email=owner.email if owner else "", recipient_id=member.user_id,
        recipient_email=member.email, permissions=group_share.permissions, expires_at=group_share.expires_at,
        via=ShareVia.GROUP, via_id=group_share.group_id, source_id=group_share.group_share_id,
    )  # fmt: skip


def join(store: SharingStore, audit: Audit, group: Group, member: GroupMember) -> bool:
    """Add a member and give it everything shared to the group; False when it was a member already."""
    added = store.put_group_member(member)
    for group_share in store.group_shares(group.group_id):  # read after the member is in: none is missed
        for strategy in strategies_of(store, group_share):
            share_with_member(store, audit, group_share, strategy, member)
    if added:
        audit.record("group.member_added", "group", group.group_id, owner_id=group.owner_id, also=(member.user_id,),
                     after={"userId": member.user_id, "email": member.email})  # fmt: skip
    return added


def add_member(
    store: SharingStore, mailer: Mailer, audit: Audit, caller: Caller, group_id: str, email: str, *, web_url: str
) -> GroupView:
    """An existing user gets everything shared to the group at once; an unknown address gets an email
    invitation and joins on accepting it."""
    from quantlink.sharing import invitations  # invitations accept into groups: imported on use

    group = owned_group(store, caller.user_id, group_id)
    users = store.users_with_email(email)
    if any(user.user_id == caller.user_id for user in users):
        raise Forbidden("You own this group: you have its strategies already.")
    if users:
        user = users[0]
        join(store, audit, group, GroupMember(group_id=group_id, user_id=user.user_id, email=user.email,
                                              joined_at=now()))  # fmt: skip
    else:
        invitations.invite_to_group(store, mailer, audit, caller, group, email.lower(), web_url=web_url)
    return _view(store, group)


def _revoke(store: SharingStore, audit: Audit, group_share: GroupShare, member_id: str | None = None) -> None:
    for strategy in strategies_of(store, group_share):
        shares.revoke_matching(
            store, audit, strategy,
            lambda s: s.source_id == group_share.group_share_id and (member_id is None or s.recipient_id == member_id),
        )  # fmt: skip


def remove_member(store: SharingStore, audit: Audit, caller: Caller, group_id: str, user_id: str) -> None:
    group = owned_group(store, caller.user_id, group_id)
    if user_id not in {m.user_id for m in store.group_members(group_id)}:
        raise NotFound("No such member.")
    store.delete_group_member(group_id, user_id)  # first: no new group share reaches it
    for group_share in store.group_shares(group_id):
        _revoke(store, audit, group_share, user_id)
    audit.record("group.member_removed", "group", group.group_id, owner_id=caller.user_id, also=(user_id,),
                 before={"userId": user_id})  # fmt: skip


def create_group_share(
    store: SharingStore, audit: Audit, caller: Caller, group_id: str, body: GroupShareBody
) -> GroupShareView:
    require_sharing(store, caller)
    group = owned_group(store, caller.user_id, group_id)
    if body.bundle_id is not None:
        bundle = store.get_bundle(body.bundle_id) if is_id(body.bundle_id, BUNDLE_PREFIX) else None
        if bundle is None or bundle.owner_id != caller.user_id:
            raise NotFound("No such bundle.")
    else:
        owned_strategy(store, caller.user_id, body.strategy_id or "")
    group_share = GroupShare(
        group_share_id=new_group_share_id(), group_id=group_id, owner_id=caller.user_id,
        strategy_id=body.strategy_id, bundle_id=body.bundle_id, permissions=body.permissions,
        expires_at=body.expires_at, created_at=now(),
    )  # fmt: skip
    store.put_group_share(group_share)
    for member in store.group_members(group_id):
        for strategy in strategies_of(store, group_share):
            share_with_member(store, audit, group_share, strategy, member)
    audit.record("group.share_created", "group", group.group_id, owner_id=caller.user_id,
                 strategy_id=body.strategy_id, after=GroupShareView.of(group_share).wire())  # fmt: skip
    return GroupShareView.of(group_share)


def remove_group_share(store: SharingStore, audit: Audit, caller: Caller, group_id: str, group_share_id: str) -> None:
    owned_group(store, caller.user_id, group_id)
    found = [s for s in store.group_shares(group_id) if s.group_share_id == group_share_id]
    if not found:
        raise NotFound("No such group share.")
    (group_share,) = found
    store.delete_group_share(group_share)  # first: no member joining now gets it
    _revoke(store, audit, group_share)
    audit.record("group.share_removed", "group", group_id, owner_id=caller.user_id,
                 strategy_id=group_share.strategy_id, before=GroupShareView.of(group_share).wire())  # fmt: skip


def delete_group(store: SharingStore, audit: Audit, caller: Caller, group_id: str) -> None:
    group = owned_group(store, caller.user_id, group_id)
    for group_share in store.group_shares(group_id):
        store.delete_group_share(group_share)
        _revoke(store, audit, group_share)
    store.delete_group(group_id)
    audit.record("group.deleted", "group", group_id, owner_id=caller.user_id, before={"name": group.name})


# ---- a bundle shared to groups changes ------------------------------------------------------------


def bundle_strategy_added(store: SharingStore, audit: Audit, bundle_id: str, strategy: Strategy) -> None:
    for group_share in store.group_shares_of_bundle(bundle_id):
        for member in store.group_members(group_share.group_id):
            share_with_member(store, audit, group_share, strategy, member)


def bundle_strategy_removed(store: SharingStore, audit: Audit, bundle_id: str, strategy: Strategy) -> None:
    sources = {g.group_share_id for g in store.group_shares_of_bundle(bundle_id)}
    shares.revoke_matching(store, audit, strategy, lambda s: s.source_id in sources)


def bundle_deleted(store: SharingStore, audit: Audit, bundle_id: str) -> None:
    for group_share in store.group_shares_of_bundle(bundle_id):
        _revoke(store, audit, group_share)
        store.delete_group_share(group_share)
