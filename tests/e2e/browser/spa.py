"""Driving the SPA in the browser: screens by URL, screenshots at desktop and phone width, and the
axe-core accessibility check (web/node_modules/axe-core, the npm devDependency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Download, Page, ViewportSize, expect

REPO = Path(__file__).resolve().parents[3]
AXE_SCRIPT = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / ".artifacts" / "screenshots"
VIEWPORTS: dict[str, ViewportSize] = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


class Spa:
    def __init__(self, context: BrowserContext, api_base: str) -> None:
        self.context = context
        self.base = api_base.rstrip("/")
        self.page: Page = context.pages[0] if context.pages else context.new_page()
        self.page_errors: list[str] = []
        self.console: list[str] = []  # what the browser logged: printed when a test fails
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))

    def goto(self, route: str = "/") -> Page:
        self.page.goto(f"{self.base}/#{route}")
        return self.page

    def local_storage(self) -> dict[str, str]:
        items: dict[str, str] = self.page.evaluate("() => Object.fromEntries(Object.entries(localStorage))")
        return items

    def download(self, click: Any) -> tuple[str, str]:
        """Click what starts a download; its suggested name and its text."""
        with self.page.expect_download() as info:
            click()
        download: Download = info.value
        path = download.path()
        return download.suggested_filename, Path(path).read_text(encoding="utf-8")

    def axe_violations(self) -> list[dict[str, Any]]:
        """Serious and critical axe-core violations on the page as it is now."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated over the DevTools protocol: the SPA's CSP (script-src 'self') stays on and
            # would refuse an injected <script>.
            self.page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8") + "\n;true")
        result: dict[str, Any] = self.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5], "help": v["help"]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def check(self, name: str) -> None:
        """Screenshot the screen at desktop and phone width, and fail on any serious axe violation."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        found: dict[str, list[dict[str, Any]]] = {}
        for label, size in VIEWPORTS.items():
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(250)  # charts resize on the next frame
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
            violations = self.axe_violations()
            if violations:
                found[label] = violations
        self.page.set_viewport_size(VIEWPORTS["desktop"])
        assert not found, f"axe on {name}: " + json.dumps(found, ensure_ascii=False, indent=1)

    def heading(self, text: str) -> None:
        expect(self.page.get_by_role("heading", level=1)).to_contain_text(text)
