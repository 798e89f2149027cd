"""The interfaces domain code depends on: one Protocol per store (aggregate), and the compositions the
relay and the owner operations take. dal/store.py's DynamoStore (every store over one table) and
dal/queues.py's TerminalQueues implement them against AWS; tests/unit/fakes.py implements them in
memory with the same semantics (conditions included). Method names are unique across the stores, so
one object can implement any composition of them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from quantlink.dal.queues import QueueMessage
from quantlink.models import (
    DeliveryRecord,
    DeliveryStatus,
    Outcome,
    SignalRecord,
    Strategy,
    Subscription,
    Terminal,
    TimelineEntry,
)
from quantlink.ratelimit import RateLimit
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
    User,
)
from quantlink.throttling import RateCounted
from quantlink.views.drift import DriftReport


class StrategyStore(Protocol):
    def put_strategy(self, strategy: Strategy) -> None:
        """Raises Conflict when the id exists."""

    def get_strategy(self, strategy_id: str) -> Strategy | None:
        """None for a deleted strategy, as for one that never existed."""

    def list_strategies(self, owner_id: str) -> list[Strategy]:
        """Newest first."""

    def set_webhook_token_hash(
        self, strategy_id: str, owner_id: str, token_hash: str, *, sealed_signing_secret: str | None = None
    ) -> None:
        """The token's hash and, when given, the sealed signing secret, in one write, only on the owner's own
        strategy; raises NotFound otherwise."""

    def update_strategy(
        self, strategy_id: str, owner_id: str, *, name: str | None = None, paused: bool | None = None
    ) -> None:
        """The given fields, only on the owner's own strategy; raises NotFound otherwise."""

    def tombstone_strategy(self, strategy_id: str, owner_id: str, *, at: datetime) -> None:
        """Deleted from now on for every reader (again on a tombstone is harmless); raises NotFound for
        another owner's strategy or one already purged."""

    def purge_strategy(self, strategy_id: str, *, max_items: int) -> bool:
        """Delete up to `max_items` items of a tombstoned strategy's partition, its record last; True
        when the partition is gone."""


class TerminalStore(Protocol):
    def put_terminal(self, terminal: Terminal) -> None:
        """Raises Conflict when the id exists."""

    def get_terminal(self, terminal_id: str) -> Terminal | None: ...

    def list_terminals(self, owner_id: str) -> list[Terminal]:
        """Newest first."""

    def set_terminal_token_hash(self, terminal_id: str, owner_id: str, token_hash: str) -> None:
        """Only on the owner's own terminal; raises NotFound otherwise."""

    def claim_device(
        self, terminal_id: str, fingerprint_hash: str, *, at: datetime, rate: RateCounted | None = None
    ) -> None:
        """Claim-or-check the device, record lastSeenAt and, given a rate, count the call in its window,
        decided by the stored record (never by what the caller read before); raises DeviceTakenOver,
        RateLimited."""

    def count_call(self, terminal_id: str, rate: RateCounted, *, at: datetime) -> None:
        """Count a call in the terminal's window, decided by the stored record; raises RateLimited."""

    def release_device(self, terminal_id: str, owner_id: str) -> None:
        """Only on the owner's own terminal; raises NotFound otherwise."""

    def set_push_connection(self, terminal_id: str, connection_id: str, *, at: datetime) -> None:
        """The terminal's push connection from now on; raises NotFound for a deleted terminal."""

    def clear_push_connection(self, terminal_id: str, connection_id: str) -> bool:
        """Forget it only if it is still this connection; True when it was."""

    def forget_connection(self, connection_id: str) -> str | None:
        """Delete a closed connection's record; the terminal it belonged to, if any."""

    def push_connections(self, terminal_ids: list[str]) -> dict[str, str]:
        """terminalId -> open push connection, for the given terminals that hold one."""

    def delete_terminal(self, terminal_id: str) -> None:
        """The terminal, its snapshots and both sides of its subscriptions."""


