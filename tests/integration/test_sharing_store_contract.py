"""The sharing stores' contract, run on DynamoStore against moto and on the in-memory fakes alike: the
grant's version lock, a share's subscriptions rewritten with it, an invitation used once per user and
no more than it allows, withdrawn deliveries, bundle versions, expiry claims, audit paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from quantlink.dal.store import DynamoStore
from quantlink.errors import Conflict, InvitationUsedUp, NotFound
from quantlink.ids import hash_secret, new_bundle_id, new_invitation_id, new_share_id, new_signal_id
from quantlink.models import DeliveryRecord, DeliveryStatus, Subscription
from quantlink.sharing.records import (
    AuditActor,
    AuditEntry,
    AuditTarget,
    Bundle,
    Grant,
    Invitation,
    InvitationKind,
    Permissions,
    Share,
)
from tests.integration.test_store_contract import strategy, terminal
from tests.unit.fakes import FakeStore

if TYPE_CHECKING:
    from conftest import Stack

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(params=["dynamodb", "fake"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakeStore()
    stack: Stack = request.getfixturevalue("mock_aws")
    return DynamoStore.for_table(stack.table_name)


def a_share(strategy_id: str, recipient: str = "bob") -> Share:
    return Share(share_id=new_share_id(strategy_id), strategy_id=strategy_id, owner_id="alice", owner_email="a@x",
                 recipient_id=recipient, recipient_email="b@x", permissions=Permissions(), created_at=NOW)  # fmt: skip


def test_a_grant_commits_at_the_version_read_and_rewrites_the_subscriptions(store: Any) -> None:
    mine = strategy()
    store.put_strategy(mine)
    pc = terminal("bob")
    store.put_terminal(pc)
    share = a_share(mine.strategy_id)
    grant = Grant(strategy_id=mine.strategy_id, recipient_id="bob", paused=False, expires_at=None, terminal_limit=1)
    store.commit_grant(mine.strategy_id, "bob", read_version=None, grant=grant, shares=[share], keep=[], drop=[])
    stored = store.get_grant(mine.strategy_id, "bob")
    assert stored.version == 1 and store.get_share(share.share_id) == share
    with pytest.raises(Conflict):  # another change committed first
        store.commit_grant(mine.strategy_id, "bob", read_version=None, grant=grant, shares=[], keep=[], drop=[])

    store.put_shared_subscription(
        Subscription(strategy_id=mine.strategy_id, terminal_id=pc.terminal_id, owner_id="bob", queue_url="q",
                     created_at=NOW), stored)  # fmt: skip
    with pytest.raises(Conflict):  # the subscribe bumped the version
        store.put_shared_subscription(
            Subscription(strategy_id=mine.strategy_id, terminal_id=pc.terminal_id, owner_id="bob", queue_url="q",
                         created_at=NOW), stored)  # fmt: skip
    paused = grant.model_copy(update={"paused": True, "expires_at": NOW + timedelta(days=1)})
    store.commit_grant(mine.strategy_id, "bob", read_version=2, grant=paused, shares=[], keep=[pc.terminal_id],
                       drop=[])  # fmt: skip
    (subscription,) = store.subscriptions_for(mine.strategy_id)
    assert subscription.paused and subscription.expires_at == NOW + timedelta(days=1)

    store.commit_grant(mine.strategy_id, "bob", read_version=3, grant=None, shares=[], keep=[],
                       drop=[pc.terminal_id])  # fmt: skip
    assert store.subscriptions_for(mine.strategy_id) == [] and store.get_grant(mine.strategy_id, "bob") is None
    assert store.subscriptions_of_terminal(pc.terminal_id) == []
    assert [s.share_id for s in store.shares_received("bob")] == [share.share_id]
    assert [s.share_id for s in store.shares_owned("alice")] == [share.share_id]


def test_a_shared_subscription_needs_the_terminal(store: Any) -> None:
    mine = strategy()
    store.put_strategy(mine)
    grant = Grant(strategy_id=mine.strategy_id, recipient_id="bob", paused=False, expires_at=None, terminal_limit=1)
    store.commit_grant(mine.strategy_id, "bob", read_version=None, grant=grant, shares=[], keep=[], drop=[])
    with pytest.raises(NotFound):
        store.put_shared_subscription(
            Subscription(strategy_id=mine.strategy_id, terminal_id="trm_gone", owner_id="bob", queue_url="q",
                         created_at=NOW), store.get_grant(mine.strategy_id, "bob"))  # fmt: skip


def test_an_invitation_is_used_once_per_user_and_no_more_than_it_allows(store: Any) -> None:
    invitation = Invitation(invitation_id=new_invitation_id(), owner_id="alice", owner_email="a@x",
                            kind=InvitationKind.LINK, strategy_id="stg_x", token_hash=hash_secret("t"),
                            permissions=Permissions(), max_uses=2, created_at=NOW)  # fmt: skip
    store.put_invitation(invitation)
    store.claim_invitation_use(invitation.invitation_id, "bob", at=NOW)
    with pytest.raises(Conflict):
        store.claim_invitation_use(invitation.invitation_id, "bob", at=NOW)
    store.claim_invitation_use(invitation.invitation_id, "carol", at=NOW)
    with pytest.raises(InvitationUsedUp):
        store.claim_invitation_use(invitation.invitation_id, "dave", at=NOW)
    store.release_invitation_use(invitation.invitation_id, "carol")
    store.claim_invitation_use(invitation.invitation_id, "dave", at=NOW)
    assert store.get_invitation(invitation.invitation_id).uses == 2
    with pytest.raises(NotFound):
        store.revoke_invitation(invitation.invitation_id, "mallory")
    store.revoke_invitation(invitation.invitation_id, "alice")
    with pytest.raises(InvitationUsedUp):
        store.claim_invitation_use(invitation.invitation_id, "erin", at=NOW)


def test_an_invitation_past_its_time_gives_no_use(store: Any) -> None:
    invitation = Invitation(invitation_id=new_invitation_id(), owner_id="alice", owner_email="a@x",
                            kind=InvitationKind.LINK, strategy_id="stg_x", token_hash=hash_secret("t"),
                            permissions=Permissions(), expires_at=NOW, created_at=NOW)  # fmt: skip
    store.put_invitation(invitation)
    with pytest.raises(InvitationUsedUp):
        store.claim_invitation_use(invitation.invitation_id, "bob", at=NOW + timedelta(seconds=1))
    assert store.mark_invitation_expired(invitation.invitation_id) is True
    assert store.mark_invitation_expired(invitation.invitation_id) is False


def test_withdrawing_marks_only_queued_deliveries_of_those_terminals(store: Any) -> None:
    mine = strategy()
    store.put_strategy(mine)
    deliveries = [
        DeliveryRecord(signal_id=new_signal_id(int(NOW.timestamp() * 1000)), strategy_id=mine.strategy_id,
                       terminal_id=t, status=s, received_at=NOW, queued_at=NOW)
        for t, s in [("trm_a", DeliveryStatus.QUEUED), ("trm_a", DeliveryStatus.PULLED),
                     ("trm_b", DeliveryStatus.QUEUED)]
    ]  # fmt: skip
    store.put_deliveries(deliveries)

    marked = store.withdraw_deliveries(mine.strategy_id, ["trm_a"], since=NOW - timedelta(minutes=1), at=NOW)

    assert marked == 1
    statuses = [store.deliveries_of(mine.strategy_id, d.signal_id)[0].status for d in deliveries]
    assert statuses == [DeliveryStatus.REVOKED, DeliveryStatus.PULLED, DeliveryStatus.QUEUED]


def test_a_bundle_changes_only_from_the_version_read(store: Any) -> None:
    bundle = Bundle(bundle_id=new_bundle_id(), owner_id="alice", name="b", strategy_ids=["stg_1"],
                    permissions=Permissions(), created_at=NOW)  # fmt: skip
    store.put_bundle(bundle)
    with pytest.raises(Conflict):
        store.put_bundle(bundle)  # the same id again
    changed = bundle.model_copy(update={"strategy_ids": [], "version": 1})
    store.put_bundle(changed)
    with pytest.raises(Conflict):
        store.put_bundle(changed)  # read at version 0, but it is at 1 now
    assert store.get_bundle(bundle.bundle_id).strategy_ids == []


def test_an_expiry_warning_is_claimed_once(store: Any) -> None:
    assert store.claim_warning("stg_x", "shr_x", "7d", NOW) is True
    assert store.claim_warning("stg_x", "shr_x", "7d", NOW) is False
    assert store.claim_warning("stg_x", "shr_x", "1d", NOW) is True
    store.put_due("share", "shr_x", NOW)
    store.put_due("invitation", "inv_x", NOW + timedelta(days=2))
    assert [(k, i) for _, k, i in store.due_until(NOW + timedelta(days=1))] == [("share", "shr_x")]


def test_audit_entries_page_newest_first_per_audience(store: Any) -> None:
    for n in range(3):
        entry = AuditEntry(
            audit_id=f"aud_{n}",
            at=NOW - timedelta(minutes=n),
            actor=AuditActor(user_id="bob"),
            action="share.paused",
            target=AuditTarget(kind="share", id="shr_x"),
            owner_id="alice",
        )
        store.put_audit_entry(entry, audiences=["alice", "bob"], expires_at=NOW + timedelta(days=1))  # fmt: skip
    window = {"since": NOW - timedelta(hours=1), "until": NOW}
    first = list(store.audit_entries("alice", **window))
    assert [e.audit_id for _, e in first] == ["aud_0", "aud_1", "aud_2"]
    after = list(store.audit_entries("alice", before=first[0][0], **window))
    assert [e.audit_id for _, e in after] == ["aud_1", "aud_2"]
    assert [e.audit_id for _, e in store.audit_entries(None, **window)] == ["aud_0", "aud_1", "aud_2"]
    assert list(store.audit_entries("carol", **window)) == []
