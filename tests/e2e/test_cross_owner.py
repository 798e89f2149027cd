"""Nobody reaches another owner's things ([11/11] item 3), over every owner route the template declares.

Two users on the real local stack. The victim owns one of every kind of thing an id can name; the
intruder calls every Cognito-authorized route that takes an id with the victim's ids (and, for routes
that take two ids, each mix of the victim's and the intruder's own), with a body that would be accepted
on the intruder's own things, so only ownership can stop it. Every answer must be 404 NOT_FOUND, and
everything the victim can see must be exactly as before.

The routes come from template.yaml, so a new owner route without a case here fails
`test_every_owner_route_with_an_id_has_a_case` instead of going untested."""

from __future__ import annotations

from typing import Any

import pytest

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import RunningStack
from quantlink_local.template import Template

# A body that the route accepts on the caller's own things (None: no body). Keyed by (method, path).
BODIES: dict[tuple[str, str], Any] = {
    ("GET", "/api/strategies/{strategyId}"): None,
    ("PATCH", "/api/strategies/{strategyId}"): {"name": "taken over", "paused": True},
    ("DELETE", "/api/strategies/{strategyId}"): None,
    ("POST", "/api/strategies/{strategyId}/token"): None,
    ("POST", "/api/strategies/{strategyId}/inject"): {"code": "def initialize(context):\n    pass\n"},
    ("GET", "/api/strategies/{strategyId}/signals"): None,
    ("GET", "/api/terminals/{terminalId}"): None,
    ("DELETE", "/api/terminals/{terminalId}"): None,
    ("PUT", "/api/terminals/{terminalId}/subscriptions/{strategyId}"): {"sizing": {"mode": "mirror"}},
    ("DELETE", "/api/terminals/{terminalId}/subscriptions/{strategyId}"): None,
    ("POST", "/api/terminals/{terminalId}/token"): None,
    ("POST", "/api/terminals/{terminalId}/release"): None,
    ("POST", "/api/terminals/{terminalId}/drift"): {"date": "2026-11-20"},
    ("GET", "/api/terminals/{terminalId}/drift"): None,
    ("GET", "/api/terminals/{terminalId}/drift/history"): None,
    ("PUT", "/api/terminals/{terminalId}/drift/threshold"): {"threshold": 0.5},
    ("PUT", "/api/terminals/{terminalId}/drift/alerts"): {"email": True},
    ("POST", "/api/terminals/{terminalId}/drift/sync"): {"date": "2026-11-20"},
    ("PATCH", "/api/shares/{shareId}"): {"paused": True},
    ("DELETE", "/api/shares/{shareId}"): None,
    ("DELETE", "/api/invitations/{invitationId}"): None,
    ("GET", "/api/bundles/{bundleId}"): None,
    ("DELETE", "/api/bundles/{bundleId}"): None,
    ("PUT", "/api/bundles/{bundleId}/strategies/{strategyId}"): None,
    ("DELETE", "/api/bundles/{bundleId}/strategies/{strategyId}"): None,
    ("DELETE", "/api/bundles/{bundleId}/members/{userId}"): None,
    ("GET", "/api/groups/{groupId}"): None,
    ("DELETE", "/api/groups/{groupId}"): None,
    ("PUT", "/api/groups/{groupId}/members"): {"email": "someone-new@example.com"},
    ("DELETE", "/api/groups/{groupId}/members/{userId}"): None,
    ("POST", "/api/groups/{groupId}/shares"): {"strategyId": "stg_0000000000000000"},
    ("DELETE", "/api/groups/{groupId}/shares/{groupShareId}"): None,
}

# Admin routes answer 403 to everyone else whatever the id (tests/integration/test_sharing.py): they name
# no owner's thing.
ADMIN_ROUTES = ("/api/admin/",)


# Routes authorized by a webhook or terminal token, not by the owner's Cognito session.
TOKEN_ROUTES = ("/api/webhooks/", "/api/terminals/pull", "/api/terminals/ack", "/api/terminals/positions")


