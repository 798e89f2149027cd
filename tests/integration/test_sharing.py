"""Sharing over the owner API under moto (API.md "Sharing"): users and plans, invitations by email and
link with every edge case, shares with each permission and transition (the forbidden ones answer their
API.md code and change nothing), what reaches the hot path at once, and the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quantlink.timeutil import iso
from tests.integration.conftest import WEB_URL, QuantLink, StrategyCreds
from tests.integration.sharing_driver import ADMIN, Sharing


@pytest.fixture
def sh(ql: QuantLink) -> Sharing:
    sharing = Sharing(ql)
    sharing.make_pro("alice")
    return sharing


def later(**delta: float) -> str:
    return iso(datetime.now(UTC) + timedelta(**delta))


def state(ql: QuantLink) -> str:
    """Everything in the table, to prove a refused request changed nothing (users aside: every signed-in
    call may create its caller's record)."""
    return json.dumps([i for i in ql.stack.items() if not i["pk"].startswith(("USER#", "AUDIT#"))], default=str)


# ---- users and plans --------------------------------------------------------------------------------


def test_me_creates_the_user_on_first_sign_in_on_the_free_plan(ql: QuantLink) -> None:
    sharing = Sharing(ql)
    me = sharing.me("bob")

    assert me == {
        "userId": sharing.user_id("bob"),
        "email": "bob@example.com",
        "plan": "free",
        "admin": False,
        "limits": {"sharing": False, "shares": 0, "recipientsPerStrategy": 0, "bundles": 0, "groups": 0},
    }
    assert ql.stack.item(f"USER#{sharing.user_id('bob')}", "#META")["plan"] == "free"


def test_an_admin_starts_on_pro_and_sets_plans(ql: QuantLink) -> None:
    sharing = Sharing(ql)
    admin = sharing.me(ADMIN)
    assert (admin["plan"], admin["admin"], admin["limits"]["sharing"]) == ("pro", True, True)
    sharing.me("bob")

    reply = sharing.call("owner_api/set_plan", ADMIN, path_params={"userId": sharing.user_id("bob")},
                         body={"plan": "pro"})  # fmt: skip

    assert reply.status == 200 and reply.body["plan"] == "pro"
    assert sharing.me("bob")["limits"]["recipientsPerStrategy"] == 100
    users = sharing.call("owner_api/list_users", ADMIN).body["items"]
    assert {u["email"]: u["plan"] for u in users} == {"bob@example.com": "pro", f"{ADMIN}@example.com": "pro"}
    (entry,) = sharing.audit(ADMIN, action="plan.changed")["items"]
    assert (entry["before"], entry["after"], entry["target"]) == (
        {"plan": "free"}, {"plan": "pro"}, {"kind": "user", "id": sharing.user_id("bob")},
    )  # fmt: skip


def test_only_admins_set_plans_and_settings(ql: QuantLink) -> None:
    sharing = Sharing(ql)
    sharing.me("bob")
    for sample, extra in (
        ("owner_api/set_plan", {"path_params": {"userId": sharing.user_id("bob")}, "body": {"plan": "pro"}}),
        ("owner_api/put_admin_settings", {"body": {"auditEnabled": False}}),
        ("owner_api/get_admin_settings", {}),
        ("owner_api/list_users", {}),
    ):
        reply = sharing.call(sample, "bob", **extra)
        assert (reply.status, reply.error_code()) == (403, "FORBIDDEN"), sample
    assert sharing.me("bob")["plan"] == "free"


def test_the_free_plan_cannot_share(ql: QuantLink) -> None:
    sharing = Sharing(ql)
    strategy = ql.create_strategy("bob")
    before = state(ql)

    for email in (None, "carol@example.com"):
        reply = sharing.invite("bob", strategy, email=email)
        assert (reply.status, reply.error_code()) == (403, "PLAN_REQUIRED")

    assert state(ql) == before and sharing.sent_emails() == []


# ---- invitations -----------------------------------------------------------------------------------


def test_an_email_invitation_is_sent_bound_to_the_address_and_stores_only_the_tokens_hash(
    ql: QuantLink, sh: Sharing
) -> None:
    strategy = ql.create_strategy("alice", name="Momentum")

    reply = sh.invite("alice", strategy, email="Bob@Example.com", permissions={"canPause": True, "terminalLimit": 2})

    assert reply.status == 201, reply.text
    created = reply.body
    assert (created["kind"], created["status"]) == ("email", "pending")
    assert created["url"].startswith(f"{WEB_URL}/#/invitations/inv_")
    token = created["url"].rsplit("/", 1)[1]
    expires = datetime.fromisoformat(created["expiresAt"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    (email,) = sh.sent_emails()
    assert email.destinations["ToAddresses"] == ["bob@example.com"]
    assert created["url"] in email.body and "Momentum" in email.body
    assert token not in json.dumps(ql.stack.items(), default=str)  # only its hash is stored

    preview = sh.call("owner_api/inspect_invitation", "bob", body={"token": token}).body
    assert preview["owner"] == {"email": "alice@example.com"}
    assert preview["strategies"] == [{"strategyId": strategy.strategy_id, "name": "Momentum"}]
    assert (preview["bundle"], preview["status"]) == (None, "pending")
    assert preview["permissions"] == {"canPause": True, "canDelete": False, "terminalLimit": 2}

    reply = sh.call("owner_api/accept_invitation", "carol", body={"token": token})
    assert (reply.status, reply.error_code()) == (403, "FORBIDDEN")  # another address

    reply = sh.accept("bob", token)
    assert reply.status == 200, reply.text
    (share,) = reply.body["shares"]
    assert share["strategyName"] == "Momentum" and share["status"] == "active" and share["via"] == "direct"
    assert share["owner"] == {"userId": sh.user_id("alice"), "email": "alice@example.com"}
    assert share["recipient"] == {"userId": sh.user_id("bob"), "email": "bob@example.com"}

    reply = sh.accept("bob", token)
    assert (reply.status, reply.error_code()) == (409, "CONFLICT")  # accepted again
    listed = sh.call("owner_api/list_invitations", "alice").body["items"]
    assert [(i["status"], i["uses"]) for i in listed] == [("accepted", 1)]


def test_accepting_an_own_invitation_is_forbidden(ql: QuantLink, sh: Sharing) -> None:
    token = sh.token("alice", ql.create_strategy("alice"))
    before = state(ql)

    reply = sh.accept("alice", token)

    assert (reply.status, reply.error_code()) == (403, "FORBIDDEN")
    assert state(ql) == before


def test_a_one_use_link_is_used_up_by_the_first_to_accept(ql: QuantLink, sh: Sharing) -> None:
    token = sh.token("alice", ql.create_strategy("alice"), maxUses=1)
    assert sh.accept("bob", token).status == 200
    before = state(ql)

    reply = sh.accept("carol", token)

    assert (reply.status, reply.error_code()) == (410, "INVITATION_USED_UP")
    assert state(ql) == before
    assert [s["recipient"]["email"] for s in sh.shares("alice", "owner")] == ["bob@example.com"]


def test_a_revoked_invitation_cannot_be_accepted_and_its_shares_stay(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    reply = sh.invite("alice", strategy)
    invitation_id, token = reply.body["invitationId"], reply.body["url"].rsplit("/", 1)[1]
    assert sh.accept("bob", token).status == 200

    assert sh.call("owner_api/revoke_invitation", "alice", path_params={"invitationId": invitation_id}).status == 204
    reply = sh.accept("carol", token)

    assert (reply.status, reply.error_code()) == (410, "INVITATION_REVOKED")
    assert [s["status"] for s in sh.shares("bob", "recipient")] == ["active"]
    assert sh.call("owner_api/list_invitations", "alice").body["items"][0]["status"] == "revoked"


def test_an_expired_link_cannot_be_accepted(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    token = sh.token("alice", strategy, expiresAt=later(seconds=1))
    ql.stack.dynamodb.update_item(  # its time passes (what a clock would do)
        TableName=ql.stack.table_name, Key={"pk": {"S": f"INVITATION#{token.split('.')[0]}"}, "sk": {"S": "#META"}},
        UpdateExpression="SET expiresAt = :past", ExpressionAttributeValues={":past": {"S": later(seconds=-1)}},
    )  # fmt: skip
    before = state(ql)

    reply = sh.accept("bob", token)

    assert (reply.status, reply.error_code()) == (410, "INVITATION_EXPIRED")
    assert state(ql) == before


def test_unknown_tokens_and_another_owners_invitation_are_not_found(ql: QuantLink, sh: Sharing) -> None:
    reply = sh.invite("alice", ql.create_strategy("alice"))
    invitation_id, token = reply.body["invitationId"], reply.body["url"].rsplit("/", 1)[1]
    forged = token.split(".")[0] + ".not-the-secret"

    for body in ({"token": forged}, {"token": "inv_nope.x"}, {"token": "garbage"}):
        for sample in ("owner_api/inspect_invitation", "owner_api/accept_invitation"):
            reply = sh.call(sample, "bob", body=body)
            assert (reply.status, reply.error_code()) == (404, "NOT_FOUND"), (sample, body)
    reply = sh.call("owner_api/revoke_invitation", "bob", path_params={"invitationId": invitation_id})
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert sh.call("owner_api/list_invitations", "bob").body["items"] == []


def test_inviting_to_another_owners_strategy_is_not_found(ql: QuantLink, sh: Sharing) -> None:
    reply = sh.invite("alice", ql.create_strategy("bob"))
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"strategyId": "stg_x", "bundleId": "sg_x"},
        {"strategyId": "stg_x", "email": "not-an-address"},
        {"strategyId": "stg_x", "email": "a@b.co", "maxUses": 2},
        {"strategyId": "stg_x", "permissions": {"terminalLimit": 0}},
        {"strategyId": "stg_x", "permissions": {"terminalLimit": 101}},
        {"strategyId": "stg_x", "permissions": {"canPause": "yes"}},
        {"strategyId": "stg_x", "expiresAt": "2027-01-01T00:00:00"},
        {"strategyId": "stg_x", "shareExpiresAt": "0001-01-01T00:00:00+14:00"},
        {"strategyId": "stg_x", "expiresAt": "9999-12-31T23:59:59-14:00"},
        {"strategyId": "stg_x", "surprise": 1},
    ],
)
def test_a_bad_invitation_body_is_a_validation_error(ql: QuantLink, sh: Sharing, body: dict[str, Any]) -> None:
    reply = sh.call("owner_api/create_invitation", "alice", body=body)
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")
    assert "details" in reply.body


# ---- shares: permissions and transitions --------------------------------------------------------


def _received(ql: QuantLink, strategy: StrategyCreds, terminal: Any) -> list[str]:
    """Send one signal; the strategy ids the terminal pulls (and acks)."""
    ql.send_signal(strategy, seq=int(datetime.now(UTC).timestamp() * 1e6) % 10**9)
    pulled = ql.pulled(terminal)
    if pulled:
        ql.ack(terminal, [ql.executed(s) for s in pulled])
    return [s["strategyId"] for s in pulled]


def test_a_recipient_receives_the_shared_strategy_on_its_terminal(ql: QuantLink, sh: Sharing) -> None:
    strategy, (own,) = ql.linked("alice")
    sh.share("alice", "bob", strategy)
    theirs = ql.register_terminal("bob")

    assert sh.subscribe(theirs, strategy).status == 200
    ql.send_signal(strategy)

    assert [s["strategyId"] for s in ql.pulled(theirs)] == [strategy.strategy_id]
    assert len(ql.pulled(own)) == 1


def test_subscribing_past_the_terminal_limit_is_refused(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    sh.share("alice", "bob", strategy, permissions={"terminalLimit": 1})
    first, second = ql.register_terminal("bob", "PC 1"), ql.register_terminal("bob", "PC 2")
    assert sh.subscribe(first, strategy).status == 200
    before = state(ql)

    reply = sh.subscribe(second, strategy)

    assert (reply.status, reply.error_code()) == (409, "TERMINAL_LIMIT_REACHED")
    assert state(ql) == before
    assert sh.subscribe(first, strategy).status == 200  # the same terminal again is no new one


def test_subscribing_without_a_share_is_not_found(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    reply = sh.subscribe(ql.register_terminal("bob"), strategy)
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")


def test_a_recipient_without_can_pause_cannot_pause(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canPause": False})
    before = state(ql)

    reply = sh.patch("bob", share["shareId"], {"paused": True})

    assert (reply.status, reply.error_code()) == (403, "FORBIDDEN")
    assert state(ql) == before


def test_a_recipient_never_changes_permissions_or_expiry(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canPause": True, "canDelete": True})
    before = state(ql)

    for body in ({"permissions": {"terminalLimit": 5}}, {"expiresAt": later(days=30)},
                 {"paused": True, "permissions": {"terminalLimit": 5}}):  # fmt: skip
        reply = sh.patch("bob", share["shareId"], body)
        assert (reply.status, reply.error_code()) == (403, "FORBIDDEN"), body

    assert state(ql) == before


def test_a_recipient_with_can_pause_pauses_and_resumes_at_once(ql: QuantLink, sh: Sharing) -> None:
    strategy, (own,) = ql.linked("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canPause": True})
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200

    reply = sh.patch("bob", share["shareId"], {"paused": True})
    assert reply.status == 200 and (reply.body["paused"], reply.body["status"]) == (True, "paused")
    assert _received(ql, strategy, theirs) == []
    assert len(ql.pulled(own)) == 1  # the owner's own terminal is not affected

    assert sh.patch("bob", share["shareId"], {"paused": False}).body["status"] == "active"
    assert _received(ql, strategy, theirs) == [strategy.strategy_id]
    actions = [e["action"] for e in sh.audit("alice", strategyId=strategy.strategy_id)["items"]]
    assert actions[:2] == ["share.resumed", "share.paused"]


def test_pausing_withdraws_what_the_recipient_has_not_pulled_yet(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy)
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200
    signal = ql.send_signal(strategy)  # queued for bob's terminal

    assert sh.patch("alice", share["shareId"], {"paused": True}).status == 200

    assert ql.pulled(theirs) == []  # the queued copy is dropped at pull, never delivered
    (entry,) = ql.timeline(strategy)
    assert entry["signalId"] == signal["signalId"] and entry["status"] == "REVOKED"
    assert [d["status"] for d in entry["deliveries"]] == ["REVOKED"]


def test_a_share_past_its_expiry_delivers_nothing_before_any_sweep(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy)
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200

    reply = sh.patch("alice", share["shareId"], {"expiresAt": later(seconds=-1)})

    assert reply.status == 200 and reply.body["status"] == "expired"
    assert _received(ql, strategy, theirs) == []
    reply = sh.subscribe(ql.register_terminal("bob", "another"), strategy)
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")


def test_the_owner_revokes_and_the_recipient_stops_at_once(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy)
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200

    assert sh.delete("alice", share["shareId"]).status == 204

    assert _received(ql, strategy, theirs) == []
    assert ql.terminal_view(theirs)["subscriptions"] == []
    assert [s["status"] for s in sh.shares("bob", "recipient")] == ["revoked"]
    reply = sh.patch("alice", share["shareId"], {"paused": False})
    assert (reply.status, reply.error_code()) == (409, "CONFLICT")  # a revoked share is final
    assert sh.delete("alice", share["shareId"]).status == 204  # again: harmless


def test_a_recipient_without_can_delete_cannot_remove_the_share(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canDelete": False})
    before = state(ql)

    reply = sh.delete("bob", share["shareId"])

    assert (reply.status, reply.error_code()) == (403, "FORBIDDEN")
    assert state(ql) == before


def test_a_recipient_with_can_delete_removes_the_share(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canDelete": True})
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200

    assert sh.delete("bob", share["shareId"]).status == 204

    assert _received(ql, strategy, theirs) == []
    (entry,) = sh.audit("alice", action="share.removed")["items"]
    assert entry["actor"]["email"] == "bob@example.com" and entry["target"]["id"] == share["shareId"]


def test_lowering_the_terminal_limit_drops_the_terminals_past_it(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"terminalLimit": 2})
    first, second = ql.register_terminal("bob", "PC 1"), ql.register_terminal("bob", "PC 2")
    assert sh.subscribe(first, strategy).status == 200 and sh.subscribe(second, strategy).status == 200

    assert sh.patch("alice", share["shareId"], {"permissions": {"terminalLimit": 1}}).status == 200

    assert _received(ql, strategy, first) == [strategy.strategy_id]
    assert ql.pulled(second) == [] and ql.terminal_view(second)["subscriptions"] == []


def test_another_owners_share_is_not_found(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    share = sh.share("alice", "bob", strategy, permissions={"canPause": True, "canDelete": True})
    before = state(ql)

    for reply in (sh.patch("carol", share["shareId"], {"paused": True}), sh.delete("carol", share["shareId"]),
                  sh.patch("carol", "shr_nope", {"paused": True})):  # fmt: skip
        assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")

    assert state(ql) == before
    assert sh.shares("carol", "owner") == [] and sh.shares("carol", "recipient") == []


def test_shares_list_by_side(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice", name="Momentum")
    share = sh.share("alice", "bob", strategy)

    assert [s["shareId"] for s in sh.shares("alice", "owner")] == [share["shareId"]]
    assert sh.shares("alice", "recipient") == []
    assert [s["strategyName"] for s in sh.shares("bob", "recipient")] == ["Momentum"]
    reply = sh.call("owner_api/list_shares", "bob", query={"as": "both"})
    assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR")


def test_deleting_a_strategy_ends_its_shares(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    sh.share("alice", "bob", strategy)
    theirs = ql.register_terminal("bob")
    assert sh.subscribe(theirs, strategy).status == 200

    reply = ql.owner_call("owner_api/delete_strategy", "alice", path_params={"strategyId": strategy.strategy_id})

    assert reply.status == 204
    assert sh.shares("bob", "recipient") == [] and sh.shares("alice", "owner") == []
    assert ql.terminal_view(theirs)["subscriptions"] == []
    assert not [i for i in ql.stack.items() if i["sk"].startswith(("SHARE#", "GRANT#"))]


# ---- the kill switch and the audit log ------------------------------------------------------------


def test_the_kill_switch_and_every_owner_action_are_audited(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    terminal = ql.register_terminal("alice")
    path = {"strategyId": strategy.strategy_id}
    ql.owner_call("owner_api/update_strategy", "alice", path_params=path, body={"paused": True, "name": "v2"})
    ql.owner_call("owner_api/update_strategy", "alice", path_params=path, body={"paused": False})
    ql.owner_call("owner_api/rotate_token", "alice", path_params=path)
    ql.owner_call("owner_api/rotate_terminal_token", "alice", path_params={"terminalId": terminal.terminal_id})
    ql.owner_call("owner_api/release_device", "alice", path_params={"terminalId": terminal.terminal_id})
    ql.owner_call("owner_api/delete_strategy", "alice", path_params=path)

    page = sh.audit("alice")

    assert [e["action"] for e in page["items"]] == [
        "strategy.deleted", "terminal.device_released", "terminal.token_rotated", "strategy.token_rotated",
        "strategy.resumed", "strategy.paused", "strategy.renamed", "terminal.registered", "strategy.created",
        "plan.changed",  # the admin made alice pro (the fixture): an entry about her
    ]  # fmt: skip
    paused = page["items"][5]
    assert (paused["before"], paused["after"], paused["strategyId"]) == (
        {"paused": False}, {"paused": True}, strategy.strategy_id,
    )  # fmt: skip
    assert paused["actor"] == {"userId": sh.user_id("alice"), "email": "alice@example.com"}
    assert paused["sourceIp"] == "203.0.113.17" and paused["requestId"]
    assert sh.audit("bob")["items"] == []  # another owner sees none of it
    assert len(sh.audit(ADMIN, strategyId=strategy.strategy_id)["items"]) == 6  # an admin sees all


def test_the_audit_log_filters_and_pages_newest_first(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    for _ in range(5):
        ql.owner_call("owner_api/rotate_token", "alice", path_params={"strategyId": strategy.strategy_id})

    first = sh.audit("alice", action="strategy.token_rotated", limit="2")
    second = sh.audit("alice", action="strategy.token_rotated", limit="2", cursor=first["nextCursor"])
    third = sh.audit("alice", action="strategy.token_rotated", limit="2", cursor=second["nextCursor"])

    ids = [e["auditId"] for page in (first, second, third) for e in page["items"]]
    assert len(ids) == 5 == len(set(ids))
    times = [e["at"] for page in (first, second, third) for e in page["items"]]
    assert times == sorted(times, reverse=True)
    assert [e["action"] for e in sh.audit("alice", action="strategy")["items"]][-1] == "strategy.created"
    assert sh.audit("alice", since=later(minutes=1))["items"] == []
    assert sh.audit("alice", actor="alice@example.com", limit="1")["items"][0]["action"] == "strategy.token_rotated"
    for bad in ({"cursor": "nonsense"}, {"since": "yesterday"}, {"limit": "0"}):
        reply = sh.call("owner_api/audit", "alice", query=bad)
        assert (reply.status, reply.error_code()) == (400, "VALIDATION_ERROR"), bad


def test_the_admin_switches_the_audit_log_and_its_retention(ql: QuantLink, sh: Sharing) -> None:
    reply = sh.call("owner_api/put_admin_settings", ADMIN, body={"auditEnabled": False, "auditRetentionDays": 30})
    assert reply.status == 200 and reply.body == {"auditEnabled": False, "auditRetentionDays": 30}
    assert sh.call("owner_api/get_admin_settings", ADMIN).body == reply.body

    ql.create_strategy("alice")
    assert sh.audit("alice", action="strategy")["items"] == []  # off: nothing recorded

    sh.call("owner_api/put_admin_settings", ADMIN, body={"auditEnabled": True})
    ql.create_strategy("alice")
    (entry,) = sh.audit("alice", action="strategy")["items"]
    stored = next(i for i in ql.stack.items() if i["pk"].startswith("AUDIT#") and i["auditId"] == entry["auditId"])
    assert 29 * 86400 < stored["ttl"] - datetime.now(UTC).timestamp() <= 30 * 86400
    assert [e["action"] for e in sh.audit(ADMIN, action="admin")["items"]] == ["admin.settings_changed"] * 2

    # DynamoDB deletes TTL'd items late (moto never): reads skip entries past retention themselves.
    sh.call("owner_api/put_admin_settings", ADMIN, body={"auditRetentionDays": 1})
    old = dict(stored, at=iso(datetime.now(UTC) - timedelta(days=2)), auditId="aud_old")
    old["sk"] = f"AT#{old['at']}#aud_old"
    from quantlink.dal.codec import value

    ql.stack.dynamodb.put_item(TableName=ql.stack.table_name, Item={k: value(v) for k, v in old.items()})
    assert "aud_old" not in [e["auditId"] for e in sh.audit("alice")["items"]]
