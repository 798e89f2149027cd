"""The SPA in a real headless Chromium (Debian's `chromium`, driven by Playwright), against the
local stack of tests/e2e/conftest.py. `make test` builds web/dist first; nothing is downloaded here
(never `playwright install`): a missing browser or build fails with the command that fixes it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright, expect, sync_playwright

from quantlink_local.process import RunningStack
from tests.e2e.browser.spa import AXE_SCRIPT, REPO, Spa

CHROMIUM = Path(os.environ.get("QUANTLINK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


# How long an expect() waits for the page to get there (Playwright's default is 5 s). On a loaded machine
# (two cores running several suites at once) a sign-up or a screen's first API answers can take longer;
# a screen that never gets there still fails, only later. Not a speed check: nothing here is timed.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with `apt-get install -y chromium`", pytrace=False)
    if not (REPO / "web" / "dist" / "index.html").is_file():
        pytest.fail("The SPA is not built: run `make web` (make test does it)", pytrace=False)
    if not AXE_SCRIPT.is_file():
        pytest.fail("axe-core is missing: run `make web` (npm ci in web/)", pytrace=False)
    with sync_playwright() as driver:
        yield driver


OpenSpa = Callable[..., Spa]


@pytest.fixture
def open_spa(playwright: Playwright, local_stack: RunningStack) -> Iterator[OpenSpa]:
    """A fresh browser (new empty --user-data-dir) per call, with the browser's language set."""
    contexts: list[BrowserContext] = []
    opened: list[Spa] = []
    folders: list[tempfile.TemporaryDirectory[str]] = []

    def open_browser(locale: str = "en-US") -> Spa:
        folder = tempfile.TemporaryDirectory(prefix="quantlink-chromium-")
        folders.append(folder)
        context = playwright.chromium.launch_persistent_context(
            folder.name,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale=locale,
            viewport={"width": 1280, "height": 800},
            accept_downloads=True,
            permissions=["clipboard-read", "clipboard-write"],
        )
        contexts.append(context)
        opened.append(Spa(context, local_stack.api_base))
        return opened[-1]

    yield open_browser
    for spa in opened:
        if spa.console or spa.page_errors:
            print("browser console:", *spa.console, *spa.page_errors, sep="\n  ")
    for context in contexts:
        context.close()
    for folder in folders:
        folder.cleanup()