def _owner_routes_with_ids() -> list[tuple[str, str]]:
    routes = Template.load().routes()
    return sorted(
        (r.method, r.path)
        for r in routes
        if r.authorized
        and "{" in r.path
        and r.path.startswith("/api/")
        and not r.path.startswith(TOKEN_ROUTES + ADMIN_ROUTES)
    )


def test_every_owner_route_with_an_id_has_a_case() -> None:
    missing = [route for route in _owner_routes_with_ids() if route not in BODIES]
    assert not missing, f"owner routes with no cross-owner case in BODIES: {missing}"


class World:
    """One of everything, owned by one user."""

    def __init__(self, client: OwnerClient, label: str, admin: OwnerClient, friend: OwnerClient) -> None:
        self.client = client
        self.strategy = client.create_strategy(f"{label} strategy")
        self.terminal = client.create_terminal(f"{label} terminal")
        client.subscribe(self.terminal["terminalId"], self.strategy["strategyId"])
        post_webhook(self.strategy["webhookUrl"], self.strategy["webhookToken"], joinquant_signal(1)).raise_for_status()
        self.seq = 1
        # Sharing: on the pro plan, a share with a friend, an invitation, a bundle the friend is in, a group
        # with the friend and a group share.
        user_id = client._ok(client.request("GET", "/api/me"))["userId"]
        admin._ok(admin.request("PUT", f"/api/admin/users/{user_id}/plan", {"plan": "pro"}))
        strategy_id = self.strategy["strategyId"]
        link = client._ok(client.request("POST", "/api/invitations", {"strategyId": strategy_id}))
        share = friend._ok(friend.request("POST", "/api/invitations/accept", {"token": link["url"].rsplit("/", 1)[1]}))
        bundle = client._ok(client.request("POST", "/api/bundles", {"name": label, "strategyIds": [strategy_id]}))
        joined = client._ok(client.request("POST", "/api/invitations", {"bundleId": bundle["bundleId"]}))
        friend._ok(friend.request("POST", "/api/invitations/accept", {"token": joined["url"].rsplit("/", 1)[1]}))
        friend_me = friend._ok(friend.request("GET", "/api/me"))
        group = client._ok(client.request("POST", "/api/groups", {"name": label}))
        client._ok(client.request("PUT", f"/api/groups/{group['groupId']}/members", {"email": friend_me["email"]}))
        group_share = client._ok(
            client.request("POST", f"/api/groups/{group['groupId']}/shares", {"strategyId": strategy_id})
        )
        self.ids = {
            "strategyId": strategy_id,
            "terminalId": self.terminal["terminalId"],
            "shareId": share["shares"][0]["shareId"],
            "invitationId": link["invitationId"],
            "bundleId": bundle["bundleId"],
            "groupId": group["groupId"],
            "groupShareId": group_share["groupShareId"],
            "userId": friend_me["userId"],
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything this owner can read, with the fields that move by themselves left out."""
        c = self.client
        strategy_id, terminal_id = self.ids["strategyId"], self.ids["terminalId"]
        return {
            "strategies": c._ok(c.request("GET", "/api/strategies")),
            "strategy": c._ok(c.request("GET", f"/api/strategies/{strategy_id}")),
            "signals": c._ok(c.request("GET", f"/api/strategies/{strategy_id}/signals")),
            "terminals": c._ok(c.request("GET", "/api/terminals")),
            "terminal": c._ok(c.request("GET", f"/api/terminals/{terminal_id}")),
            "shares": c._ok(c.request("GET", "/api/shares", params={"as": "owner"})),
            "invitations": c._ok(c.request("GET", "/api/invitations")),
            "bundles": c._ok(c.request("GET", "/api/bundles")),
            "groups": c._ok(c.request("GET", "/api/groups")),
        }

    def tokens_still_work(self) -> None:
        """The victim's webhook token was not rotated away, nor its terminal token."""
        self.seq += 1
        signal = joinquant_signal(self.seq)
        answer = post_webhook(self.strategy["webhookUrl"], self.strategy["webhookToken"], signal)
        assert answer.status_code == 202, answer.text
        pulled = self.client.pull(self.terminal["authToken"], "victim-device", wait=5)
        assert answer.json()["signalId"] in {item["signalId"] for item in pulled}
        # Settle them: a FIFO group holds the strategy's next signal back until this one is acked.
        self.client.ack(self.terminal["authToken"], [
            {"signalId": item["signalId"], "ackToken": item["ackToken"], "status": "executed"} for item in pulled
        ])  # fmt: skip


def _id_mixes(path: str, victim: World, intruder: World) -> list[dict[str, str]]:
    names = [name for name in victim.ids if "{" + name + "}" in path]
    mixes = []
    for mask in range(1, 2 ** len(names)):  # at least one id is the victim's
        mixes.append({name: (victim if mask >> i & 1 else intruder).ids[name] for i, name in enumerate(names)})
    return mixes


@pytest.fixture(scope="module")
def worlds(local_stack: RunningStack) -> tuple[World, World]:
    info = local_stack.info
    admin = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, info["demoEmail"], info["demoPassword"]))
    # Each owner shares with a friend of its own: one both shared with would be the intruder's member too.
    return (
        World(local_stack.new_owner(), "victim", admin, local_stack.new_owner()),
        World(local_stack.new_owner(), "intruder", admin, local_stack.new_owner()),
    )


