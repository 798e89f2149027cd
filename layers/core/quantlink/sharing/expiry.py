"""The expiry sweep's two operations (a schedule calls them; each is safe to run twice or overlapping):

- `expire_due(now)`: shares and invitations whose time passed become expired (a share's subscriptions
  are rewritten at once; it delivered nothing since its end anyway, the hot path checks the time on the
  subscription), audited as share.expired / invitation.expired;
- `send_expiry_warnings(now)`: 7 days and 1 day before a share ends, an email to its recipient, and one
  digest to each owner of what was warned about; each warning is claimed by a conditional write, so it
  goes out once per share and end date however often the sweep runs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from quantlink.dal.ports import Mailer, SharingStore
from quantlink.sharing import shares
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import InvitationStatus, Share, ShareState
from quantlink.sharing.users import SYSTEM
from quantlink.timeutil import iso

WARNINGS = (("1d", timedelta(days=1)), ("7d", timedelta(days=7)))  # the nearest first


@dataclass(frozen=True)
class Expired:
    shares: int
    invitations: int


def expire_due(store: SharingStore, now: datetime) -> Expired:
    audit = Audit(store, SYSTEM)
    expired_shares = expired_invitations = 0
    for position, kind, record_id in store.due_until(now):
        if kind == "share":
            expired_shares += _expire_share(store, audit, record_id, now)
        elif kind == "invitation":
            expired_invitations += _expire_invitation(store, audit, record_id, now)
        store.delete_due(position)
    return Expired(shares=expired_shares, invitations=expired_invitations)


def _expire_share(store: SharingStore, audit: Audit, share_id: str, now: datetime) -> int:
    share = store.get_share(share_id)
    strategy = store.get_strategy(share.strategy_id) if share is not None else None
    if share is None or strategy is None or share.state != ShareState.LIVE:
        return 0
    if share.expires_at is None or share.expires_at > now:
        return 0  # extended meanwhile (its new end has its own entry)

    def apply(current: dict[str, Share]) -> list[Share]:
        found = current.get(share_id)
        if found is None or found.state != ShareState.LIVE or found.expires_at is None or found.expires_at > now:
            return []
        return [found.model_copy(update={"state": ShareState.EXPIRED})]

    if not shares.change_shares(store, strategy, share.recipient_id, apply):
        return 0
    audit.record("share.expired", "share", share_id, owner_id=share.owner_id, strategy_id=share.strategy_id,
                 before={"expiresAt": iso(share.expires_at)}, also=(share.recipient_id,))  # fmt: skip
    return 1


def _expire_invitation(store: SharingStore, audit: Audit, invitation_id: str, now: datetime) -> int:
    invitation = store.get_invitation(invitation_id)
    if invitation is None or invitation.expires_at is None or invitation.expires_at > now:
        return 0
    if invitation.status(now) != InvitationStatus.EXPIRED or not store.mark_invitation_expired(invitation_id):
        return 0
    audit.record("invitation.expired", "invitation", invitation_id, owner_id=invitation.owner_id,
                 strategy_id=invitation.strategy_id)  # fmt: skip
    return 1


def send_expiry_warnings(store: SharingStore, mailer: Mailer, now: datetime) -> int:
    """The warnings sent by this run."""
    digest: dict[str, list[str]] = defaultdict(list)
    sent = 0
    for _, kind, share_id in store.due_until(now + WARNINGS[-1][1]):
        share = store.get_share(share_id) if kind == "share" else None
        if share is None or not share.live(now) or share.expires_at is None:
            continue
        left = share.expires_at - now
        due = next((name for name, ahead in WARNINGS if left <= ahead), None)
        strategy = store.get_strategy(share.strategy_id)
        if due is None or strategy is None:
            continue
        if not store.claim_warning(share.strategy_id, share.share_id, due, share.expires_at):
            continue  # another run sent it
        mailer.send_email(
            share.recipient_email,
            f'Your access to "{strategy.name}" ends {"tomorrow" if due == "1d" else "in a week"}',
            f'{share.owner_email} shared the signals of "{strategy.name}" with you on QuantLink until '
            f"{iso(share.expires_at)}. After that your terminals receive nothing more from it; ask the owner "
            "to extend it if you want to keep following it.\n",
        )
        digest[share.owner_email].append(f"- {strategy.name}: {share.recipient_email}, ends {iso(share.expires_at)}")
        sent += 1
    for owner_email, lines in digest.items():
        mailer.send_email(
            owner_email,
            "QuantLink: shares ending soon",
            "These shares of yours end soon (their recipients were told):\n" + "\n".join(lines) + "\n",
        )
    return sent  # fmt: skip
