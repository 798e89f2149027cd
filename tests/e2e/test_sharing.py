"""Sharing on the real local stack over HTTP: an invitation email read back from the outbox, followed and
accepted by a second user whose terminal then receives the signal; the fan-out matrix (exactly the right
terminals receive one webhook, once each); concurrency (a one-use link accepted twice at once; a
share revoked, or its strategy taken out of a bundle, while webhooks keep arriving)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.outbox import GATEWAY_PATH
from quantlink_local.process import RunningStack


def outbox(stack: RunningStack) -> list[dict[str, Any]]:
    """Sent emails, oldest first, as {to, subject, body}, read from the emulator's outbox as a person would."""
    answer = requests.get(f"{stack.api_base}{GATEWAY_PATH}", timeout=10)
    answer.raise_for_status()
    items = answer.json()
    items = items.get("items", items) if isinstance(items, dict) else items
    return [{"to": m.get("to") or [], "subject": m.get("subject"), "body": m.get("text") or m.get("html") or ""}
            for m in items]  # fmt: skip


@dataclass
class Person:
    client: OwnerClient
    user_id: str
    email: str

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.client.request(method, path, body, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        reply = self.call(method, path, body, **kwargs)
        assert reply.status_code < 400, reply.text
        return reply.json() if reply.content else None


def person(stack: RunningStack) -> Person:
    client = stack.new_owner()
    me = client._ok(client.request("GET", "/api/me"))
    return Person(client, me["userId"], me["email"])


@pytest.fixture(scope="module")
def admin(local_stack: RunningStack) -> Person:
    """The demo owner: an admin on the pro plan (what `make run` prints)."""
    info = local_stack.info
    client = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, info["demoEmail"], info["demoPassword"]))
    me = client._ok(client.request("GET", "/api/me"))
    assert (me["plan"], me["admin"]) == ("pro", True)
    return Person(client, me["userId"], me["email"])


@pytest.fixture
def pro(local_stack: RunningStack, admin: Person) -> Person:
    owner = person(local_stack)
    admin.ok("PUT", f"/api/admin/users/{owner.user_id}/plan", {"plan": "pro"})
    return owner


def test_the_second_demo_user_is_on_the_free_plan(local_stack: RunningStack) -> None:
    info = local_stack.info
    client = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, info["friendEmail"],
                                                       info["friendPassword"]))  # fmt: skip
    me = client._ok(client.request("GET", "/api/me"))
    assert (me["plan"], me["admin"], me["limits"]["sharing"]) == ("free", False, False)


def terminal_of(who: Person, strategy: dict[str, Any], name: str = "PC") -> dict[str, Any]:
    terminal: dict[str, Any] = who.client.create_terminal(name)
    who.ok("PUT", f"/api/terminals/{terminal['terminalId']}/subscriptions/{strategy['strategyId']}")
    return terminal


def link_share(owner: Person, recipient: Person, strategy: dict[str, Any], **extra: Any) -> dict[str, Any]:
    created = owner.ok("POST", "/api/invitations", {"strategyId": strategy["strategyId"], **extra})
    accepted = recipient.ok("POST", "/api/invitations/accept", {"token": created["url"].rsplit("/", 1)[1]})
    share: dict[str, Any] = accepted["shares"][0]
    return share


def test_an_invitation_email_is_followed_accepted_and_the_signal_arrives(
    local_stack: RunningStack, pro: Person
) -> None:
    bob = person(local_stack)
    strategy = pro.client.create_strategy("shared momentum")

    created = pro.ok("POST", "/api/invitations", {"strategyId": strategy["strategyId"], "email": bob.email.upper(),
                                                   "permissions": {"terminalLimit": 1}})  # fmt: skip

    (email,) = [m for m in outbox(local_stack) if bob.email in m["to"]]
    (url,) = re.findall(r"https?://\S+/#/invitations/\S+", email["body"])
    assert url == created["url"] and url.startswith(local_stack.api_base)
    token = url.rsplit("/", 1)[1]
    preview = bob.ok("POST", "/api/invitations/inspect", {"token": token})
    assert preview["strategies"][0]["name"] == "shared momentum" and preview["owner"]["email"] == pro.email
    share = bob.ok("POST", "/api/invitations/accept", {"token": token})["shares"][0]
    assert share["recipient"]["userId"] == bob.user_id
    terminal = terminal_of(bob, strategy)

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))

    assert answer.status_code == 202 and answer.json()["deliveries"] == 1
    pulled = bob.client.pull(terminal["authToken"], "bob-device-0001", wait=5)
    assert [s["strategyId"] for s in pulled] == [strategy["strategyId"]]


