"""Every owner and follower operation of API.md "Sharing", done in the SPA in headless Chromium against the
real local stack: plan gating (/api/me) lifted by an admin in the Admin screen, the admin settings, an email
invitation followed from the outbox, a share's permissions (terminalLimit, canPause, canDelete, expiry)
changed and obeyed, bundles (sg_) and groups (grp_) with their members and shares, and the audit log's
filters and paging."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import Account, RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.spa import Spa
from tests.e2e.browser.test_owner_spa import dismiss_secret, secret_values
from tests.e2e.test_sharing import outbox

pytestmark = pytest.mark.e2e


User = Account


def new_user(stack: RunningStack, label: str) -> User:
    """A confirmed Cognito user (free plan), signed in over the API too."""
    return stack.new_account(label)


def demo_admin(stack: RunningStack) -> User:
    info = stack.info
    client = OwnerClient(stack.api_base, sign_in(stack.api_base, info["demoEmail"], info["demoPassword"]))
    return User(info["demoEmail"], info["demoPassword"], client)


def signed_in(open_spa: OpenSpa, user: User) -> Spa:
    spa = open_spa("en-US")
    page = spa.goto("/sign-in")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    spa.heading("Strategies")
    return spa


def go(page: Page, screen: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=screen, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(screen)


def notice(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def test_plan_gating_admin_email_invitation_and_share_permissions(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    owner_user, friend_user = new_user(local_stack, "owner"), new_user(local_stack, "friend")
    admin_user = demo_admin(local_stack)
    strategy = owner_user.client.create_strategy(f"Gated {secrets.token_hex(2)}")
    name = strategy["name"]

    # ---- a free plan is told before it fills in the form, and the server refuses it -------------------
    owner = signed_in(open_spa, owner_user)
    page = owner.page
    go(page, "Sharing")
    expect(page.get_by_test_id("plan-notice")).to_contain_text("Sharing needs a paid plan (yours is free)")
    page.get_by_role("radio", name=re.compile("^By email")).check()
    page.get_by_label("Their email").fill(friend_user.email)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Your plan does not include this.")
    owner.check("sharing-plan-required")

    # ---- the admin moves the owner to Pro in the Admin screen, and saves the audit settings -----------
    admin = signed_in(open_spa, admin_user)
    apage = admin.page
    go(apage, "Admin")
    apage.get_by_label(f"Plan of {owner_user.email}").select_option("pro")
    notice(apage, f"{owner_user.email} is now on the Pro plan.")
    retention = apage.get_by_label("Keep entries for (days)")
    kept = retention.input_value()
    expect(apage.get_by_label("Record the audit log")).to_be_checked()
    retention.fill("400")
    apage.get_by_role("button", name="Save settings").click()
    notice(apage, "Saved: the audit log is recorded and kept 400 days.")
    apage.reload()
    expect(apage.get_by_label("Keep entries for (days)")).to_have_value("400")
    assert admin_user.client.request("GET", "/api/admin/settings").json()["auditRetentionDays"] == 400
    apage.get_by_label("Keep entries for (days)").fill(kept)
    apage.get_by_role("button", name="Save settings").click()
    notice(apage, f"kept {kept} days.")
    admin.check("admin-settings")

    # ---- now Pro: an email invitation with terminalLimit 1, no pause, may remove --------------------
    page.reload()
    expect(page.get_by_test_id("plan-notice")).to_have_count(0)
    page.get_by_label("What to share").select_option(label=name)
    page.get_by_role("radio", name=re.compile("^By email")).check()
    page.get_by_label("Their email").fill(friend_user.email.upper())  # the address matches in any case
    page.get_by_label("Remove the share themselves (canDelete)").check()
    page.get_by_label("Terminals that may receive it").fill("1")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_test_id("secret-panel")).to_contain_text("Invitation sent")
    (shown_url,) = secret_values(page)
    dismiss_secret(page)
    invitation = page.get_by_test_id("invitation").first
    expect(invitation).to_contain_text(friend_user.email.upper())
    expect(invitation).to_contain_text("Pending")

    # The email carries the same link.
    (mail,) = [m for m in outbox(local_stack) if friend_user.email in [a.lower() for a in m["to"]]]
    (mailed_url,) = re.findall(r"https?://\S+/#/invitations/[A-Za-z0-9_.~-]*[A-Za-z0-9_~-]", mail["body"])
    assert mailed_url == shown_url

    # Another address cannot accept it: said in words, and the invitation stays pending.
    apage.goto(mailed_url)
    admin.heading("Invitation")
    apage.get_by_role("button", name="Accept invitation").click()
    expect(apage.get_by_text("it was sent to another email address")).to_be_visible()

    # ---- the friend follows the emailed link and accepts ----------------------------------------------
    friend = signed_in(open_spa, friend_user)
    fpage = friend.page
    fpage.goto(mailed_url)
    friend.heading("Invitation")
    expect(fpage.get_by_test_id("invitation-preview")).to_contain_text(f"{owner_user.email} invites you")
    expect(fpage.get_by_test_id("invitation-preview")).to_contain_text("Up to 1 terminal(s) receive its signals.")
    expect(fpage.get_by_test_id("invitation-preview")).to_contain_text("May not pause it.")
    fpage.get_by_role("button", name="Accept invitation").click()
    notice(fpage, "Accepted: 1 strategy(ies) are shared with you.")

    # ---- terminalLimit: the second terminal is refused, in words --------------------------------------
    for terminal in ("desk-a", "desk-b"):
        friend_user.client.create_terminal(terminal)
    fpage.get_by_role("link", name="subscribe one of your terminals on the Terminals page").click()
    friend.heading("Terminals")
    shared_label = f"{name} (shared by {owner_user.email})"

    def subscribe(terminal: str) -> None:
        card = fpage.get_by_test_id("terminal").filter(has_text=terminal)
        card.get_by_label("Strategy").select_option(label=shared_label)
        card.get_by_role("button", name="Subscribe", exact=True).click()

    subscribe("desk-a")
    notice(fpage, f"“desk-a” now receives “{name}")
    subscribe("desk-b")
    refused = fpage.get_by_test_id("terminal").filter(has_text="desk-b").get_by_role("alert")
    expect(refused).to_have_text("The share's terminal limit is reached.")
    friend.check("terminals-limit-reached")

    # ---- the owner raises the limit and allows pausing; the refused terminal now subscribes ----------
    page.get_by_role("button", name="Refresh").first.click()  # the owner is still on the Sharing screen
    given = page.get_by_test_id("given-shares").get_by_test_id("share").filter(has_text=friend_user.email)
    expect(given).to_contain_text("Invitation")  # via
    given.get_by_role("button", name="Change permissions").click()
    given.get_by_label("Terminals that may receive it").fill("2")
    given.get_by_label("Pause it for themselves (canPause)").check()
    given.get_by_label("Share expires (optional)").fill("2030-01-31T09:30")
    given.get_by_role("button", name="Save").click()
    notice(page, f"The share of “{name}” with {friend_user.email} is updated.")
    expect(given).to_contain_text("Up to 2 terminal(s) receive its signals.")
    expect(given).to_contain_text("2030")
    subscribe("desk-b")
    notice(fpage, f"“desk-b” now receives “{name}")
    delivered = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(1))
    assert delivered.json()["deliveries"] == 2, delivered.text

    # ---- the owner pauses the share: nothing is delivered; the friend sees it paused -----------------
    given.get_by_role("button", name="Pause").click()
    notice(page, f"“{name}” is paused")
    expect(given.locator(".badge")).to_have_text("Paused")
    held = post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(2))
    assert held.json()["deliveries"] == 0, held.text
    given.get_by_role("button", name="Resume").click()
    notice(page, f"“{name}” is delivered again")

    # ---- the friend, now allowed, pauses and resumes it, then removes it (canDelete) ----------------
    go(fpage, "Sharing")
    received = fpage.get_by_test_id("received-shares").get_by_test_id("share")
    expect(received).to_contain_text("May pause and resume it.")
    expect(received).to_contain_text("May remove the share.")
    received.get_by_role("button", name="Pause").click()
    notice(fpage, f"“{name}” is paused")
    assert post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(3)).json()["deliveries"] == 0
    received.get_by_role("button", name="Resume").click()
    notice(fpage, f"“{name}” is delivered again")
    friend.check("sharing-recipient-permissions")
    received.get_by_role("button", name="Remove").click()
    fpage.get_by_role("button", name="Confirm: Remove").click()
    notice(fpage, f"You no longer receive “{name}”.")
    expect(fpage.get_by_test_id("received-shares")).to_have_count(0)
    assert post_webhook(strategy["webhookUrl"], strategy["webhookToken"], joinquant_signal(4)).json()["deliveries"] == 0
    # The owner's list says the same as the API: the removed share is gone, or listed as revoked.
    listed = owner_user.client.request("GET", "/api/shares?as=owner").json()["items"]
    assert [s["status"] for s in listed] in ([], ["revoked"]), listed
    page.get_by_role("button", name="Refresh").first.click()
    expect(given).to_have_count(len(listed))
    if listed:
        expect(given.locator(".badge")).to_have_text("Revoked")
    assert owner.page_errors == [] and friend.page_errors == [] and admin.page_errors == []


def pro_user(stack: RunningStack, label: str) -> User:
    user = new_user(stack, label)
    me = user.client.request("GET", "/api/me").json()
    answer = demo_admin(stack).client.request("PUT", f"/api/admin/users/{me['userId']}/plan", {"plan": "pro"})
    assert answer.status_code == 200, answer.text
    return user


def received(user: User) -> dict[str, tuple[str, str | None]]:
    """What is shared with the user now: strategy name -> (via, viaId), over the API."""
    items = user.client.request("GET", "/api/shares?as=recipient").json()["items"]
    return {s["strategyName"]: (s["via"], s["viaId"]) for s in items if s["status"] == "active"}


def test_bundles_and_groups_with_their_members_and_shares(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    owner_user, friend_user = pro_user(local_stack, "bundler"), new_user(local_stack, "member")
    tag = secrets.token_hex(2)
    alpha, beta = f"Alpha {tag}", f"Beta {tag}"
    for name in (alpha, beta):
        owner_user.client.create_strategy(name)
    owner = signed_in(open_spa, owner_user)
    page = owner.page

    # ---- a bundle (sg_) of one strategy, and a link invitation to it ----------------------------------
    go(page, "Bundles")
    page.get_by_label("Name", exact=True).fill(f"Pair {tag}")
    page.get_by_label(alpha).check()
    page.get_by_role("button", name="Create bundle").click()
    notice(page, f"Bundle “Pair {tag}” is ready, code sg_")
    bundle = page.get_by_test_id("bundle").filter(has_text=f"Pair {tag}")
    code = bundle.get_by_label("Bundle code").input_value()
    assert code.startswith("sg_"), code
    owner.check("bundles")
    bundle.get_by_role("link", name="Invite to this bundle").click()
    owner.heading("Sharing")
    expect(page.get_by_label("What to share")).to_have_value(f"b:{code}")
    page.get_by_role("button", name="Create invitation link").click()
    (link,) = secret_values(page)
    dismiss_secret(page)
    # A second link, revoked before anyone uses it.
    page.get_by_label("What to share").select_option(label=beta)
    page.get_by_role("button", name="Create invitation link").click()
    (revoked_link,) = secret_values(page)
    dismiss_secret(page)
    pending = page.get_by_test_id("invitation").filter(has_text=beta)
    pending.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Confirm: Revoke").click()
    notice(page, "The invitation is revoked: its link no longer works.")
    expect(pending.locator(".badge")).to_have_text("Revoked")

    friend = signed_in(open_spa, friend_user)
    fpage = friend.page
    fpage.goto(revoked_link)
    expect(fpage.get_by_test_id("invitation-preview")).to_contain_text("This invitation was revoked by its owner.")
    expect(fpage.get_by_role("button", name="Accept invitation")).to_have_count(0)
    fpage.goto(link)
    preview = fpage.get_by_test_id("invitation-preview")
    expect(preview).to_contain_text(f"To the bundle “Pair {tag}” ({code})")
    expect(fpage.get_by_test_id("invitation-strategies")).to_have_text(alpha)
    fpage.get_by_role("button", name="Accept invitation").click()
    notice(fpage, "Accepted: 1 strategy(ies) are shared with you.")
    assert received(friend_user) == {alpha: ("bundle", code)}
    # The one-use link, opened again, says it is spent.
    fpage.reload()
    expect(fpage.get_by_test_id("invitation-preview")).to_contain_text("This invitation was already accepted.")

    # ---- adding a strategy to the bundle shares it with the member at once; removing takes it away ----
    go(page, "Bundles")
    expect(bundle).to_contain_text(friend_user.email)  # members
    bundle.get_by_label("Add a strategy").select_option(label=beta)
    bundle.get_by_role("button", name="Add", exact=True).click()
    notice(page, f"“{beta}” is in “Pair {tag}”: its 1 member(s) receive it now.")
    assert received(friend_user) == {alpha: ("bundle", code), beta: ("bundle", code)}
    go(fpage, "Sharing")
    shares = fpage.get_by_test_id("received-shares").get_by_test_id("share")
    expect(shares).to_have_count(2)
    expect(shares.filter(has_text=beta)).to_contain_text(f"Bundle · {code}")
    bundle.get_by_role("button", name=f"Remove: {alpha}").click()
    notice(page, f"“{alpha}” is out of “Pair {tag}”")
    assert received(friend_user) == {beta: ("bundle", code)}
    bundle.get_by_role("button", name="Remove member").click()
    page.get_by_role("button", name="Confirm: Remove member").click()
    notice(page, f"{friend_user.email} is no longer in “Pair {tag}”.")
    assert received(friend_user) == {}

    # ---- a group (grp_): a member by email, a strategy shared to it, an unknown address invited -------
    go(page, "Groups")
    page.get_by_label("Name", exact=True).fill(f"Desk {tag}")
    page.get_by_role("button", name="Create group").click()
    notice(page, f"Group “Desk {tag}” is ready.")
    group = page.get_by_test_id("group").filter(has_text=f"Desk {tag}")
    group_id = group.get_by_label("Group id").input_value()
    assert group_id.startswith("grp_"), group_id
    group.get_by_label("Add a member by email").fill(friend_user.email)
    group.get_by_role("button", name="Add", exact=True).click()
    notice(page, f"{friend_user.email} is in “Desk {tag}” and receives what is shared to it.")
    group.get_by_label("What to share").select_option(label=alpha)
    group.get_by_label("Terminals that may receive it").fill("3")
    group.get_by_role("button", name="Share", exact=True).click()
    notice(page, f"{alpha} is shared with “Desk {tag}”.")
    expect(group).to_contain_text("Up to 3 terminal(s) receive its signals.")
    assert received(friend_user) == {alpha: ("group", group_id)}
    stranger = f"newcomer-{tag}@example.com"
    group.get_by_label("Add a member by email").fill(stranger)
    group.get_by_role("button", name="Add", exact=True).click()
    notice(page, f"{stranger} has no account yet: an invitation email is on its way")
    assert [m for m in outbox(local_stack) if stranger in m["to"]], "no invitation email for the unknown address"
    owner.check("groups")
    fpage.get_by_role("button", name="Refresh").first.click()
    # The bundle's shares are listed as revoked now; the group's one is active.
    expect(shares.filter(has_text=f"Bundle · {code}").locator(".badge")).to_have_text(["Revoked", "Revoked"])
    through_group = shares.filter(has_text=f"Group · {group_id}")
    expect(through_group.locator(".badge")).to_have_text("Active")
    expect(through_group).to_contain_text(alpha)

    # Removing the member takes away what it had through the group; then the group goes.
    group.get_by_role("listitem").filter(has_text=friend_user.email).get_by_role("button", name="Remove").click()
    page.get_by_role("button", name="Confirm: Remove").click()
    notice(page, f"{friend_user.email} is no longer in “Desk {tag}”.")
    assert received(friend_user) == {}
    group.get_by_role("button", name="Stop sharing").click()
    page.get_by_role("button", name="Confirm: Stop sharing").click()
    notice(page, f"Sharing stopped for “Desk {tag}”.")
    group.get_by_role("button", name="Delete group").click()
    page.get_by_role("button", name="Confirm: Delete group").click()
    notice(page, f"Group “Desk {tag}” is deleted.")
    expect(group).to_have_count(0)
    assert owner.page_errors == [] and friend.page_errors == []


def test_audit_log_filters_and_pages(open_spa: OpenSpa, local_stack: RunningStack) -> None:
    user = new_user(local_stack, "audited")
    me = user.client.request("GET", "/api/me").json()
    tag = secrets.token_hex(2)
    busy = user.client.create_strategy(f"Busy {tag}")
    user.client.create_strategy(f"Quiet {tag}")
    # 26 pauses and 26 resumes: with the two creations, 54 entries, more than one page (50).
    for paused in [True, False] * 26:
        answer = user.client.request("PATCH", f"/api/strategies/{busy['strategyId']}", {"paused": paused})
        assert answer.status_code == 200, answer.text

    spa = signed_in(open_spa, user)
    page = spa.page
    go(page, "Audit log")
    entries = page.get_by_test_id("audit-entry")
    expect(entries).to_have_count(50)
    expect(entries.first).to_contain_text("strategy.resumed")  # newest first
    expect(entries.first).to_contain_text(user.email)
    page.get_by_role("button", name="Load more").click()
    expect(entries).to_have_count(54)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    expect(entries.last).to_contain_text("strategy.created")
    spa.check("audit")

    # Filters: the action, the strategy, the actor, the time window (each asks the server).
    page.get_by_label("Action").select_option("strategy.paused")
    page.get_by_role("button", name="Search").click()
    expect(entries).to_have_count(26)
    for text in entries.all_inner_texts():
        assert "strategy.paused" in text and f"Busy {tag}" in text, text
    page.get_by_label("Action").select_option("")
    page.get_by_label("Strategy").select_option(label=f"Quiet {tag}")
    page.get_by_role("button", name="Search").click()
    expect(entries).to_have_count(1)
    expect(entries).to_contain_text("strategy.created")
    page.get_by_label("Strategy").select_option("")
    page.get_by_label("Actor").fill(me["userId"])
    page.get_by_role("button", name="Search").click()
    expect(entries).to_have_count(50)
    page.get_by_label("Actor").fill("usr_nobody_at_all")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("No entries match.")
    page.get_by_label("Actor").fill("")
    page.get_by_label("From").fill("2099-01-01T00:00")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("empty-state")).to_contain_text("No entries match.")
    page.get_by_label("From").fill("")
    page.get_by_label("Until").fill("2000-01-01T00:00")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    page.get_by_label("Until").fill("")
    page.get_by_role("button", name="Search").click()
    expect(entries).to_have_count(50)
    assert spa.page_errors == []