class SubscriptionStore(Protocol):
    def put_subscription(self, subscription: Subscription) -> None:
        """Both sides, only while the terminal exists; raises NotFound otherwise."""

    def delete_subscription(self, terminal_id: str, strategy_id: str) -> None: ...

    def subscriptions_for(self, strategy_id: str) -> list[Subscription]:
        """The hot path's one Query."""

    def subscribed_strategy_ids(self, terminal_id: str) -> list[str]: ...

    def subscriptions_of_terminal(self, terminal_id: str) -> list[Subscription]:
        """Ordered by strategy id."""

    def delete_strategy_subscriptions(self, strategy_id: str) -> None:
        """Both sides of every subscription to the strategy."""


class SignalStore(Protocol):
    def record_signal(
        self,
        signal: SignalRecord,
        *,
        dedup_ttl_seconds: int,
        lease_until: datetime,
        deliveries: Sequence[DeliveryRecord] = (),
        push_receipts: Mapping[str, str] | None = None,
        rate_limit: RateLimit | None = None,
    ) -> list[DeliveryRecord]:
        """Dedup marker + signal (+ the rate-limit count, + the deliveries that fit), all or nothing;
        returns the deliveries left to write (past one transaction's size). Raises DuplicateSignal or
        RateLimited, having written nothing."""

    def get_signal(self, strategy_id: str, signal_id: str) -> SignalRecord | None: ...

    def claim_fanout(self, strategy_id: str, signal_id: str, *, now: datetime, lease_until: datetime) -> bool: ...

    def release_fanout(self, strategy_id: str, signal_id: str) -> None: ...

    def mark_fanned_out(self, strategy_id: str, signal_id: str, *, deliveries: int, at: datetime) -> None:
        """Not for a signal deleted meanwhile (nothing is written then)."""

    def timeline(self, strategy_id: str, *, before: str | None = None) -> Iterator[TimelineEntry]:
        """Newest first, each signal with its deliveries, read as the caller iterates; `before` is a
        signal id (exclusive)."""

    def signals_awaiting_fanout(self, *, received_before: datetime, limit: int) -> list[tuple[str, str]]:
        """(strategyId, signalId) of signals still RECEIVED that arrived before then (maybe stale)."""

    def delete_signals_since(self, strategy_id: str, *, since: datetime) -> None:
        """Every signal received since then, with its deliveries, until none is left."""


