"""In-memory users, shares and grants, invitations and the audit log, with the DynamoDB stores'
semantics (the grant's version lock, a use claimed once per user, newest-first audit positions).
FakeStore (tests/unit/fakes.py) mixes this in, as DynamoStore mixes in the real stores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from quantlink.errors import Conflict, InvitationUsedUp, NotFound
from quantlink.models import DeliveryRecord, DeliveryStatus, Subscription, Terminal
from quantlink.sharing.records import (
    AuditEntry,
    Bundle,
    BundleMember,
    Grant,
    Group,
    GroupMember,
    GroupShare,
    Invitation,
    Plan,
    Settings,
    Share,
    ShareState,
    User,
)
from quantlink.timeutil import iso


@dataclass
class FakeSharing:
    users: dict[str, User] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    shares: dict[str, Share] = field(default_factory=dict)
    grants: dict[tuple[str, str], Grant] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    uses: set[tuple[str, str]] = field(default_factory=set)
    audit: list[tuple[str, str, AuditEntry]] = field(default_factory=list)  # (audience, position, entry)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    members: dict[tuple[str, str], BundleMember] = field(default_factory=dict)
    due: dict[str, tuple[str, str]] = field(default_factory=dict)  # position -> (kind, id)
    warned: set[tuple[str, str, datetime]] = field(default_factory=set)
    groups: dict[str, Group] = field(default_factory=dict)
    group_members_: dict[tuple[str, str], GroupMember] = field(default_factory=dict)
    group_shares_: dict[str, GroupShare] = field(default_factory=dict)
    # the other half of FakeStore (declared here so the mixin type-checks on its own)
    terminals: dict[str, Terminal] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    deliveries: dict[tuple[str, str], DeliveryRecord] = field(default_factory=dict)

    # ---- users ----

    def get_user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def create_user(self, user: User) -> User:
        return self.users.setdefault(user.user_id, user)

    def set_plan(self, user_id: str, plan: Plan) -> None:
        if user_id not in self.users:
            raise NotFound("No such user.")
        self.users[user_id] = self.users[user_id].model_copy(update={"plan": plan})

    def list_users(self) -> list[User]:
        return sorted(self.users.values(), key=lambda u: (u.email, u.user_id))

    def users_with_email(self, email: str) -> list[User]:
        return [u for u in self.list_users() if u.email == email.lower()]

    def get_settings(self) -> Settings:
        return self.settings

    def put_settings(self, settings: Settings) -> None:
        self.settings = settings

    # ---- shares ----

    def get_share(self, share_id: str) -> Share | None:
        return self.shares.get(share_id)

    def shares_of_strategy(self, strategy_id: str) -> list[Share]:
        return [s for s in self.shares.values() if s.strategy_id == strategy_id]

    def shares_owned(self, owner_id: str) -> list[Share]:
        return sorted((s for s in self.shares.values() if s.owner_id == owner_id), key=_newest, reverse=True)

    def shares_received(self, recipient_id: str) -> list[Share]:
        return sorted((s for s in self.shares.values() if s.recipient_id == recipient_id), key=_newest, reverse=True)

    def get_grant(self, strategy_id: str, recipient_id: str) -> Grant | None:
        return self.grants.get((strategy_id, recipient_id))

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
        key = (strategy_id, recipient_id)
        stored = self.grants.get(key)
        if (stored.version if stored else None) != read_version:
            raise Conflict("The share changed meanwhile; retry.")
        mine = {s.terminal_id: s for s in self.subscriptions if s.strategy_id == strategy_id}
        if grant is not None and any(t not in mine for t in keep):
            raise Conflict("A subscription changed meanwhile; retry.")
        self.subscriptions = [
            s for s in self.subscriptions if not (s.strategy_id == strategy_id and s.terminal_id in drop)
        ]
        if grant is None:
            self.grants.pop(key, None)
        else:
            self.grants[key] = grant.model_copy(update={"version": (read_version or 0) + 1})
            self.subscriptions = [
                s.model_copy(update={"paused": grant.paused, "expires_at": grant.expires_at})
                if s.strategy_id == strategy_id and s.terminal_id in keep
                else s
                for s in self.subscriptions
            ]
        for share in shares:
            self.shares[share.share_id] = share
            if share.expires_at is not None and share.state == ShareState.LIVE:
                self.put_due("share", share.share_id, share.expires_at)

    def put_shared_subscription(self, subscription: Subscription, grant: Grant) -> None:
        if subscription.terminal_id not in self.terminals:
            raise NotFound("No such terminal.")
        key = (subscription.strategy_id, grant.recipient_id)
        stored = self.grants.get(key)
        if stored is None or stored.version != grant.version:
            raise Conflict("The share changed meanwhile; retry.")
        self.grants[key] = stored.model_copy(update={"version": stored.version + 1})
        self.subscriptions = [
            s for s in self.subscriptions
            if (s.strategy_id, s.terminal_id) != (subscription.strategy_id, subscription.terminal_id)
        ]  # fmt: skip
        self.subscriptions.append(
            subscription.model_copy(update={"paused": grant.paused, "expires_at": grant.expires_at})
        )

    def delete_strategy_shares(self, strategy_id: str) -> None:
        self.shares = {k: s for k, s in self.shares.items() if s.strategy_id != strategy_id}
        self.grants = {k: g for k, g in self.grants.items() if k[0] != strategy_id}

    def withdraw_deliveries(self, strategy_id: str, terminal_ids: list[str], *, since: datetime, at: datetime) -> int:
        marked = 0
        for key, delivery in list(self.deliveries.items()):
            if (
                delivery.strategy_id == strategy_id
                and delivery.terminal_id in terminal_ids
                and delivery.status == DeliveryStatus.QUEUED
                and delivery.received_at >= since
            ):
                self.deliveries[key] = delivery.model_copy(update={"status": DeliveryStatus.REVOKED})
                marked += 1
        return marked

    # ---- invitations ----

    def put_invitation(self, invitation: Invitation) -> None:
        if invitation.invitation_id in self.invitations:
            raise Conflict("An invitation with this id already exists.")
        self.invitations[invitation.invitation_id] = invitation
        if invitation.expires_at is not None:
            self.put_due("invitation", invitation.invitation_id, invitation.expires_at)

    def get_invitation(self, invitation_id: str) -> Invitation | None:
        return self.invitations.get(invitation_id)

    def list_invitations(self, owner_id: str) -> list[Invitation]:
        owned = (i for i in self.invitations.values() if i.owner_id == owner_id)
        return sorted(owned, key=lambda i: (i.created_at, i.invitation_id), reverse=True)

    def revoke_invitation(self, invitation_id: str, owner_id: str) -> None:
        found = self.invitations.get(invitation_id)
        if found is None or found.owner_id != owner_id:
            raise NotFound("No such invitation.")
        self.invitations[invitation_id] = found.model_copy(update={"revoked": True})

    def mark_invitation_expired(self, invitation_id: str) -> bool:
        found = self.invitations.get(invitation_id)
        if found is None or found.revoked or found.expired or (found.max_uses and found.uses >= found.max_uses):
            return False
        self.invitations[invitation_id] = found.model_copy(update={"expired": True})
        return True

    def claim_invitation_use(self, invitation_id: str, user_id: str, *, at: datetime) -> None:
        found = self.invitations[invitation_id]
        if (invitation_id, user_id) in self.uses:
            raise Conflict("You accepted this invitation already.")
        if (
            found.revoked
            or found.expired
            or (found.max_uses is not None and found.uses >= found.max_uses)
            or (found.expires_at is not None and found.expires_at <= at)
        ):
            raise InvitationUsedUp()
        self.uses.add((invitation_id, user_id))
        self.invitations[invitation_id] = found.model_copy(update={"uses": found.uses + 1})

    def release_invitation_use(self, invitation_id: str, user_id: str) -> None:
        self.uses.discard((invitation_id, user_id))
        found = self.invitations[invitation_id]
        self.invitations[invitation_id] = found.model_copy(update={"uses": found.uses - 1})

    # ---- bundles ----

    def put_bundle(self, bundle: Bundle) -> None:
        stored = self.bundles.get(bundle.bundle_id)
        if (stored.version + 1 if stored else 0) != bundle.version:
            raise Conflict("The bundle changed meanwhile; retry.")
        self.bundles[bundle.bundle_id] = bundle

    def get_bundle(self, bundle_id: str) -> Bundle | None:
        return self.bundles.get(bundle_id)

    def list_bundles(self, owner_id: str) -> list[Bundle]:
        owned = (b for b in self.bundles.values() if b.owner_id == owner_id)
        return sorted(owned, key=lambda b: (b.created_at, b.bundle_id), reverse=True)

    def put_bundle_member(self, member: BundleMember) -> bool:
        key = (member.bundle_id, member.user_id)
        if key in self.members:
            return False
        self.members[key] = member
        return True

    def bundle_members(self, bundle_id: str) -> list[BundleMember]:
        return sorted((m for (b, _), m in self.members.items() if b == bundle_id), key=lambda m: m.user_id)

    def delete_bundle_member(self, bundle_id: str, user_id: str) -> None:
        self.members.pop((bundle_id, user_id), None)

    def delete_bundle(self, bundle_id: str) -> None:
        self.bundles.pop(bundle_id, None)
        self.members = {k: m for k, m in self.members.items() if k[0] != bundle_id}

    # ---- what ends when ----

    def put_due(self, kind: str, record_id: str, at: datetime) -> None:
        self.due[f"AT#{iso(at)}#{kind}#{record_id}"] = (kind, record_id)

    def due_until(self, until: datetime) -> list[tuple[str, str, str]]:
        bound = f"AT#{iso(until)}#~"
        return [(p, *self.due[p]) for p in sorted(self.due) if p <= bound]

    def delete_due(self, position: str) -> None:
        self.due.pop(position, None)

    def claim_warning(self, strategy_id: str, share_id: str, kind: str, end: datetime) -> bool:
        if (share_id, kind, end) in self.warned:
            return False
        self.warned.add((share_id, kind, end))
        return True

    # ---- groups ----

    def put_group(self, group: Group) -> None:
        if group.group_id in self.groups:
            raise Conflict("A group with this id already exists.")
        self.groups[group.group_id] = group

    def get_group(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def list_groups(self, owner_id: str) -> list[Group]:
        owned = (g for g in self.groups.values() if g.owner_id == owner_id)
        return sorted(owned, key=lambda g: (g.created_at, g.group_id), reverse=True)

    def put_group_member(self, member: GroupMember) -> bool:
        key = (member.group_id, member.user_id)
        if key in self.group_members_:
            return False
        self.group_members_[key] = member
        return True

    def group_members(self, group_id: str) -> list[GroupMember]:
        return sorted((m for (g, _), m in self.group_members_.items() if g == group_id), key=lambda m: m.user_id)

    def delete_group_member(self, group_id: str, user_id: str) -> None:
        self.group_members_.pop((group_id, user_id), None)

    def put_group_share(self, share: GroupShare) -> None:
        self.group_shares_[share.group_share_id] = share

    def group_shares(self, group_id: str) -> list[GroupShare]:
        return sorted(
            (s for s in self.group_shares_.values() if s.group_id == group_id), key=lambda s: s.group_share_id
        )

    def group_shares_of_bundle(self, bundle_id: str) -> list[GroupShare]:
        return sorted((s for s in self.group_shares_.values() if s.bundle_id == bundle_id),
                      key=lambda s: s.group_share_id)  # fmt: skip

    def delete_group_share(self, share: GroupShare) -> None:
        self.group_shares_.pop(share.group_share_id, None)

    def delete_group(self, group_id: str) -> None:
        self.groups.pop(group_id, None)
        self.group_members_ = {k: m for k, m in self.group_members_.items() if k[0] != group_id}
        self.group_shares_ = {k: s for k, s in self.group_shares_.items() if s.group_id != group_id}

    # ---- audit ----

    def put_audit_entry(self, entry: AuditEntry, *, audiences: list[str], expires_at: datetime) -> None:
        position = f"AT#{iso(entry.at)}#{entry.audit_id}"
        for audience in dict.fromkeys(audiences):
            self.audit.append((audience, position, entry))

    def audit_entries(
        self, user_id: str | None, *, since: datetime, until: datetime, before: str | None = None
    ) -> Iterator[tuple[str, AuditEntry]]:
        seen: dict[str, AuditEntry] = {}
        for audience, position, entry in self.audit:
            if (user_id is None or audience == user_id) and since <= entry.at <= until:
                seen.setdefault(position, entry)
        for position in sorted(seen, reverse=True):
            if before is None or position < before:
                yield position, seen[position]


def _newest(share: Share) -> Any:
    return (share.created_at, share.share_id)


@dataclass
class FakeMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail: bool = False

    def send_email(self, to: str, subject: str, text: str) -> None:
        if self.fail:
            raise RuntimeError("SES refused the message")
        self.sent.append((to, subject, text))
