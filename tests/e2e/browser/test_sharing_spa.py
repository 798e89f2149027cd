"""The sharing, audit, admin and drift screens in headless Chromium against the real local stack: each is
reachable, labelled (axe) and usable at phone width for a normal user, the admin area is not there for
one, and an invitation link that leads nowhere says so in words."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from quantlink_local.client import OwnerClient, joinquant_signal, post_webhook, sign_in
from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.spa import Spa
from tests.e2e.browser.test_owner_spa import dismiss_secret, new_credentials, secret_values, sign_up

pytestmark = pytest.mark.e2e

SCREENS = (("Sharing", "sharing"), ("Bundles", "bundles"), ("Groups", "groups"), ("Audit log", "audit"))


def test_a_normal_user_gets_every_sharing_screen_and_no_admin_area(
    open_spa: OpenSpa, local_stack: RunningStack
) -> None:
    spa = open_spa("en-US")
    page = spa.page
    email, password = new_credentials()
    sign_up(spa, email, password)
    owner = OwnerClient(local_stack.api_base, sign_in(local_stack.api_base, email, password))
    owner.create_strategy("Shared 共享")
    terminal = owner.create_terminal("desk")

    nav = page.get_by_role("navigation")
    for label, name in SCREENS:
        nav.get_by_role("link", name=label, exact=True).click()
        spa.heading(label)
        expect(page).to_have_url(re.compile(f"#/{name}$"))
        spa.check(f"{name}-empty")

    # The admin area: not in the navigation, and its address is a page that does not exist.
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    spa.goto("/admin")
    spa.heading("Not found")

    # The drift screen of a terminal: reached from its card.
    nav.get_by_role("link", name="Terminals").click()
    page.get_by_test_id("terminal").get_by_role("link", name="Drift").click()
    spa.heading("Drift · desk")
    expect(page).to_have_url(re.compile(f"#/terminals/{terminal['terminalId']}/drift$"))
    spa.check("drift-empty")

    # An invitation link that leads nowhere: said in words, nothing accepted.
    spa.goto("/invitations/not-a-real-token")
    spa.heading("Invitation")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("button", name="Accept invitation")).to_have_count(0)
    spa.check("invitation-invalid")

    # The same screens in Chinese.
    page.get_by_test_id("language").select_option("zh-CN")
    nav.get_by_role("link", name="共享").click()
    spa.heading("共享")
    spa.check("sharing-zh")
    assert spa.page_errors == []


def test_an_invitation_link_signed_out_comes_back_after_signing_up(open_spa: OpenSpa) -> None:
    spa = open_spa("en-US")
    page = spa.goto("/invitations/tok_example")
    expect(page).to_have_url(re.compile(r"#/sign-in\?redirect="))
    page.get_by_role("link", name="Create one").click()
    spa.heading("Create an account")  # the sign-in page has an Email and a Password field too
    email, password = new_credentials()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm", exact=True).click()
    spa.heading("Invitation")
    expect(page).to_have_url(re.compile(r"#/invitations/tok_example$"))


def sign_in_ui(spa: Spa, email: str, password: str) -> None:
    page = spa.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    spa.heading("Strategies")


def test_share_by_link_the_recipient_subscribes_and_the_shared_signal_arrives(
    open_spa: OpenSpa, local_stack: RunningStack
) -> None:
    info = local_stack.info
    # ---- the owner (the local stack's demo owner: plan pro, admin) invites by link --------------------
    owner = open_spa("en-US")
    page = owner.page
    sign_in_ui(owner, info["demoEmail"], info["demoPassword"])
    name = f"Shared alpha {secrets.token_hex(3)}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create strategy").click()
    webhook_url, token = secret_values(page)
    dismiss_secret(page)
    page.get_by_role("navigation").get_by_role("link", name="Sharing", exact=True).click()
    owner.heading("Sharing")
    page.get_by_label("What to share").select_option(label=name)
    page.get_by_label("Pause it for themselves (canPause)").check()
    page.get_by_label("Terminals that may receive it").fill("1")
    page.get_by_label("Number of uses", exact=True).fill("1")
    page.get_by_role("button", name="Create invitation link").click()
    (link,) = secret_values(page)
    assert "#/invitations/" in link
    owner.check("sharing-link-created")
    dismiss_secret(page)
    expect(page.get_by_test_id("invitation").first).to_contain_text("Pending")

    # ---- the recipient opens the link signed out, signs up, lands on it, accepts ----------------------
    friend = open_spa("en-US")
    fpage = friend.page
    fpage.goto(link)
    expect(fpage).to_have_url(re.compile(r"#/sign-in\?redirect="))
    fpage.get_by_role("link", name="Create one").click()
    friend.heading("Create an account")
    friend_email, friend_password = new_credentials()
    fpage.get_by_label("Email").fill(friend_email)
    fpage.get_by_label("Password").fill(friend_password)
    fpage.get_by_role("button", name="Create account").click()
    fpage.get_by_label("Confirmation code").fill("123456")
    fpage.get_by_role("button", name="Confirm", exact=True).click()
    friend.heading("Invitation")
    preview = fpage.get_by_test_id("invitation-preview")
    expect(preview).to_contain_text(f"{info['demoEmail']} invites you")
    expect(fpage.get_by_test_id("invitation-strategies")).to_have_text(name)
    expect(preview).to_contain_text("May pause and resume it.")
    expect(preview).to_contain_text("May not remove the share.")
    friend.check("invitation-accept")
    fpage.get_by_role("button", name="Accept invitation").click()
    expect(fpage.get_by_role("status").filter(has_text="Accepted")).to_have_text(
        "Accepted: 1 strategy(ies) are shared with you."
    )

    # ---- ... subscribes a terminal to the shared strategy --------------------------------------------
    fpage.get_by_role("link", name="subscribe one of your terminals on the Terminals page").click()
    friend.heading("Terminals")
    fpage.get_by_label("Name", exact=True).fill("friend-pc")
    fpage.get_by_role("button", name="Register terminal").click()
    (friend_token,) = secret_values(fpage)
    dismiss_secret(fpage)
    card = fpage.get_by_test_id("terminal")
    card.get_by_label("Strategy").select_option(label=f"{name} (shared by {info['demoEmail']})")
    card.get_by_label("Sizing").select_option("mirror")
    card.get_by_role("button", name="Subscribe", exact=True).click()
    expect(fpage.get_by_role("status").filter(has_text="now receives")).to_contain_text(
        f"“friend-pc” now receives “{name}"
    )

    # ---- the owner's webhook reaches the recipient's terminal -----------------------------------------
    answer = post_webhook(webhook_url, token, joinquant_signal(1))
    assert answer.status_code == 202 and answer.json()["deliveries"] == 1, answer.text
    pulled = OwnerClient(local_stack.api_base, "").pull(friend_token, "friend-device-0001")
    assert [s["signalId"] for s in pulled] == [answer.json()["signalId"]]

    # The recipient's view of the share: what it may do, pause allowed, remove not.
    fpage.get_by_role("navigation").get_by_role("link", name="Sharing", exact=True).click()
    share = fpage.get_by_test_id("received-shares").get_by_test_id("share")
    expect(share).to_contain_text(name)
    expect(share).to_contain_text(info["demoEmail"])
    expect(share.get_by_role("button", name="Pause")).to_be_visible()
    expect(share.get_by_role("button", name="Remove")).to_have_count(0)
    friend.check("sharing-recipient")
    # A recipient is no admin: no Admin link, and the address is a missing page.
    expect(fpage.get_by_role("navigation").get_by_role("link", name="Admin")).to_have_count(0)
    friend.goto("/admin")
    friend.heading("Not found")

    # The owner sees the share and the delivery in its timeline.
    page.get_by_role("button", name="Refresh").first.click()
    expect(page.get_by_test_id("given-shares")).to_contain_text(friend_email)
    owner.check("sharing-owner")
    # ---- the admin area, for the admin --------------------------------------------------------------
    page.get_by_role("navigation").get_by_role("link", name="Admin").click()
    owner.heading("Admin")
    expect(page.get_by_test_id("users")).to_contain_text(friend_email)
    owner.check("admin")
    assert owner.page_errors == [] and friend.page_errors == []
