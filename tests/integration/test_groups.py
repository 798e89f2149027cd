"""Groups over the owner API under moto: members present and future get what is shared to the group (a
strategy or a bundle, which it then follows); removing a member or a group share takes away exactly what
came through the group; an unknown address is invited by email and joins on accepting."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import QuantLink, StrategyCreds
from tests.integration.sharing_driver import Sharing
from tests.integration.test_bundles import bundle, receives
from tests.integration.test_sharing import state


@pytest.fixture
def sh(ql: QuantLink) -> Sharing:
    sharing = Sharing(ql)
    sharing.make_pro("alice")
    return sharing


def group(sh: Sharing) -> str:
    reply = sh.call("owner_api/create_group", "alice", body={"name": "friends"})
    assert reply.status == 201 and reply.body["groupId"].startswith("grp_"), reply.text
    assert (reply.body["members"], reply.body["shares"]) == ([], [])
    group_id: str = reply.body["groupId"]
    return group_id


def add(sh: Sharing, group_id: str, who: str) -> dict[str, Any]:
    sh.me(who)  # signed in once: a user
    reply = sh.call("owner_api/add_group_member", "alice", path_params={"groupId": group_id},
                    body={"email": f"{who}@example.com"})  # fmt: skip
    assert reply.status == 200, reply.text
    view: dict[str, Any] = reply.body
    return view


def share_to(sh: Sharing, group_id: str, **target: Any) -> str:
    reply = sh.call("owner_api/create_group_share", "alice", path_params={"groupId": group_id}, body=target)
    assert reply.status == 201, reply.text
    group_share_id: str = reply.body["groupShareId"]
    return group_share_id


def on(strategy: StrategyCreds) -> dict[str, str]:
    return {"strategyId": strategy.strategy_id}


def test_present_and_future_members_get_what_is_shared_to_the_group(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    add(sh, group_id, "bob")

    share_to(sh, group_id, **on(strategy))
    view = add(sh, group_id, "carol")  # joins later: gets it at once

    assert sorted(m["email"] for m in view["members"]) == ["bob@example.com", "carol@example.com"]
    for who in ("bob", "carol"):
        (share,) = sh.shares(who, "recipient")
        assert (share["via"], share["viaId"], share["status"]) == ("group", group_id, "active")
        terminal = ql.register_terminal(who)
        assert sh.subscribe(terminal, strategy).status == 200
        assert receives(ql, strategy, terminal)


def test_removing_a_member_keeps_its_direct_share(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    add(sh, group_id, "bob")
    share_to(sh, group_id, **on(strategy))
    sh.share("alice", "bob", strategy)
    terminal = ql.register_terminal("bob")
    assert sh.subscribe(terminal, strategy).status == 200

    reply = sh.call("owner_api/remove_group_member", "alice",
                    path_params={"groupId": group_id, "userId": sh.user_id("bob")})  # fmt: skip

    assert reply.status == 204
    assert {s["via"]: s["status"] for s in sh.shares("bob", "recipient")} == {"group": "revoked", "direct": "active"}
    assert receives(ql, strategy, terminal)


def test_removing_a_group_share_takes_it_from_every_member(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    add(sh, group_id, "bob")
    group_share_id = share_to(sh, group_id, **on(strategy))
    terminal = ql.register_terminal("bob")
    assert sh.subscribe(terminal, strategy).status == 200

    reply = sh.call("owner_api/remove_group_share", "alice",
                    path_params={"groupId": group_id, "groupShareId": group_share_id})  # fmt: skip

    assert reply.status == 204
    assert not receives(ql, strategy, terminal)
    assert sh.call("owner_api/get_group", "alice", path_params={"groupId": group_id}).body["shares"] == []
    add(sh, group_id, "carol")
    assert sh.shares("carol", "recipient") == []  # a later member does not get it either


def test_a_bundle_shared_to_a_group_follows_the_bundle(ql: QuantLink, sh: Sharing) -> None:
    one, added = ql.create_strategy("alice"), ql.create_strategy("alice")
    created = bundle(sh, one)
    group_id = group(sh)
    add(sh, group_id, "bob")
    share_to(sh, group_id, bundleId=created["bundleId"])
    terminal = ql.register_terminal("bob")

    sh.call("owner_api/add_bundle_strategy", "alice",
            path_params={"bundleId": created["bundleId"], "strategyId": added.strategy_id})  # fmt: skip
    assert sh.subscribe(terminal, added).status == 200
    assert receives(ql, added, terminal)

    sh.call("owner_api/remove_bundle_strategy", "alice",
            path_params={"bundleId": created["bundleId"], "strategyId": added.strategy_id})  # fmt: skip
    assert not receives(ql, added, terminal)
    assert {s["strategyId"] for s in sh.shares("bob", "recipient") if s["status"] == "active"} == {one.strategy_id}


def test_an_unknown_address_is_invited_and_joins_on_accepting(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    share_to(sh, group_id, **on(strategy))

    reply = sh.call("owner_api/add_group_member", "alice", path_params={"groupId": group_id},
                    body={"email": "dave@example.com"})  # fmt: skip

    assert reply.status == 200 and reply.body["members"] == [] and reply.body["invited"] == ["dave@example.com"]
    (email,) = sh.sent_emails()
    assert email.destinations["ToAddresses"] == ["dave@example.com"]
    token = email.body.split("/#/invitations/")[1].split()[0]
    accepted = sh.accept("dave", token)
    assert accepted.status == 200, accepted.text
    assert [s["strategyId"] for s in accepted.body["shares"]] == [strategy.strategy_id]
    view = sh.call("owner_api/get_group", "alice", path_params={"groupId": group_id}).body
    assert [m["email"] for m in view["members"]] == ["dave@example.com"] and view["invited"] == []


def test_deleting_a_group_ends_what_came_through_it(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    add(sh, group_id, "bob")
    share_to(sh, group_id, **on(strategy))

    assert sh.call("owner_api/delete_group", "alice", path_params={"groupId": group_id}).status == 204

    assert {s["status"] for s in sh.shares("bob", "recipient")} == {"revoked"}
    reply = sh.call("owner_api/get_group", "alice", path_params={"groupId": group_id})
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    actions = [e["action"] for e in sh.audit("alice", action="group")["items"]]
    assert actions == ["group.deleted", "group.share_created", "group.member_added", "group.created"]


def test_another_owners_group_is_not_found_and_unchanged(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    group_id = group(sh)
    add(sh, group_id, "bob")
    group_share_id = share_to(sh, group_id, **on(strategy))
    sh.make_pro("carol")
    before = state(ql)

    for sample, extra, body in (
        ("owner_api/get_group", {}, None),
        ("owner_api/delete_group", {}, None),
        ("owner_api/add_group_member", {}, {"email": "carol@example.com"}),
        ("owner_api/remove_group_member", {"userId": sh.user_id("bob")}, None),
        ("owner_api/create_group_share", {}, {"strategyId": strategy.strategy_id}),
        ("owner_api/remove_group_share", {"groupShareId": group_share_id}, None),
    ):
        reply = sh.call(sample, "carol", path_params={"groupId": group_id, **extra}, body=body)
        assert (reply.status, reply.error_code()) == (404, "NOT_FOUND"), sample
    assert state(ql) == before


def test_groups_need_a_paid_plan(ql: QuantLink, sh: Sharing) -> None:
    reply = sh.call("owner_api/create_group", "bob", body={"name": "x"})
    assert (reply.status, reply.error_code()) == (403, "PLAN_REQUIRED")
