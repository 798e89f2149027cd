"""Sharing's records and request bodies (wire names camelCase, as everywhere: quantlink.models)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from quantlink.models import CamelModel, ClientTimestamp, Timestamp

# An address as a person types it: one "@", a dot in the domain, no spaces (delivery is SES's to judge).
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def _a_real_date(value: datetime) -> datetime:
    """Between the years 2000 and 9000 in UTC (year 1 at +14:00 would not even convert to UTC)."""
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a date between the years 2000 and 9000") from None
    if not 2000 <= in_utc.year <= 9000:
        raise ValueError("must be a date between the years 2000 and 9000")
    return value


# An end time a client sets (a share's or an invitation's expiry).
EndTime = Annotated[ClientTimestamp, AfterValidator(_a_real_date)]
_STRICT = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"


class User(CamelModel):
    """Created on a user's first signed-in call; `plan` is what an admin set (admins start on pro)."""

    user_id: str
    email: str
    plan: Plan = Plan.FREE
    created_at: Timestamp


class Permissions(CamelModel):
    model_config = _STRICT

    can_pause: bool = False
    can_delete: bool = False
    terminal_limit: Annotated[int, Field(ge=1, le=100)] = 1


class ShareVia(StrEnum):
    DIRECT = "direct"
    BUNDLE = "bundle"
    GROUP = "group"


class ShareState(StrEnum):
    """What a share's record stores; `ShareStatus` is what it reads as at a given time."""

    LIVE = "live"
    EXPIRED = "expired"  # the expiry sweep ran (an expired share delivers nothing before that too)
    REVOKED = "revoked"  # revoked by the owner or removed by the recipient: final


class ShareStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Share(CamelModel):
    share_id: str
    strategy_id: str
    owner_id: str
    owner_email: str
    recipient_id: str
    recipient_email: str
    via: ShareVia = ShareVia.DIRECT
    via_id: str | None = None
    permissions: Permissions
    expires_at: Timestamp | None = None
    paused: bool = False
    state: ShareState = ShareState.LIVE
    created_at: Timestamp
    source_id: str | None = None  # the group share it came from (via group)

    def live(self, at: datetime) -> bool:
        return self.state == ShareState.LIVE and (self.expires_at is None or self.expires_at > at)

    def status(self, at: datetime) -> ShareStatus:
        if self.state == ShareState.REVOKED:
            return ShareStatus.REVOKED
        if not self.live(at):
            return ShareStatus.EXPIRED
        return ShareStatus.PAUSED if self.paused else ShareStatus.ACTIVE


class Grant(CamelModel):
    """What one recipient's live shares of one strategy add up to: the state the recipient's
    subscriptions to that strategy carry for the hot path. `version` orders concurrent rewrites."""

    strategy_id: str
    recipient_id: str
    paused: bool
    expires_at: Timestamp | None = None
    terminal_limit: int
    version: int = 0

    @classmethod
    def of(cls, strategy_id: str, recipient_id: str, shares: list[Share], *, at: datetime) -> Grant | None:
        """None when no share is live: the recipient receives nothing of the strategy."""
        live = [share for share in shares if share.live(at)]
        if not live:
            return None
        running = [share for share in live if not share.paused]
        deciding = running or live
        expiries = [share.expires_at for share in deciding]
        return cls(
            strategy_id=strategy_id,
            recipient_id=recipient_id,
            paused=not running,
            expires_at=None if None in expiries else max(e for e in expiries if e is not None),
            terminal_limit=max(share.permissions.terminal_limit for share in live),
        )

    def active(self, at: datetime) -> bool:
        """Not past its expiry (paused or not)."""
        return self.expires_at is None or self.expires_at > at


class Bundle(CamelModel):
    """Strategies shared together: each member has a share (via bundle) of every strategy in it."""

    bundle_id: str
    owner_id: str
    name: str
    strategy_ids: list[str]
    permissions: Permissions
    version: int = 0
    created_at: Timestamp


class BundleMember(CamelModel):
    bundle_id: str
    user_id: str
    email: str
    joined_at: Timestamp


class Group(CamelModel):
    """People: sharing a strategy or bundle to the group shares it with every member, present and future."""

    group_id: str
    owner_id: str
    name: str
    created_at: Timestamp


class GroupMember(CamelModel):
    group_id: str
    user_id: str
    email: str
    joined_at: Timestamp


class GroupShare(CamelModel):
    group_share_id: str
    group_id: str
    owner_id: str
    strategy_id: str | None = None
    bundle_id: str | None = None
    permissions: Permissions
    expires_at: Timestamp | None = None
    created_at: Timestamp


