"""Sharing's domain operations on the in-memory fakes: what a recipient's shares add up to, the version
lock under concurrent changes, terminal limits, permissions, invitations and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quantlink.errors import (
    Conflict,
    Forbidden,
    InvitationExpired,
    InvitationRevoked,
    InvitationUsedUp,
    NotFound,
    PlanRequired,
    TerminalLimitReached,
)
from quantlink.ids import new_share_id, new_strategy_id, new_terminal_id, strategy_of_share
from quantlink.models import DeliveryRecord, DeliveryStatus, Sizing, Strategy, Terminal
from quantlink.sharing import invitations, shares
from quantlink.sharing.audit import Audit, AuditQuery, read_audit
from quantlink.sharing.invitations import InvitationConfig
from quantlink.sharing.records import (
    CreateInvitationBody,
    Grant,
    Permissions,
    Plan,
    Settings,
    Share,
    ShareState,
    UpdateShareBody,
)
from quantlink.sharing.users import Caller, PlanLimits, ensure_user, groups_of, me
from tests.unit.fakes import FakeStore
from tests.unit.sharing_fakes import FakeMailer

NOW = datetime.now(UTC)
ALICE = Caller("u-alice", "alice@example.com")
BOB = Caller("u-bob", "Bob@Example.com")
CAROL = Caller("u-carol", "carol@example.com")
CONFIG = InvitationConfig(web_url="https://app.example", limits=PlanLimits())


def share(**fields: Any) -> Share:
    defaults: dict[str, Any] = {
        "share_id": "shr_x", "strategy_id": "stg_x", "owner_id": "o", "owner_email": "o@x", "recipient_id": "r",
        "recipient_email": "r@x", "permissions": Permissions(), "created_at": NOW,
    }  # fmt: skip
    return Share(**{**defaults, **fields})


# ---- what a recipient's shares add up to ----------------------------------------------------------


def test_a_grant_is_the_union_of_the_live_shares() -> None:
    soon, later = NOW + timedelta(days=1), NOW + timedelta(days=9)
    shares_ = [
        share(share_id="a", paused=True, permissions=Permissions(terminal_limit=5)),
        share(share_id="b", expires_at=soon),
        share(share_id="c", expires_at=later, permissions=Permissions(terminal_limit=2)),
        share(share_id="d", state=ShareState.REVOKED, permissions=Permissions(terminal_limit=50)),
        share(share_id="e", expires_at=NOW - timedelta(seconds=1), permissions=Permissions(terminal_limit=60)),
    ]

    grant = Grant.of("stg_x", "r", shares_, at=NOW)

    assert grant is not None
    assert (grant.paused, grant.expires_at, grant.terminal_limit) == (False, later, 5)


def test_a_grant_is_paused_only_when_every_live_share_is_and_gone_when_none_is_live() -> None:
    paused = Grant.of("stg_x", "r", [share(share_id="a", paused=True), share(share_id="b", paused=True)], at=NOW)
    assert paused is not None and paused.paused and paused.expires_at is None
    assert Grant.of("stg_x", "r", [share(state=ShareState.REVOKED)], at=NOW) is None
    assert Grant.of("stg_x", "r", [share(expires_at=NOW)], at=NOW) is None  # expired at that very instant


def test_a_share_id_carries_its_strategy() -> None:
    strategy_id = new_strategy_id()
    assert strategy_of_share(new_share_id(strategy_id)) == strategy_id
    assert strategy_of_share("shr_short") is None and strategy_of_share("stg_" + "x" * 26) is None


def test_cognito_groups_are_read_in_every_shape_the_authorizer_passes() -> None:
    for claim in ("admin", "[admin, ops]", "['admin']", ["ops", "admin"], "ops,admin"):
        assert "admin" in groups_of(claim), claim
    assert groups_of(None) == set() and "admin" not in groups_of("administrators")


# ---- a store with a strategy, its owner on pro and a recipient terminal ------------------------------


@pytest.fixture
def store() -> FakeStore:
    fake = FakeStore()
    for caller in (ALICE, BOB, CAROL):
        ensure_user(fake, caller)
    fake.set_plan(ALICE.user_id, Plan.PRO)
    return fake


@pytest.fixture
def strategy(store: FakeStore) -> Strategy:
    strategy = Strategy(strategy_id=new_strategy_id(), owner_id=ALICE.user_id, name="Momentum",
                        webhook_token_hash="h", created_at=NOW)  # fmt: skip
    store.put_strategy(strategy)
    return strategy


def terminal(store: FakeStore, owner: Caller) -> Terminal:
    found = Terminal(terminal_id=new_terminal_id(), owner_id=owner.user_id, name="PC", kind="qmt",
                     auth_token_hash="h", queue_url=f"q-{len(store.terminals)}", created_at=NOW)  # fmt: skip
    store.put_terminal(found)
    return found


def give(store: FakeStore, strategy: Strategy, to: Caller = BOB, **permissions: Any) -> Share:
    token = invitations.create_invitation(
        store, FakeMailer(), Audit(store, ALICE), ALICE,
        CreateInvitationBody(strategy_id=strategy.strategy_id, permissions=Permissions(**permissions)), CONFIG,
    ).url.rsplit("/", 1)[1]  # fmt: skip
    accepted = invitations.accept_invitation(store, Audit(store, to), to, token, CONFIG)
    found = store.get_share(accepted.shares[0].share_id)
    assert found is not None
    return found


def test_the_free_plan_shares_nothing(store: FakeStore, strategy: Strategy) -> None:
    store.set_plan(ALICE.user_id, Plan.FREE)
    with pytest.raises(PlanRequired):
        invitations.create_invitation(store, FakeMailer(), Audit(store, ALICE), ALICE,
                                      CreateInvitationBody(strategy_id=strategy.strategy_id), CONFIG)  # fmt: skip
    assert store.invitations == {}
    assert me(store, ALICE, PlanLimits()).limits.sharing is False


def test_subscribing_within_and_past_the_terminal_limit(store: FakeStore, strategy: Strategy) -> None:
    give(store, strategy, terminal_limit=1)
    first, second = terminal(store, BOB), terminal(store, BOB)

    shares.subscribe_shared(store, BOB.user_id, first, strategy.strategy_id, Sizing())
    with pytest.raises(TerminalLimitReached):
        shares.subscribe_shared(store, BOB.user_id, second, strategy.strategy_id, Sizing())

    assert [s.terminal_id for s in store.subscriptions] == [first.terminal_id]
    with pytest.raises(NotFound):
        shares.subscribe_shared(store, CAROL.user_id, terminal(store, CAROL), strategy.strategy_id, Sizing())


class RacingStore(FakeStore):
    """Another request's change lands between this one's read and its commit, once."""

    race: Any = None

    def commit_grant(self, *args: Any, **kwargs: Any) -> None:
        if self.race is not None:
            race, self.race = self.race, None
            race()
        super().commit_grant(*args, **kwargs)

    def put_shared_subscription(self, *args: Any, **kwargs: Any) -> None:
        if self.race is not None:
            race, self.race = self.race, None
            race()
        super().put_shared_subscription(*args, **kwargs)


def test_a_change_that_lost_the_race_is_read_again_and_applied_on_top() -> None:
    store = RacingStore()
    for caller in (ALICE, BOB):
        ensure_user(store, caller)
    store.set_plan(ALICE.user_id, Plan.PRO)
    strategy = Strategy(strategy_id=new_strategy_id(), owner_id=ALICE.user_id, name="M", webhook_token_hash="h",
                        created_at=NOW)  # fmt: skip
    store.put_strategy(strategy)
    given = give(store, strategy, can_pause=True)
    audit = Audit(store, ALICE)
    store.race = lambda: shares.update_share(
        store, audit, ALICE, given.share_id, UpdateShareBody(permissions=Permissions(terminal_limit=3, can_pause=True))
    )

    shares.update_share(store, Audit(store, BOB), BOB, given.share_id, UpdateShareBody(paused=True))

    final = store.get_share(given.share_id)
    assert final is not None and final.paused and final.permissions.terminal_limit == 3  # both changes kept
    grant = store.get_grant(strategy.strategy_id, BOB.user_id)
    assert grant is not None and grant.paused and grant.terminal_limit == 3


def test_two_terminals_subscribing_at_once_stay_within_the_limit() -> None:
    store = RacingStore()
    for caller in (ALICE, BOB):
        ensure_user(store, caller)
    store.set_plan(ALICE.user_id, Plan.PRO)
    strategy = Strategy(strategy_id=new_strategy_id(), owner_id=ALICE.user_id, name="M", webhook_token_hash="h",
                        created_at=NOW)  # fmt: skip
    store.put_strategy(strategy)
    give(store, strategy, terminal_limit=1)
    first, second = terminal(store, BOB), terminal(store, BOB)
    store.race = lambda: shares.subscribe_shared(store, BOB.user_id, first, strategy.strategy_id, Sizing())

    with pytest.raises(TerminalLimitReached):
        shares.subscribe_shared(store, BOB.user_id, second, strategy.strategy_id, Sizing())

    assert [s.terminal_id for s in store.subscriptions] == [first.terminal_id]


def test_the_recipient_pauses_only_with_can_pause_and_never_changes_permissions(
    store: FakeStore, strategy: Strategy
) -> None:
    given = give(store, strategy, can_pause=False)
    with pytest.raises(Forbidden):
        shares.update_share(store, Audit(store, BOB), BOB, given.share_id, UpdateShareBody(paused=True))
    allowed = give(store, strategy, to=CAROL, can_pause=True)
    with pytest.raises(Forbidden):
        shares.update_share(store, Audit(store, CAROL), CAROL, allowed.share_id,
                            UpdateShareBody(permissions=Permissions(terminal_limit=9)))  # fmt: skip
    assert store.get_share(given.share_id) == given and store.get_share(allowed.share_id) == allowed


def test_pausing_withdraws_only_what_is_still_queued(store: FakeStore, strategy: Strategy) -> None:
    given = give(store, strategy)
    mine = terminal(store, BOB)
    shares.subscribe_shared(store, BOB.user_id, mine, strategy.strategy_id, Sizing())
    received = datetime.now(UTC)  # just now (NOW is when the module was imported, maybe minutes ago)
    for signal_id, status in (("sig_1", DeliveryStatus.QUEUED), ("sig_2", DeliveryStatus.PULLED)):
        store.deliveries[(signal_id, mine.terminal_id)] = DeliveryRecord(
            signal_id=signal_id, strategy_id=strategy.strategy_id, terminal_id=mine.terminal_id, status=status,
            received_at=received, queued_at=received,
        )  # fmt: skip

    shares.update_share(store, Audit(store, ALICE), ALICE, given.share_id, UpdateShareBody(paused=True))

    assert [d.status for d in store.deliveries.values()] == [DeliveryStatus.REVOKED, DeliveryStatus.PULLED]
    (subscription,) = store.subscriptions
    assert subscription.paused and not subscription.active(NOW)


def test_revoking_removes_the_recipients_subscriptions(store: FakeStore, strategy: Strategy) -> None:
    given = give(store, strategy, can_delete=False)
    shares.subscribe_shared(store, BOB.user_id, terminal(store, BOB), strategy.strategy_id, Sizing())
    with pytest.raises(Forbidden):
        shares.delete_share(store, Audit(store, BOB), BOB, given.share_id)
    assert len(store.subscriptions) == 1

    shares.delete_share(store, Audit(store, ALICE), ALICE, given.share_id)

    assert store.subscriptions == [] and store.get_grant(strategy.strategy_id, BOB.user_id) is None
    revoked = store.get_share(given.share_id)
    assert revoked is not None and revoked.state == ShareState.REVOKED
    with pytest.raises(Conflict):
        shares.update_share(store, Audit(store, ALICE), ALICE, given.share_id, UpdateShareBody(paused=False))


def test_a_direct_share_survives_revoking_another_share_of_the_same_strategy(
    store: FakeStore, strategy: Strategy
) -> None:
    first = give(store, strategy, terminal_limit=2)
    give(store, strategy, terminal_limit=1)
    a, b = terminal(store, BOB), terminal(store, BOB)
    for mine in (a, b):
        shares.subscribe_shared(store, BOB.user_id, mine, strategy.strategy_id, Sizing())

    shares.delete_share(store, Audit(store, ALICE), ALICE, first.share_id)

    assert [s.terminal_id for s in store.subscriptions] == [a.terminal_id]  # the other share allows one


# ---- invitations -----------------------------------------------------------------------------------


def test_an_email_invitation_is_sent_and_a_failed_send_leaves_no_live_invitation(
    store: FakeStore, strategy: Strategy
) -> None:
    mailer = FakeMailer()
    body = CreateInvitationBody(strategy_id=strategy.strategy_id, email="Bob@Example.com")

    created = invitations.create_invitation(store, mailer, Audit(store, ALICE), ALICE, body, CONFIG)

    ((to, _, text),) = mailer.sent
    assert to == "bob@example.com" and created.url in text and "Momentum" in text
    token = created.url.rsplit("/", 1)[1]
    assert all(token not in repr(i) for i in store.invitations.values())  # only its hash is kept

    with pytest.raises(RuntimeError):
        invitations.create_invitation(store, FakeMailer(fail=True), Audit(store, ALICE), ALICE, body, CONFIG)
    assert sorted(i.revoked for i in store.invitations.values()) == [False, True]


def test_accepting_refuses_in_the_order_a_person_needs(store: FakeStore, strategy: Strategy) -> None:
    def invite(**body: Any) -> str:
        created = invitations.create_invitation(
            store,
            FakeMailer(),
            Audit(store, ALICE),
            ALICE,
            CreateInvitationBody(strategy_id=strategy.strategy_id, **body),
            CONFIG,
        )
        return created.url.rsplit("/", 1)[1]  # fmt: skip

    def accept(caller: Caller, token: str) -> None:
        invitations.accept_invitation(store, Audit(store, caller), caller, token, CONFIG)

    with pytest.raises(Forbidden):
        accept(ALICE, invite())  # own
    with pytest.raises(Forbidden):
        accept(CAROL, invite(email="bob@example.com"))  # another address
    once = invite(max_uses=1)
    accept(BOB, once)
    with pytest.raises(Conflict):
        accept(BOB, once)  # again
    with pytest.raises(InvitationUsedUp):
        accept(CAROL, once)
    revoked = invite()
    invitations.revoke_invitation(store, Audit(store, ALICE), ALICE, revoked.split(".")[0])
    with pytest.raises(InvitationRevoked):
        accept(BOB, revoked)
    stale = invite(expires_at=NOW + timedelta(hours=1))
    record = store.invitations[stale.split(".")[0]]
    store.invitations[record.invitation_id] = record.model_copy(update={"expires_at": NOW - timedelta(seconds=1)})
    with pytest.raises(InvitationExpired):
        accept(BOB, stale)
    with pytest.raises(NotFound):
        accept(BOB, once.split(".")[0] + ".wrong")
    assert len(store.shares) == 1


def test_a_use_is_given_back_when_the_share_cannot_be_made(store: FakeStore, strategy: Strategy) -> None:
    created = invitations.create_invitation(
        store,
        FakeMailer(),
        Audit(store, ALICE),
        ALICE,
        CreateInvitationBody(strategy_id=strategy.strategy_id, max_uses=1),
        CONFIG,
    )
    token = created.url.rsplit("/", 1)[1]  # fmt: skip
    original = store.commit_grant

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("DynamoDB is down")

    store.commit_grant = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        invitations.accept_invitation(store, Audit(store, BOB), BOB, token, CONFIG)
    store.commit_grant = original  # type: ignore[method-assign]

    invitations.accept_invitation(store, Audit(store, BOB), BOB, token, CONFIG)
    assert store.invitations[created.invitation_id].uses == 1 and len(store.shares) == 1


# ---- the audit log ---------------------------------------------------------------------------------


def test_the_audit_log_is_read_per_user_newest_first_within_retention(store: FakeStore, strategy: Strategy) -> None:
    audit = Audit(store, ALICE)
    for n in range(3):
        audit.record("strategy.token_rotated", "strategy", strategy.strategy_id, owner_id=ALICE.user_id,
                     at=NOW - timedelta(days=n * 40))  # fmt: skip

    page = read_audit(store, ALICE, AuditQuery(limit=50))

    assert [e.at for e in page.items] == [NOW - timedelta(days=n * 40) for n in range(3)]  # 90 days by default
    assert read_audit(store, BOB, AuditQuery()).items == []
    store.put_settings(Settings(audit_retention_days=30))
    assert [e.at for e in read_audit(store, ALICE, AuditQuery()).items] == [NOW]


def test_a_switched_off_audit_log_records_nothing(store: FakeStore) -> None:
    store.put_settings(Settings(audit_enabled=False))
    Audit(store, ALICE).record("strategy.created", "strategy", "stg_x", owner_id=ALICE.user_id)
    assert store.audit == []


# ---- bundles ---------------------------------------------------------------------------------------


class JoinRacingStore(FakeStore):
    """The owner removes a strategy from the bundle right after a joining member was added."""

    race: Any = None

    def get_bundle(self, bundle_id: str) -> Any:
        found = super().get_bundle(bundle_id)
        if self.race is not None and self.members:
            race, self.race = self.race, None
            race()
        return found


def test_a_strategy_removed_while_a_member_joins_is_taken_back() -> None:
    from quantlink.sharing import bundles
    from quantlink.sharing.records import BundleMember, CreateBundleBody

    store = JoinRacingStore()
    for caller in (ALICE, BOB):
        ensure_user(store, caller)
    store.set_plan(ALICE.user_id, Plan.PRO)
    kept, removed = (Strategy(strategy_id=new_strategy_id(), owner_id=ALICE.user_id, name=n, webhook_token_hash="h",
                              created_at=NOW) for n in ("kept", "removed"))  # fmt: skip
    for strategy in (kept, removed):
        store.put_strategy(strategy)
    view = bundles.create_bundle(store, Audit(store, ALICE), ALICE,
                                 CreateBundleBody(name="b", strategy_ids=[kept.strategy_id, removed.strategy_id]),
                                 PlanLimits())  # fmt: skip
    bundle = store.bundles[view.bundle_id]
    store.race = lambda: bundles.remove_strategy(store, Audit(store, ALICE), ALICE, view.bundle_id,
                                                 removed.strategy_id)  # fmt: skip

    made = bundles.join(
        store,
        Audit(store, BOB),
        bundle,
        BundleMember(bundle_id=bundle.bundle_id, user_id=BOB.user_id, email=BOB.email, joined_at=NOW),
    )

    assert [s.strategy_id for s in made] == [kept.strategy_id]
    assert store.get_grant(removed.strategy_id, BOB.user_id) is None
    assert store.get_grant(kept.strategy_id, BOB.user_id) is not None


# ---- expiry ----------------------------------------------------------------------------------------


def test_expire_due_ends_shares_and_invitations_whose_time_passed(store: FakeStore, strategy: Strategy) -> None:
    from quantlink.sharing.expiry import expire_due

    ending = give(store, strategy)
    shares.update_share(store, Audit(store, ALICE), ALICE, ending.share_id,
                        UpdateShareBody(expires_at=NOW + timedelta(hours=1)))  # fmt: skip
    lasting = give(store, strategy, to=CAROL)
    shares.subscribe_shared(store, BOB.user_id, terminal(store, BOB), strategy.strategy_id, Sizing())
    link = invitations.create_invitation(store, FakeMailer(), Audit(store, ALICE), ALICE,
                                         CreateInvitationBody(strategy_id=strategy.strategy_id,
                                                              expires_at=NOW + timedelta(hours=2)), CONFIG)  # fmt: skip

    early = expire_due(store, NOW + timedelta(minutes=30))
    assert (early.shares, early.invitations) == (0, 0)
    first = expire_due(store, NOW + timedelta(hours=3))
    again = expire_due(store, NOW + timedelta(hours=3))

    assert (first.shares, first.invitations) == (1, 1) and (again.shares, again.invitations) == (0, 0)
    expired = store.get_share(ending.share_id)
    assert expired is not None and expired.state == ShareState.EXPIRED
    assert store.get_share(lasting.share_id) == lasting
    assert [s for s in store.subscriptions if s.owner_id == BOB.user_id] == []
    assert store.invitations[link.invitation_id].expired
    actions = sorted({e.audit_id: e.action for _, _, e in store.audit if e.actor.user_id == "system"}.values())
    assert actions == ["invitation.expired", "share.expired"]


def test_expiry_warnings_go_out_once_per_share_with_one_owner_digest(store: FakeStore, strategy: Strategy) -> None:
    from quantlink.sharing.expiry import send_expiry_warnings

    for who, days in ((BOB, 5), (CAROL, 20)):
        given = give(store, strategy, to=who)
        shares.update_share(store, Audit(store, ALICE), ALICE, given.share_id,
                            UpdateShareBody(expires_at=NOW + timedelta(days=days)))  # fmt: skip
    mailer = FakeMailer()

    assert send_expiry_warnings(store, mailer, NOW) == 1
    assert send_expiry_warnings(store, mailer, NOW + timedelta(hours=1)) == 0  # run again: nothing twice
    assert [to for to, _, _ in mailer.sent] == ["bob@example.com", "alice@example.com"]
    assert "in a week" in mailer.sent[0][1] and "bob@example.com" in mailer.sent[1][2]

    assert send_expiry_warnings(store, mailer, NOW + timedelta(days=4, hours=1)) == 1  # the 1-day warning
    assert "tomorrow" in mailer.sent[2][1]


def test_the_plan_limits_recipients_per_strategy_and_shares(store: FakeStore, strategy: Strategy) -> None:
    tight = InvitationConfig(web_url="https://app.example", limits=PlanLimits(shares=5, recipients_per_strategy=1))
    token = invitations.create_invitation(
        store, FakeMailer(), Audit(store, ALICE), ALICE, CreateInvitationBody(strategy_id=strategy.strategy_id), tight
    )
    link = token.url.rsplit("/", 1)[1]  # fmt: skip
    invitations.accept_invitation(store, Audit(store, BOB), BOB, link, tight)

    with pytest.raises(PlanRequired):
        invitations.accept_invitation(store, Audit(store, CAROL), CAROL, link, tight)

    none_left = InvitationConfig(web_url="https://app.example", limits=PlanLimits(shares=1))
    other = Strategy(strategy_id=new_strategy_id(), owner_id=ALICE.user_id, name="Other", webhook_token_hash="h",
                     created_at=NOW)  # fmt: skip
    store.put_strategy(other)
    second = invitations.create_invitation(
        store, FakeMailer(), Audit(store, ALICE), ALICE, CreateInvitationBody(strategy_id=other.strategy_id), none_left
    )
    with pytest.raises(PlanRequired):
        invitations.accept_invitation(store, Audit(store, CAROL), CAROL, second.url.rsplit("/", 1)[1], none_left)
    assert len(store.shares) == 1  # fmt: skip


def test_expiry_warnings_also_reach_the_robots_of_the_terminals_that_follow_the_strategy(
    store: FakeStore, strategy: Strategy
) -> None:
    from quantlink.sharing.expiry import send_expiry_warnings

    given = give(store, strategy)
    following, elsewhere = terminal(store, BOB), terminal(store, BOB)
    shares.subscribe_shared(store, BOB.user_id, following, strategy.strategy_id, Sizing())
    wecom = {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
    store.put_drift_settings(following.terminal_id, {"robots": [wecom]})
    store.put_drift_settings(elsewhere.terminal_id, {"robots": [{**wecom, "url": wecom["url"] + "2"}]})  # no follow
    shares.update_share(store, Audit(store, ALICE), ALICE, given.share_id,
                        UpdateShareBody(expires_at=NOW + timedelta(days=5)))  # fmt: skip
    posts: list[tuple[str, bytes]] = []

    assert send_expiry_warnings(store, FakeMailer(), NOW, post=lambda url, body: posts.append((url, body))) == 1

    assert [url for url, _ in posts] == [wecom["url"]]  # bob's following terminal; alice has no terminal of it
    assert "in a week" in posts[0][1].decode()
