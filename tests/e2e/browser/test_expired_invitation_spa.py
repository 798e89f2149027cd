"""An expired invitation in the SPA, in headless Chromium against the real local stack: an emailed
invitation opened after its 7 days says so in words and offers no Accept button; a link invitation that
expires while its page is open refuses the click and then shows it as expired. Neither grants anything:
no share, no subscription, and the owner sees both as expired. The invitation is expired by its expiry
in the table (what the 7 days come down to), not by waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from quantlink.dal import keys
from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.test_sharing_flows_spa import new_user, pro_user, signed_in

pytestmark = pytest.mark.e2e

PERMISSIONS = {"canPause": True, "canDelete": False, "terminalLimit": 1}


def invite(owner: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = owner.request("POST", "/api/invitations", {**body, "permissions": PERMISSIONS})
    assert answer.status_code == 201, answer.text
    invitation: dict[str, Any] = answer.json()
    return invitation


def expire(stack: RunningStack, invitation_id: str) -> None:
    """Its expiry, a minute ago, written as the store writes it (the ISO form it holds now)."""
    dynamodb, table = stack.aws("dynamodb"), stack.info["physical"]["Table"]
    key = {"pk": {"S": keys.invitation_pk(invitation_id)}, "sk": {"S": keys.META}}
    held = dynamodb.get_item(TableName=table, Key=key)["Item"]["expiresAt"]["S"]
    past = datetime.now(UTC) - timedelta(minutes=1)
    written = past.isoformat(timespec="milliseconds").replace("+00:00", "Z" if held.endswith("Z") else "+00:00")
    assert len(written) == len(held), (written, held)  # the same form, so string comparisons still hold
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET expiresAt = :past",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":past": {"S": written}},
    )


def test_an_expired_invitation_says_so_and_grants_nothing(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    # Given an owner on the pro plan, a strategy, an emailed invitation to a friend and a link
    # invitation valid until tomorrow
    owner, friend = pro_user(local_stack, "inviter"), new_user(local_stack, "late")
    strategy = owner.client.create_strategy("Expiring")
    emailed = invite(owner.client, {"strategyId": strategy["strategyId"], "email": friend.email})
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    link = invite(owner.client, {"strategyId": strategy["strategyId"], "maxUses": 1, "expiresAt": tomorrow})
    assert (emailed["status"], link["status"]) == ("pending", "pending")

    # When the emailed one's 7 days have passed and the friend opens it
    expire(local_stack, emailed["invitationId"])
    spa = signed_in(open_spa, friend)
    page = spa.page
    page.goto(emailed["url"])
    # Then the page says it expired, in words, with the badge, and there is nothing to accept
    preview = page.get_by_test_id("invitation-preview")
    expect(preview).to_contain_text("This invitation has expired. Ask the owner for a new one.")
    expect(preview.locator(".badge")).to_have_text("Expired")
    expect(page.get_by_role("button", name="Accept invitation")).to_have_count(0)
    spa.check("invitation-expired")  # screenshots at both widths, and no serious axe violation

    # When the link is opened while still pending, and expires before the friend clicks Accept
    page.goto(link["url"])
    expect(page.get_by_test_id("invitation-preview").locator(".badge")).to_have_text("Pending")
    accept = page.get_by_role("button", name="Accept invitation")
    expect(accept).to_be_visible()
    expire(local_stack, link["invitationId"])
    accept.click()
    # Then the click is refused, and the page shows the invitation as it now is: expired, in words,
    # with nothing to accept and nothing saying it was accepted
    expect(preview.locator(".badge")).to_have_text("Expired")
    expect(preview).to_contain_text("This invitation has expired. Ask the owner for a new one.")
    expect(page.get_by_role("button", name="Accept invitation")).to_have_count(0)
    expect(page.get_by_text("Accepted:")).to_have_count(0)
    spa.check("invitation-expired-on-accept")

    # And nothing was granted: no share, the strategy cannot be subscribed to, the API says 410
    assert friend.client.request("GET", "/api/shares?as=recipient").json()["items"] == []
    terminal = friend.client.create_terminal("late pc")
    subscribe = friend.client.request(
        "PUT", f"/api/terminals/{terminal['terminalId']}/subscriptions/{strategy['strategyId']}"
    )
    assert subscribe.status_code == 404 and subscribe.json()["code"] == "NOT_FOUND", subscribe.text
    for invitation in (emailed, link):
        token = invitation["url"].rsplit("/", 1)[1]
        refused = friend.client.request("POST", "/api/invitations/accept", {"token": token})
        assert refused.status_code == 410 and refused.json()["code"] == "INVITATION_EXPIRED", refused.text
    assert owner.client.request("GET", "/api/shares?as=owner").json()["items"] == []
    statuses = {i["invitationId"]: i["status"] for i in owner.client.request("GET", "/api/invitations").json()["items"]}
    assert statuses == {emailed["invitationId"]: "expired", link["invitationId"]: "expired"}
    assert spa.page_errors == []
