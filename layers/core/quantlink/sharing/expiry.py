"""The expiry sweep's two operations (a schedule calls them; each is safe to run twice or overlapping):

- `expire_due(now)`: shares and invitations whose time passed become expired (a share's subscriptions
  are rewritten at once; it delivered nothing since its end anyway, the hot path checks the time on the
  subscription), audited as share.expired / invitation.expired;
- `send_expiry_warnings(now)`: 7 days and 1 day before a share ends, an email to its recipient, and one
  digest to each owner of what was warned about; each warning is claimed by a conditional write, so it
  goes out once per share and end date however often the sweep runs. The chat robots (DingTalk, WeCom,
  Feishu) a person set up for drift alerts on a terminal that follows the strategy get the same words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from quantlink.dal.ports import Mailer, SharingStore, SweepStore
from quantlink.drift.alerts import Alert, Post, post_json, send_to_robots
from quantlink.sharing import shares
from quantlink.sharing.audit import Audit
from quantlink.sharing.records import InvitationStatus, Share, ShareState
from quantlink.sharing.users import SYSTEM
from quantlink.timeutil import epoch_ms, iso

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


def robots_following(store: SweepStore, user_id: str, strategy_ids: set[str]) -> list[dict[str, Any]]:
    """The alert robots set up on this person's terminals that follow any of these strategies (each once)."""
    robots: dict[str, dict[str, Any]] = {}
    for strategy_id in sorted(strategy_ids):
        for subscription in store.subscriptions_for(strategy_id):
            if subscription.owner_id == user_id:
                for robot in store.get_drift_settings(subscription.terminal_id).get("robots", []):
                    robots.setdefault(str(robot.get("url")), robot)
    return list(robots.values())


def send_expiry_warnings(store: SweepStore, mailer: Mailer, now: datetime, *, post: Post = post_json) -> int:
    """The warnings sent by this run."""
    digest: dict[str, list[str]] = defaultdict(list)
    digest_of: dict[str, tuple[str, set[str]]] = {}  # owner email -> (owner id, strategies warned about)
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
        warning = Alert(
            title=f'Your access to "{strategy.name}" ends {"tomorrow" if due == "1d" else "in a week"}',
            text=f'{share.owner_email} shared the signals of "{strategy.name}" with you on QuantLink until '
            f"{iso(share.expires_at)}. After that your terminals receive nothing more from it; ask the owner "
            "to extend it if you want to keep following it.\n",
        )
        mailer.send_email(share.recipient_email, warning.title, warning.text)
        send_to_robots(
            robots_following(store, share.recipient_id, {share.strategy_id}), warning, now_ms=epoch_ms(now), post=post
        )
        digest[share.owner_email].append(f"- {strategy.name}: {share.recipient_email}, ends {iso(share.expires_at)}")
        digest_of.setdefault(share.owner_email, (share.owner_id, set()))[1].add(share.strategy_id)
        sent += 1
    for owner_email, lines in digest.items():
        summary = Alert(
            title="QuantLink: shares ending soon",
            text="These shares of yours end soon (their recipients were told):\n" + "\n".join(lines) + "\n",
        )
        mailer.send_email(owner_email, summary.title, summary.text)
        owner_id, strategy_ids = digest_of[owner_email]
        send_to_robots(robots_following(store, owner_id, strategy_ids), summary, now_ms=epoch_ms(now), post=post)
    return sent  # fmt: skip
