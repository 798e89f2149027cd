"""The sharing, audit, admin and drift screens in headless Chromium against the real local stack: each is
reachable, labelled (axe) and usable at phone width for a normal user, the admin area is not there for
one, and an invitation link that leads nowhere says so in words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from quantlink_local.client import OwnerClient, sign_in
from quantlink_local.process import RunningStack
from tests.e2e.browser.conftest import OpenSpa
from tests.e2e.browser.test_owner_spa import new_credentials, sign_up

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
    email, password = new_credentials()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Confirmation code").fill("123456")
    page.get_by_role("button", name="Confirm", exact=True).click()
    spa.heading("Invitation")
    expect(page).to_have_url(re.compile(r"#/invitations/tok_example$"))