class InvitationKind(StrEnum):
    EMAIL = "email"
    LINK = "link"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Invitation(CamelModel):
    invitation_id: str
    owner_id: str
    owner_email: str
    kind: InvitationKind
    strategy_id: str | None = None
    bundle_id: str | None = None
    group_id: str | None = None  # joins the group (PUT /api/groups/{id}/members of an unknown address)
    email: str | None = None  # an email invitation's address, lowercased
    token_hash: str
    permissions: Permissions
    share_expires_at: Timestamp | None = None
    max_uses: int | None = None
    uses: int = 0
    expires_at: Timestamp | None = None
    revoked: bool = False
    expired: bool = False  # the expiry sweep ran
    created_at: Timestamp

    def status(self, at: datetime) -> InvitationStatus:
        if self.revoked:
            return InvitationStatus.REVOKED
        if self.max_uses is not None and self.uses >= self.max_uses:
            return InvitationStatus.ACCEPTED
        if self.expired or (self.expires_at is not None and self.expires_at <= at):
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING


class AuditTarget(CamelModel):
    kind: str
    id: str


class AuditActor(CamelModel):
    user_id: str
    email: str | None = None


class AuditEntry(CamelModel):
    audit_id: str
    at: Timestamp
    actor: AuditActor
    action: str
    target: AuditTarget
    strategy_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request_id: str | None = None
    source_ip: str | None = None
    owner_id: str  # whose log it belongs to (the target's owner); the actor reads it too


class Settings(CamelModel):
    audit_enabled: bool = True
    audit_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90


# ---- bodies -----------------------------------------------------------------------------------------


class CreateInvitationBody(CamelModel):
    model_config = _STRICT

    strategy_id: Annotated[str, Field(max_length=64)] | None = None
    bundle_id: Annotated[str, Field(max_length=64)] | None = None
    email: Email | None = None
    permissions: Permissions = Field(default_factory=Permissions)
    share_expires_at: EndTime | None = None
    max_uses: Annotated[int, Field(ge=1, le=10000)] | None = None
    expires_at: EndTime | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.strategy_id is None) == (self.bundle_id is None):
            raise ValueError("give exactly one of strategyId and bundleId")
        if self.email is not None and (self.max_uses is not None or self.expires_at is not None):
            raise ValueError("maxUses and expiresAt are for link invitations (an email invitation is used once "
                             "and expires after 7 days)")  # fmt: skip
        return self


class CreateBundleBody(CamelModel):
    model_config = _STRICT

    name: Annotated[str, Field(min_length=1, max_length=100)]
    strategy_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)] = Field(
        default_factory=list
    )
    permissions: Permissions = Field(default_factory=Permissions)


class CreateGroupBody(CamelModel):
    model_config = _STRICT

    name: Annotated[str, Field(min_length=1, max_length=100)]


class GroupMemberBody(CamelModel):
    model_config = _STRICT

    email: Email


class GroupShareBody(CamelModel):
    model_config = _STRICT

    strategy_id: Annotated[str, Field(max_length=64)] | None = None
    bundle_id: Annotated[str, Field(max_length=64)] | None = None
    permissions: Permissions = Field(default_factory=Permissions)
    expires_at: EndTime | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.strategy_id is None) == (self.bundle_id is None):
            raise ValueError("give exactly one of strategyId and bundleId")
        return self


class TokenBody(CamelModel):
    model_config = _STRICT

    token: Annotated[str, Field(min_length=1, max_length=256)]


class UpdateShareBody(CamelModel):
    """PATCH /api/shares/{shareId}: each field optional, at least one; `expiresAt` null clears it."""

    model_config = _STRICT

    permissions: Permissions | None = None
    expires_at: EndTime | None = None
    paused: bool | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give permissions, expiresAt and / or paused")
        if "paused" in self.model_fields_set and self.paused is None:
            raise ValueError("paused cannot be null")
        if "permissions" in self.model_fields_set and self.permissions is None:
            raise ValueError("permissions cannot be null")
        return self


class SetPlanBody(CamelModel):
    model_config = _STRICT

    plan: Plan


class SettingsBody(CamelModel):
    model_config = _STRICT

    audit_enabled: bool | None = None
    audit_retention_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class ShareSide(StrEnum):
    """GET /api/shares?as=: the shares you gave, or those you received."""

    OWNER = "owner"
    RECIPIENT = "recipient"