@pytest.mark.parametrize("route", _owner_routes_with_ids(), ids=lambda r: f"{r[0]} {r[1]}")
def test_another_owners_ids_answer_not_found_and_change_nothing(
    route: tuple[str, str], worlds: tuple[World, World]
) -> None:
    victim, intruder = worlds
    method, path = route
    before = victim.snapshot()
    for ids in _id_mixes(path, victim, intruder):
        url = path.format(**ids)
        answer = intruder.client.request(method, url, BODIES[route])
        if all(ids[name] == victim.ids[name] for name in ids):
            assert answer.status_code == 404, f"{method} {url} as another owner -> {answer.status_code} {answer.text}"
            assert answer.json()["code"] == "NOT_FOUND"
        else:
            # The intruder's own terminal with the victim's strategy (or the reverse): the answer must be
            # the one an id that does not exist gets, so it tells nothing about the victim's ids.
            made_up = {name: (value if value == intruder.ids[name] else value[:4] + "0" * (len(value) - 4))
                       for name, value in ids.items()}  # fmt: skip
            control = intruder.client.request(method, path.format(**made_up), BODIES[route])
            assert (answer.status_code, answer.text) == (
                control.status_code,
                control.text.replace(made_up.get("strategyId", "-"), ids.get("strategyId", "-")).replace(
                    made_up.get("terminalId", "-"), ids.get("terminalId", "-")
                ),
            )
            assert answer.status_code in (204, 404), f"{method} {url} -> {answer.status_code} {answer.text}"
    assert victim.snapshot() == before
    victim.tokens_still_work()


def test_another_owners_audit_entries_are_not_readable_by_any_filter(worlds: tuple[World, World]) -> None:
    victim, intruder = worlds
    mine = victim.client._ok(victim.client.request("GET", f"/api/audit?strategyId={victim.ids['strategyId']}"))
    assert mine["items"], "the victim's own log has its sharing actions (so an empty answer below means something)"
    victim_email = victim.client._ok(victim.client.request("GET", "/api/me"))["email"]
    for query in (f"strategyId={victim.ids['strategyId']}", f"actor={victim_email}", "action=share", ""):
        page = intruder.client._ok(intruder.client.request("GET", f"/api/audit?{query}"))
        seen = {e["auditId"] for e in page["items"]}
        assert not seen & {e["auditId"] for e in mine["items"]}, f"GET /api/audit?{query} shows the victim's entries"