def test_the_fan_out_matrix_reaches_exactly_the_right_terminals_once_each(
    local_stack: RunningStack, pro: Person
) -> None:
    strategy = pro.client.create_strategy("matrix")
    own = terminal_of(pro, strategy, "owner PC")
    people = {name: person(local_stack) for name in ("direct", "paused", "expired", "revoked", "removed")}
    shares = {
        name: link_share(pro, who, strategy, permissions={"canDelete": True})
        for name, who in people.items()
    }  # fmt: skip
    terminals = {name: terminal_of(who, strategy, name) for name, who in people.items()}
    pro.ok("PATCH", f"/api/shares/{shares['paused']['shareId']}", {"paused": True})
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    pro.ok("PATCH", f"/api/shares/{shares['expired']['shareId']}", {"expiresAt": past})
    pro.ok("DELETE", f"/api/shares/{shares['revoked']['shareId']}")
    people["removed"].ok("DELETE", f"/api/shares/{shares['removed']['shareId']}")

    answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(7))

    assert answer.status_code == 202 and answer.json()["deliveries"] == 2
    received = {"owner": len(pro.client.pull(own["authToken"], "own-device-0001", wait=2))}
    for name, who in people.items():
        received[name] = len(who.client.pull(terminals[name]["authToken"], f"{name}-device-01", wait=0))
    assert received == {"owner": 1, "direct": 1, "paused": 0, "expired": 0, "revoked": 0, "removed": 0}
    time.sleep(1)
    again = {name: len(who.client.pull(terminals[name]["authToken"], f"{name}-device-01", wait=0))
             for name, who in people.items()}  # fmt: skip
    assert set(again.values()) == {0}  # once each: nothing comes twice


def test_two_people_accepting_a_one_use_link_at_once_make_one_share(local_stack: RunningStack, pro: Person) -> None:
    strategy = pro.client.create_strategy("one use")
    created = pro.ok("POST", "/api/invitations", {"strategyId": strategy["strategyId"], "maxUses": 1})
    token = created["url"].rsplit("/", 1)[1]
    rivals = [person(local_stack) for _ in range(2)]
    start = threading.Barrier(2)

    def accept(who: Person) -> int:
        start.wait()
        return who.call("POST", "/api/invitations/accept", {"token": token}).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(accept, rivals))

    assert statuses == [200, 410]
    assert len(pro.ok("GET", "/api/shares", params={"as": "owner"})["items"]) == 1


def _revoke_the_share(pro: Person, bob: Person, strategy: dict[str, Any]) -> Callable[[], None]:
    share = link_share(pro, bob, strategy)
    return lambda: pro.ok("DELETE", f"/api/shares/{share['shareId']}")


def _remove_from_the_bundle(pro: Person, bob: Person, strategy: dict[str, Any]) -> Callable[[], None]:
    bundle = pro.ok("POST", "/api/bundles", {"name": "under load", "strategyIds": [strategy["strategyId"]]})
    joined = pro.ok("POST", "/api/invitations", {"bundleId": bundle["bundleId"]})
    bob.ok("POST", "/api/invitations/accept", {"token": joined["url"].rsplit("/", 1)[1]})
    return lambda: pro.ok("DELETE", f"/api/bundles/{bundle['bundleId']}/strategies/{strategy['strategyId']}")


@pytest.mark.parametrize("ending", [_revoke_the_share, _remove_from_the_bundle], ids=["revoke", "bundle-removal"])
def test_nothing_reaches_the_recipient_after_its_access_ended_while_webhooks_keep_arriving(
    local_stack: RunningStack, pro: Person, ending: Callable[[Person, Person, dict[str, Any]], Callable[[], None]]
) -> None:
    strategy = pro.client.create_strategy("ended under load")
    bob = person(local_stack)
    end_access = ending(pro, bob, strategy)
    terminal = terminal_of(bob, strategy)
    first = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1)).json()["signalId"]
    # While it lasts, bob receives (so an empty answer below means something).
    assert [s["signalId"] for s in bob.client.pull(terminal["authToken"], "bob-device-01", wait=5)] == [first]
    stop = threading.Event()
    sent: list[tuple[float, str]] = []

    def keep_sending() -> None:
        seq = 100
        while not stop.is_set():
            seq += 1
            began = time.monotonic()  # a webhook that began before the end returned may still deliver
            answer = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(seq))
            sent.append((began, answer.json()["signalId"]))

    sender = threading.Thread(target=keep_sending)
    sender.start()
    time.sleep(0.5)
    end_access()
    ended_at = time.monotonic()
    time.sleep(0.5)
    stop.set()
    sender.join(10)

    pulled = {s["signalId"] for s in _drain(lambda: bob.client.pull(terminal["authToken"], "bob-device-01", wait=0))}
    after = {signal_id for at, signal_id in sent if at > ended_at}
    assert after and not (pulled & after)  # nothing sent after the end returned reached bob


def _drain(pull: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while batch := pull():
        found.extend(batch)
    return found
