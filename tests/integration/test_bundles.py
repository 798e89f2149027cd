"""Bundles over the owner API under moto: members get every strategy in the bundle; adding and removing a
strategy, removing a member and deleting the bundle change what members receive at once, and take away
exactly what came through the bundle (a direct share of the same strategy stays)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import QuantLink, StrategyCreds, TerminalCreds
from tests.integration.sharing_driver import Sharing
from tests.integration.test_sharing import state


@pytest.fixture
def sh(ql: QuantLink) -> Sharing:
    sharing = Sharing(ql)
    sharing.make_pro("alice")
    return sharing


def bundle(sh: Sharing, *strategies: StrategyCreds, **extra: Any) -> dict[str, Any]:
    reply = sh.call("owner_api/create_bundle", "alice",
                    body={"name": "core", "strategyIds": [s.strategy_id for s in strategies], **extra})  # fmt: skip
    assert reply.status == 201, reply.text
    created: dict[str, Any] = reply.body
    return created


def join(sh: Sharing, who: str, bundle_id: str) -> list[dict[str, Any]]:
    created = sh.call("owner_api/create_invitation", "alice", body={"bundleId": bundle_id})
    assert created.status == 201, created.text
    reply = sh.accept(who, created.body["url"].rsplit("/", 1)[1])
    assert reply.status == 200, reply.text
    shares: list[dict[str, Any]] = reply.body["shares"]
    return shares


def receives(ql: QuantLink, strategy: StrategyCreds, terminal: TerminalCreds) -> bool:
    """Whether a new signal of the strategy reaches the terminal (what it had queued before is acked)."""
    sent = ql.send_signal(strategy, seq=len(ql.stack.signals(strategy.strategy_id)) + 1)
    pulled = ql.pulled(terminal)
    if pulled:
        ql.ack(terminal, [ql.executed(s) for s in pulled])
    return sent["signalId"] in {s["signalId"] for s in pulled}


def path(bundle_id: str, **more: str) -> dict[str, str]:
    return {"bundleId": bundle_id, **more}


def test_a_member_gets_every_strategy_in_the_bundle(ql: QuantLink, sh: Sharing) -> None:
    one, two = ql.create_strategy("alice", name="one"), ql.create_strategy("alice", name="two")
    created = bundle(sh, one, two, permissions={"terminalLimit": 1})
    assert created["bundleId"].startswith("sg_") and created["members"] == []

    shares = join(sh, "bob", created["bundleId"])

    assert sorted(s["strategyName"] for s in shares) == ["one", "two"]
    assert {(s["via"], s["viaId"]) for s in shares} == {("bundle", created["bundleId"])}
    terminal = ql.register_terminal("bob")
    for strategy in (one, two):
        assert sh.subscribe(terminal, strategy).status == 200
    assert receives(ql, one, terminal) and receives(ql, two, terminal)
    got = sh.call("owner_api/get_bundle", "alice", path_params=path(created["bundleId"])).body
    assert got["members"] == [{"userId": sh.user_id("bob"), "email": "bob@example.com"}]
    again = sh.call("owner_api/create_invitation", "alice", body={"bundleId": created["bundleId"]}).body
    reply = sh.accept("bob", again["url"].rsplit("/", 1)[1])
    assert (reply.status, reply.error_code()) == (409, "CONFLICT")  # a member already


def test_adding_and_removing_a_strategy_reaches_every_member_at_once(ql: QuantLink, sh: Sharing) -> None:
    one, added = ql.create_strategy("alice"), ql.create_strategy("alice")
    created = bundle(sh, one)
    join(sh, "bob", created["bundleId"])
    join(sh, "carol", created["bundleId"])
    terminals = {who: ql.register_terminal(who) for who in ("bob", "carol")}

    reply = sh.call("owner_api/add_bundle_strategy", "alice",
                    path_params=path(created["bundleId"], strategyId=added.strategy_id))  # fmt: skip
    assert reply.status == 200 and reply.body["strategyIds"] == [one.strategy_id, added.strategy_id]
    for terminal in terminals.values():
        assert sh.subscribe(terminal, added).status == 200
        assert receives(ql, added, terminal)

    reply = sh.call("owner_api/remove_bundle_strategy", "alice",
                    path_params=path(created["bundleId"], strategyId=added.strategy_id))  # fmt: skip
    assert reply.status == 204
    for who, terminal in terminals.items():
        assert not receives(ql, added, terminal), who
        assert ql.terminal_view(terminal)["subscriptions"] == []
    actions = [e["action"] for e in sh.audit("alice", action="bundle")["items"]]
    assert actions == ["bundle.strategy_removed", "bundle.strategy_added", "bundle.created"]


def test_removing_a_strategy_from_a_bundle_keeps_a_direct_share(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    created = bundle(sh, strategy)
    join(sh, "bob", created["bundleId"])
    direct = sh.share("alice", "bob", strategy)
    terminal = ql.register_terminal("bob")
    assert sh.subscribe(terminal, strategy).status == 200

    sh.call("owner_api/remove_bundle_strategy", "alice",
            path_params=path(created["bundleId"], strategyId=strategy.strategy_id))  # fmt: skip

    assert receives(ql, strategy, terminal)
    statuses = {s["via"]: s["status"] for s in sh.shares("bob", "recipient")}
    assert statuses == {"bundle": "revoked", "direct": "active"} and direct["via"] == "direct"


def test_a_removed_member_loses_what_came_through_the_bundle(ql: QuantLink, sh: Sharing) -> None:
    one, two = ql.create_strategy("alice"), ql.create_strategy("alice")
    created = bundle(sh, one, two)
    join(sh, "bob", created["bundleId"])
    join(sh, "carol", created["bundleId"])
    bob, carol = ql.register_terminal("bob"), ql.register_terminal("carol")
    for terminal in (bob, carol):
        assert sh.subscribe(terminal, one).status == 200

    reply = sh.call("owner_api/remove_bundle_member", "alice",
                    path_params=path(created["bundleId"], userId=sh.user_id("bob")))  # fmt: skip

    assert reply.status == 204
    assert not receives(ql, one, bob)
    assert receives(ql, one, carol)
    assert {s["status"] for s in sh.shares("bob", "recipient")} == {"revoked"}
    got = sh.call("owner_api/get_bundle", "alice", path_params=path(created["bundleId"])).body
    assert [m["email"] for m in got["members"]] == ["carol@example.com"]


def test_deleting_a_bundle_ends_what_it_shared(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    created = bundle(sh, strategy)
    join(sh, "bob", created["bundleId"])
    terminal = ql.register_terminal("bob")
    assert sh.subscribe(terminal, strategy).status == 200

    assert sh.call("owner_api/delete_bundle", "alice", path_params=path(created["bundleId"])).status == 204

    assert not receives(ql, strategy, terminal)
    reply = sh.call("owner_api/get_bundle", "alice", path_params=path(created["bundleId"]))
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert sh.call("owner_api/list_bundles", "alice").body["items"] == []


def test_another_owners_bundle_is_not_found_and_unchanged(ql: QuantLink, sh: Sharing) -> None:
    strategy = ql.create_strategy("alice")
    created = bundle(sh, strategy)
    join(sh, "bob", created["bundleId"])
    sh.make_pro("carol")
    mine = ql.create_strategy("carol")
    before = state(ql)

    for sample, extra in (
        ("owner_api/get_bundle", {}),
        ("owner_api/delete_bundle", {}),
        ("owner_api/add_bundle_strategy", {"strategyId": mine.strategy_id}),
        ("owner_api/remove_bundle_strategy", {"strategyId": strategy.strategy_id}),
        ("owner_api/remove_bundle_member", {"userId": sh.user_id("bob")}),
    ):
        reply = sh.call(sample, "carol", path_params=path(created["bundleId"], **extra))
        assert (reply.status, reply.error_code()) == (404, "NOT_FOUND"), sample
    reply = sh.call("owner_api/create_invitation", "carol", body={"bundleId": created["bundleId"]})
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert state(ql) == before
    assert sh.call("owner_api/list_bundles", "carol").body["items"] == []


def test_bundles_need_a_paid_plan_and_own_strategies(ql: QuantLink, sh: Sharing) -> None:
    theirs = ql.create_strategy("bob")
    reply = sh.call("owner_api/create_bundle", "bob", body={"name": "x", "strategyIds": [theirs.strategy_id]})
    assert (reply.status, reply.error_code()) == (403, "PLAN_REQUIRED")
    reply = sh.call("owner_api/create_bundle", "alice", body={"name": "x", "strategyIds": [theirs.strategy_id]})
    assert (reply.status, reply.error_code()) == (404, "NOT_FOUND")
    assert not [i for i in ql.stack.items() if i["pk"].startswith("BUNDLE#")]


def test_deleting_a_strategy_takes_it_out_of_its_bundles(ql: QuantLink, sh: Sharing) -> None:
    keep, gone = ql.create_strategy("alice"), ql.create_strategy("alice")
    created = bundle(sh, keep, gone)

    ql.owner_call("owner_api/delete_strategy", "alice", path_params={"strategyId": gone.strategy_id})

    got = sh.call("owner_api/get_bundle", "alice", path_params=path(created["bundleId"])).body
    assert got["strategyIds"] == [keep.strategy_id]
