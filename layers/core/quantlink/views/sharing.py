"""Sharing's answers (API.md "Sharing"): the caller, users, shares, invitations, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from quantlink.models import CamelModel, Timestamp
from quantlink.sharing.records import (
    AuditActor,
    AuditEntry,
    AuditTarget,
    GroupShare,
    Invitation,
    InvitationKind,
    InvitationStatus,
    Permissions,
    Plan,
    Share,
    ShareStatus,
    ShareVia,
    User,
)


class Limits(CamelModel):
    sharing: bool = Field(description="Whether the plan includes sharing at all")
    shares: int = Field(description="Shares you may have given (live ones)")
    recipients_per_strategy: int
    bundles: int
    groups: int


class Me(CamelModel):
    user_id: str
    email: str
    plan: Plan
    admin: bool
    limits: Limits


class UserView(CamelModel):
    user_id: str
    email: str
    plan: Plan
    created_at: Timestamp

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user_id=user.user_id, email=user.email, plan=user.plan, created_at=user.created_at)


class UserList(CamelModel):
    items: list[UserView]


class Party(CamelModel):
    user_id: str
    email: str


class ShareView(CamelModel):
    share_id: str
    strategy_id: str
    strategy_name: str
    owner: Party
    recipient: Party
    via: ShareVia
    via_id: str | None
    permissions: Permissions
    expires_at: Timestamp | None
    paused: bool
    status: ShareStatus
    created_at: Timestamp

    @classmethod
    def of(cls, share: Share, strategy_name: str, *, at: datetime) -> ShareView:
        return cls(
            share_id=share.share_id,
            strategy_id=share.strategy_id,
            strategy_name=strategy_name,
            owner=Party(user_id=share.owner_id, email=share.owner_email),
            recipient=Party(user_id=share.recipient_id, email=share.recipient_email),
            via=share.via,
            via_id=share.via_id,
            permissions=share.permissions,
            expires_at=share.expires_at,
            paused=share.paused,
            status=share.status(at),
            created_at=share.created_at,
        )


class ShareList(CamelModel):
    items: list[ShareView]


class BundleView(CamelModel):
    bundle_id: str = Field(description="The bundle's code (sg_…)")
    name: str
    strategy_ids: list[str]
    permissions: Permissions
    members: list[Party]


class BundleList(CamelModel):
    items: list[BundleView]


class GroupShareView(CamelModel):
    group_share_id: str
    group_id: str
    strategy_id: str | None
    bundle_id: str | None
    permissions: Permissions
    expires_at: Timestamp | None
    created_at: Timestamp

    @classmethod
    def of(cls, share: GroupShare) -> GroupShareView:
        return cls(**share.model_dump(exclude={"owner_id"}))


class GroupView(CamelModel):
    group_id: str = Field(description="grp_…")
    name: str
    members: list[Party]
    shares: list[GroupShareView]
    invited: list[str] = Field(description="Addresses invited to join (pending email invitations)")


class GroupList(CamelModel):
    items: list[GroupView]


class CreatedInvitation(CamelModel):
    invitation_id: str
    kind: InvitationKind
    url: str = Field(description="The SPA's accept page; ends with the secret token (shown once, only its hash is "
                                 "stored)")  # fmt: skip
    expires_at: Timestamp | None
    status: InvitationStatus


class InvitationView(CamelModel):
    invitation_id: str
    kind: InvitationKind
    strategy_id: str | None
    bundle_id: str | None
    email: str | None
    permissions: Permissions
    share_expires_at: Timestamp | None
    max_uses: int | None
    uses: int
    expires_at: Timestamp | None
    status: InvitationStatus
    created_at: Timestamp

    @classmethod
    def of(cls, invitation: Invitation, *, at: datetime) -> InvitationView:
        return cls(
            invitation_id=invitation.invitation_id,
            kind=invitation.kind,
            strategy_id=invitation.strategy_id,
            bundle_id=invitation.bundle_id,
            email=invitation.email,
            permissions=invitation.permissions,
            share_expires_at=invitation.share_expires_at,
            max_uses=invitation.max_uses,
            uses=invitation.uses,
            expires_at=invitation.expires_at,
            status=invitation.status(at),
            created_at=invitation.created_at,
        )


class InvitationList(CamelModel):
    items: list[InvitationView]


class OwnerEmail(CamelModel):
    email: str


class StrategyRef(CamelModel):
    strategy_id: str
    name: str


class BundleRef(CamelModel):
    bundle_id: str
    name: str


class InvitationPreview(CamelModel):
    owner: OwnerEmail
    strategies: list[StrategyRef]
    bundle: BundleRef | None
    permissions: Permissions
    share_expires_at: Timestamp | None
    expires_at: Timestamp | None
    status: InvitationStatus


class Accepted(CamelModel):
    shares: list[ShareView]


class AuditView(CamelModel):
    audit_id: str
    at: Timestamp
    actor: AuditActor
    action: str
    target: AuditTarget
    strategy_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    source_ip: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditView:
        return cls(**entry.model_dump(exclude={"owner_id"}))


class AuditPage(CamelModel):
    items: list[AuditView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end.")
