"""Invitations, the way a person is given access: by email (sent through SES at once, valid 7 days, only
for that address) or by link (optionally limited in uses and time); revocable; inspected and accepted
with the secret token from the URL.

The token is "<invitationId>.<secret>": only its SHA-256 is stored, it is compared in constant time, and
it is never logged (nor stored in the audit log). Accepting claims one use in one transaction (a user
accepts once; a link's last use goes to one of two people accepting at once), then makes the share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from quantlink.dal.ports import Mailer, SharingStore
from quantlink.errors import (
    Conflict,
    Forbidden,
    InvitationExpired,
    InvitationRevoked,
    InvitationUsedUp,
    NotFound,
    PlanRequired,
    ValidationFailed,
)
from quantlink.ids import (
    INVITATION_PREFIX,
    hash_secret,
    invitation_id_from_token,
    is_id,
    new_invitation_id,
    new_invitation_token,
    secret_matches,
)
from quantlink.models import Strategy
from quantlink.owner.strategies import owned_strategy
from quantlink.sharing import bundles, groups, shares
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import (
    Bundle,
    BundleMember,
    CreateInvitationBody,
    Group,
    GroupMember,
    Invitation,
    InvitationKind,
    InvitationStatus,
    Permissions,
    Plan,
    ShareState,
)
from quantlink.sharing.users import Caller, PlanLimits, ensure_user, require_sharing
from quantlink.timeutil import iso, now
from quantlink.views.sharing import (
    Accepted,
    BundleRef,
    CreatedInvitation,
    InvitationList,
    InvitationPreview,
    InvitationView,
    OwnerEmail,
    StrategyRef,
)

EMAIL_INVITATION_DAYS = 7


@dataclass(frozen=True)
class InvitationConfig:
    web_url: str  # the SPA: its accept page is <web_url>/#/invitations/<token>
    limits: PlanLimits


def accept_url(web_url: str, token: str) -> str:
    return f"{web_url.rstrip('/')}/#/invitations/{token}"


def _email_text(owner_email: str, target: str, url: str, expires: str) -> str:
    return (
        f"{owner_email} invites you to follow the signals of the {target} on QuantLink.\n\n"
        f"Accept the invitation (sign in or create an account with this address first):\n{url}\n\n"
        f"The invitation expires at {expires} and works only for this email address.\n"
    )


def create_invitation(
    store: SharingStore,
    mailer: Mailer,
    audit: Audit,
    caller: Caller,
    body: CreateInvitationBody,
    config: InvitationConfig,
) -> CreatedInvitation:
    owner = require_sharing(store, caller)
    if body.bundle_id is not None:
        bundle = bundles.owned_bundle(store, caller.user_id, body.bundle_id)
        target_name, strategy_id, bundle_id = f"bundle {bundle.name}", None, bundle.bundle_id
    else:
        strategy = owned_strategy(store, caller.user_id, body.strategy_id or "")
        target_name, strategy_id, bundle_id = f"strategy {strategy.name}", strategy.strategy_id, None
    at = now()
    token = new_invitation_token(new_invitation_id())
    invitation_id = invitation_id_from_token(token) or ""
    max_uses: int | None
    expires_at: datetime | None
    if body.email is not None:
        kind, email, max_uses = InvitationKind.EMAIL, body.email.lower(), 1
        expires_at = at + timedelta(days=EMAIL_INVITATION_DAYS)
    else:
        kind, email, max_uses, expires_at = InvitationKind.LINK, None, body.max_uses, body.expires_at
    if expires_at is not None and expires_at <= at:
        raise ValidationFailed("expiresAt is in the past.", details=[{"field": "expiresAt", "message": "past"}])
    invitation = Invitation(
        invitation_id=invitation_id,
        owner_id=caller.user_id,
        owner_email=owner.email,
        kind=kind,
        strategy_id=strategy_id,
        bundle_id=bundle_id,
        email=email,
        token_hash=hash_secret(token),
        permissions=body.permissions,
        share_expires_at=body.share_expires_at,
        max_uses=max_uses,
        expires_at=expires_at,
        created_at=at,
    )
    store.put_invitation(invitation)
    url = accept_url(config.web_url, token)
    if email is not None:
        try:
            mailer.send_email(email, f"{owner.email} shares a QuantLink strategy with you",
                              _email_text(owner.email, target_name, url, iso(expires_at or at)))  # fmt: skip
        except Exception:
            store.revoke_invitation(invitation_id, caller.user_id)  # never a live invitation nobody was sent
            raise
    audit.record(
        "invitation.sent", "invitation", invitation_id, owner_id=caller.user_id, strategy_id=strategy_id,
        after={"kind": kind.value, "email": email, "maxUses": max_uses, "bundleId": bundle_id,
               "expiresAt": iso(expires_at) if expires_at else None},
    )  # fmt: skip
    return CreatedInvitation(
        invitation_id=invitation_id, kind=kind, url=url, expires_at=expires_at, status=invitation.status(at)
    )


def list_invitations(store: SharingStore, caller: Caller) -> InvitationList:
    at = now()
    return InvitationList(items=[InvitationView.of(i, at=at) for i in store.list_invitations(caller.user_id)])


def revoke_invitation(store: SharingStore, audit: Audit, caller: Caller, invitation_id: str) -> None:
    invitation = store.get_invitation(invitation_id) if is_id(invitation_id, INVITATION_PREFIX) else None
    if invitation is None or invitation.owner_id != caller.user_id:
        raise NotFound("No such invitation.")
    if invitation.revoked:
        return
    store.revoke_invitation(invitation_id, caller.user_id)
    audit.record("invitation.revoked", "invitation", invitation_id, owner_id=caller.user_id,
                 strategy_id=invitation.strategy_id)  # fmt: skip


def _by_token(store: SharingStore, token: str) -> Invitation:
    """The invitation a token opens; NOT_FOUND for any other token (a miss costs what a mismatch does)."""
    invitation_id = invitation_id_from_token(token)
    invitation = store.get_invitation(invitation_id) if invitation_id else None
    if not secret_matches(token, invitation.token_hash if invitation else None) or invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def invite_to_group(
    store: SharingStore, mailer: Mailer, audit: Audit, caller: Caller, group: Group, email: str, *, web_url: str
) -> None:
    """An email invitation to join the group (an address with no user yet), sent at once."""
    owner = require_sharing(store, caller)
    at = now()
    token = new_invitation_token(new_invitation_id())
    invitation = Invitation(
        invitation_id=invitation_id_from_token(token) or "", owner_id=caller.user_id, owner_email=owner.email,
        kind=InvitationKind.EMAIL, group_id=group.group_id, email=email, token_hash=hash_secret(token),
        permissions=Permissions(), max_uses=1, expires_at=at + timedelta(days=EMAIL_INVITATION_DAYS), created_at=at,
    )  # fmt: skip
    store.put_invitation(invitation)
    url = accept_url(web_url, token)
    try:
        mailer.send_email(
            email,
            f"{owner.email} adds you to a QuantLink group",
            _email_text(owner.email, f"group {group.name}", url, iso(invitation.expires_at or at)),
        )
    except Exception:  # fmt: skip
        store.revoke_invitation(invitation.invitation_id, caller.user_id)
        raise
    audit.record("invitation.sent", "invitation", invitation.invitation_id, owner_id=caller.user_id,
                 after={"kind": "email", "email": email, "groupId": group.group_id})  # fmt: skip


def _offered(store: SharingStore, invitation: Invitation) -> tuple[list[Strategy], Bundle | None]:
    """What accepting gives: its strategy, or the bundle with its strategies. NOT_FOUND once deleted."""
    if invitation.group_id is not None:
        group = store.get_group(invitation.group_id)
        if group is None:
            raise NotFound("No such invitation.")
        return [s for g in store.group_shares(group.group_id) for s in groups.strategies_of(store, g)], None
    if invitation.bundle_id is not None:
        bundle = store.get_bundle(invitation.bundle_id)
        if bundle is None:
            raise NotFound("No such invitation.")
        found = [store.get_strategy(sid) for sid in bundle.strategy_ids]
        return [s for s in found if s is not None], bundle
    strategy = store.get_strategy(invitation.strategy_id or "")
    if strategy is None:
        raise NotFound("No such invitation.")  # its strategy was deleted
    return [strategy], None


def inspect_invitation(store: SharingStore, token: str) -> InvitationPreview:
    invitation = _by_token(store, token)
    strategies, bundle = _offered(store, invitation)
    return InvitationPreview(
        owner=OwnerEmail(email=invitation.owner_email),
        strategies=[StrategyRef(strategy_id=s.strategy_id, name=s.name) for s in strategies],
        bundle=BundleRef(bundle_id=bundle.bundle_id, name=bundle.name) if bundle else None,
        permissions=bundle.permissions if bundle else invitation.permissions,
        share_expires_at=invitation.share_expires_at,
        expires_at=invitation.expires_at,
        status=invitation.status(now()),
    )


def _refusal(invitation: Invitation, caller: Caller) -> Exception | None:
    """Why this caller cannot accept now, in the order a person would want to hear it."""
    status = invitation.status(now())
    if invitation.owner_id == caller.user_id:
        return Forbidden("This is your own invitation.")
    if status == InvitationStatus.REVOKED:
        return InvitationRevoked()
    if status == InvitationStatus.EXPIRED:
        return InvitationExpired()
    if invitation.kind == InvitationKind.EMAIL and invitation.email != caller.email.lower():
        return Forbidden("This invitation was sent to another email address.")
    if status == InvitationStatus.ACCEPTED:
        return InvitationUsedUp()
    return None


def accept_invitation(
    store: SharingStore, audit: Audit, caller: Caller, token: str, config: InvitationConfig
) -> Accepted:
    invitation = _by_token(store, token)
    recipient = ensure_user(store, caller)
    strategies, bundle = _offered(store, invitation)
    if bundle is not None and caller.user_id in {m.user_id for m in store.bundle_members(bundle.bundle_id)}:
        raise Conflict("You are a member of this bundle already.")
    already = [
        s for strategy in strategies for s in store.shares_of_strategy(strategy.strategy_id)
        if s.recipient_id == caller.user_id and s.via_id == invitation.invitation_id
    ]  # fmt: skip
    if already:
        raise Conflict("You accepted this invitation already.")
    refusal = _refusal(invitation, caller)
    if refusal is not None:
        raise refusal
    owner = store.get_user(invitation.owner_id)
    if owner is None or owner.plan == Plan.FREE:
        raise PlanRequired("The owner's plan no longer includes sharing.")
    given = [s for s in store.shares_owned(invitation.owner_id) if s.state == ShareState.LIVE]
    if len(given) + len(strategies) > config.limits.shares:
        raise PlanRequired(f"The owner's plan allows {config.limits.shares} shares.")
    for strategy in strategies:
        live = [s for s in store.shares_of_strategy(strategy.strategy_id) if s.state == ShareState.LIVE]
        if len({s.recipient_id for s in live} | {caller.user_id}) > config.limits.recipients_per_strategy:
            raise PlanRequired(f"The owner's plan allows no more recipients for {strategy.name}.")
    try:
        store.claim_invitation_use(invitation.invitation_id, caller.user_id, at=now())
    except InvitationUsedUp:
        # The record refused the use: tell why, from what it holds now.
        fresh = store.get_invitation(invitation.invitation_id) or invitation
        raise _refusal(fresh, caller) or InvitationUsedUp() from None
    try:
        if invitation.group_id is not None:
            group = store.get_group(invitation.group_id)
            if group is not None:
                groups.join(store, audit, group, GroupMember(group_id=group.group_id, user_id=caller.user_id,
                                                             email=recipient.email, joined_at=now()))  # fmt: skip
            made = [s for s in store.shares_received(caller.user_id)
                    if s.via_id == invitation.group_id and s.state == ShareState.LIVE]  # fmt: skip
        elif bundle is not None:
            member = BundleMember(bundle_id=bundle.bundle_id, user_id=caller.user_id, email=recipient.email,
                                  joined_at=now())  # fmt: skip
            made = bundles.join(store, audit, bundle, member)
        else:
            made = [shares.create_share(
                store, audit, strategies[0], owner_email=invitation.owner_email, recipient_id=caller.user_id,
                recipient_email=recipient.email, permissions=invitation.permissions,
                expires_at=invitation.share_expires_at, via_id=invitation.invitation_id,
            )]  # fmt: skip
    except Exception:
        store.release_invitation_use(invitation.invitation_id, caller.user_id)
        raise
    audit.record("invitation.accepted", "invitation", invitation.invitation_id, owner_id=invitation.owner_id,
                 strategy_id=invitation.strategy_id, after={"shareIds": [s.share_id for s in made]})  # fmt: skip
    return Accepted(shares=shares.views(store, made))