class DeliveryStore(Protocol):
    def put_deliveries(
        self, deliveries: list[DeliveryRecord], *, push_receipts: Mapping[str, str] | None = None
    ) -> None:
        """With each delivery of a terminal in `push_receipts`, the hash of the receipt its push hands out."""

    def mark_pushed(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> None:
        """pushedAt (the first push); a QUEUED delivery becomes PULLED; a settled one keeps its status."""

    def deliveries_of(self, strategy_id: str, signal_id: str) -> list[DeliveryRecord]: ...

    def mark_pulled(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime, receipt_hash: str
    ) -> DeliveryStatus | None:
        """The status the delivery has now (a final one is kept), or None when there is no delivery.
        Remembers the receipt handed out, which an ack must bring back."""

    def mark_expired(
        self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime
    ) -> DeliveryStatus | None: ...

    def unpulled_past_expiry(self, *, at: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(strategyId, signalId, terminalId) of deliveries never pulled, expired before `at` (maybe stale)."""

    def expire_unpulled(self, strategy_id: str, signal_id: str, terminal_id: str, *, at: datetime) -> bool:
        """QUEUED → EXPIRED unless pulled meanwhile; True when this call expired it."""

    def record_outcome(
        self,
        strategy_id: str,
        signal_id: str,
        terminal_id: str,
        status: DeliveryStatus,
        outcome: Outcome,
        *,
        at: datetime,
        receipt_hash: str,
    ) -> DeliveryStatus | None:
        """None when there is no delivery or this receipt was never handed out for it."""


class PositionStore(Protocol):
    def put_leader_positions(self, strategy_id: str, snapshot: dict[str, Any], *, at: datetime) -> None: ...

    def put_terminal_positions(self, terminal_id: str, snapshot: dict[str, Any], *, at: datetime) -> None: ...

    def latest_leader_positions(
        self, strategy_id: str, *, since: datetime, until: datetime
    ) -> dict[str, Any] | None: ...

    def latest_terminal_positions(
        self, terminal_id: str, *, since: datetime, until: datetime
    ) -> dict[str, Any] | None: ...


class DriftStore(Protocol):
    def put_drift_report(self, report: DriftReport) -> None: ...

    def get_drift_report(self, terminal_id: str, day: date | None = None) -> DriftReport | None:
        """That day's, or the latest."""

    def drift_history(self, terminal_id: str, *, limit: int) -> list[DriftReport]:
        """Newest first."""

    def get_drift_settings(self, terminal_id: str) -> dict[str, Any]: ...

    def put_drift_settings(self, terminal_id: str, settings: dict[str, Any]) -> None: ...

    def terminal_ids(self) -> list[str]: ...

    def record_sync_batch(
        self, terminal_id: str, day: date, signals: list[SignalRecord], *, at: datetime, dedup_ttl_seconds: int
    ) -> None:
        """Report marked sent + every signal recorded, all or nothing; Conflict when sent before."""


class UserStore(Protocol):
    def get_user(self, user_id: str) -> User | None: ...

    def create_user(self, user: User) -> User:
        """The stored user: this one, or the one a concurrent first call created."""

    def set_plan(self, user_id: str, plan: Plan) -> None:
        """Raises NotFound for a user who never signed in."""

    def list_users(self) -> list[User]: ...

    def users_with_email(self, email: str) -> list[User]:
        """Case-insensitive."""

    def get_settings(self) -> Settings: ...

    def put_settings(self, settings: Settings) -> None: ...


class ShareStore(Protocol):
    def get_share(self, share_id: str) -> Share | None: ...

    def shares_of_strategy(self, strategy_id: str) -> list[Share]:
        """Strongly consistent."""

    def shares_owned(self, owner_id: str) -> list[Share]: ...

    def shares_received(self, recipient_id: str) -> list[Share]: ...

    def get_grant(self, strategy_id: str, recipient_id: str) -> Grant | None: ...

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
        """Shares, grant and the recipient's subscriptions in one transaction at `read_version`; raises
        Conflict when the grant moved meanwhile."""

    def put_shared_subscription(self, subscription: Subscription, grant: Grant) -> None:
        """Raises Conflict when the grant moved, NotFound when the terminal is gone."""

    def delete_strategy_shares(self, strategy_id: str) -> None: ...

    def withdraw_deliveries(self, strategy_id: str, terminal_ids: list[str], *, since: datetime, at: datetime) -> int:
        """Mark REVOKED every delivery still QUEUED of those terminals for signals received since then;
        the number marked."""


class InvitationStore(Protocol):
    def put_invitation(self, invitation: Invitation) -> None: ...

    def get_invitation(self, invitation_id: str) -> Invitation | None: ...

    def list_invitations(self, owner_id: str) -> list[Invitation]: ...

    def revoke_invitation(self, invitation_id: str, owner_id: str) -> None: ...

    def mark_invitation_expired(self, invitation_id: str) -> bool: ...

    def claim_invitation_use(self, invitation_id: str, user_id: str, *, at: datetime) -> None:
        """Raises Conflict (this user accepted before) or InvitationUsedUp (no use left now)."""

    def release_invitation_use(self, invitation_id: str, user_id: str) -> None: ...


class BundleStore(Protocol):
    def put_bundle(self, bundle: Bundle) -> None:
        """New (version 0), or changed from `version - 1` (else Conflict)."""

    def get_bundle(self, bundle_id: str) -> Bundle | None: ...

    def list_bundles(self, owner_id: str) -> list[Bundle]: ...

    def put_bundle_member(self, member: BundleMember) -> bool:
        """False when already a member."""

    def bundle_members(self, bundle_id: str) -> list[BundleMember]: ...

    def delete_bundle_member(self, bundle_id: str, user_id: str) -> None: ...

    def delete_bundle(self, bundle_id: str) -> None: ...


class GroupStore(Protocol):
    def put_group(self, group: Group) -> None: ...

    def get_group(self, group_id: str) -> Group | None: ...

    def list_groups(self, owner_id: str) -> list[Group]: ...

    def put_group_member(self, member: GroupMember) -> bool:
        """False when already a member."""

    def group_members(self, group_id: str) -> list[GroupMember]: ...

    def delete_group_member(self, group_id: str, user_id: str) -> None: ...

    def put_group_share(self, share: GroupShare) -> None: ...

    def group_shares(self, group_id: str) -> list[GroupShare]: ...

    def group_shares_of_bundle(self, bundle_id: str) -> list[GroupShare]: ...

    def delete_group_share(self, share: GroupShare) -> None: ...

    def delete_group(self, group_id: str) -> None: ...


class DueStore(Protocol):
    def put_due(self, kind: str, record_id: str, at: datetime) -> None: ...

    def due_until(self, until: datetime) -> list[tuple[str, str, str]]:
        """(position, kind, id), oldest first."""

    def delete_due(self, position: str) -> None: ...

    def claim_warning(self, strategy_id: str, share_id: str, kind: str, end: datetime) -> bool:
        """True for the one caller that gets to send it."""


class AuditStore(Protocol):
    def put_audit_entry(self, entry: AuditEntry, *, audiences: list[str], expires_at: datetime) -> None: ...

    def audit_entries(
        self, user_id: str | None, *, since: datetime, until: datetime, before: str | None = None
    ) -> Iterator[tuple[str, AuditEntry]]:
        """Newest first, each with its position (pass as `before` to go on after it); every entry when
        user_id is None (admins)."""


class AuditAndSettings(AuditStore, UserStore, Protocol):
    """The audit log with the settings that switch it and set its retention."""


class Mailer(Protocol):
    def send_email(self, to: str, subject: str, text: str) -> None: ...


class SharingStore(
    StrategyStore,
    TerminalStore,
    SubscriptionStore,
    UserStore,
    ShareStore,
    InvitationStore,
    BundleStore,
    GroupStore,
    DueStore,
    AuditStore,
    Protocol,
):
    """What the sharing operations take."""


class RelayStore(StrategyStore, TerminalStore, SubscriptionStore, SignalStore, DeliveryStore, Protocol):
    """What the hot path reads and writes, as one object."""


class OwnerStore(StrategyStore, TerminalStore, SubscriptionStore, SignalStore, ShareStore, BundleStore, Protocol):
    """What the owner operations that span aggregates take (each other operation takes its own store)."""


class RelayQueues(Protocol):
    def send(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None: ...

    def receive(self, queue_url: str, *, max_messages: int, wait_seconds: int) -> list[QueueMessage]: ...

    def delete_message(self, queue_url: str, receipt_handle: str) -> bool: ...


class RelayPush(Protocol):
    """The terminals' push WebSockets (dal/connections.py)."""

    def post(self, connection_id: str, data: bytes) -> bool:
        """One text frame; False when the connection is gone (410), raises on any other failure."""


class QueueAdmin(Protocol):
    """Creating and deleting a terminal's own FIFO queue (the owner API)."""

    def create(self, terminal_id: str, *, visibility_timeout_seconds: int) -> str:
        """The new queue's URL."""

    def delete(self, queue_url: str) -> None:
        """A queue that is already gone is not an error."""


class SweepStore(RelayStore, SharingStore, DriftStore, Protocol):
    """What the sweeper's steps take: the relay's stores (re-drive, expiry of unpulled deliveries),
    sharing's (shares and invitations that end, their warnings) and the alert robots of drift settings."""


class DriftJobStore(RelayStore, PositionStore, DriftStore, AuditAndSettings, Protocol):
    """What the drift operations take: terminals, subscriptions, snapshots, reports, the relay's
    stores to send a sync batch, and the audit log."""
