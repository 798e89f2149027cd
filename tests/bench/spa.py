"""The owner SPA: what a first visit downloads (gzip and as S3 serves it, uncompressed) and how
long until the first screen is on the page in headless Chromium against the local stack, as a ratio
to a floor measured in the same run: the same browser loading one small JSON document of the same
server (`/api/health`), i.e. a navigation's own cost with no SPA in it."""

from __future__ import annotations

import gzip
import os
import re
import statistics
import tempfile
from pathlib import Path

from common import Figure, percentile

from quantlink_local.process import RunningStack

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "web" / "dist"
# The same browser and flags as tests/e2e/browser (Debian's Chromium, never a downloaded one).
CHROMIUM = Path(os.environ.get("QUANTLINK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-sync", "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def dist_files(urls: list[str]) -> list[Path]:
    """The files of web/dist that these URLs fetched (the API's answers are not part of the bundle)."""
    found = []
    for url in urls:
        name = re.sub(r"[?#].*$", "", url.split("/", 3)[-1]) or "index.html"
        if (DIST / name).is_file() and not name.startswith("api/"):
            found.append(DIST / name)
    return list(dict.fromkeys(found))


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


KIB = 1024


def first_visit_figure(files: list[Path]) -> Figure:
    raw = sum(p.stat().st_size for p in files) / KIB
    return Figure("SPA first visit downloads, gzip (everything until the sign-in screen)",
                  sum(map(gzip_size, files)) / KIB, "KiB",
                  note=f"{len(files)} files; S3 website hosting serves them uncompressed: {raw:.0f} KiB")  # fmt: skip


def static_imports(chunk: Path) -> list[Path]:
    """The chunks a built chunk imports statically (Vite writes `from"./name.js"`), transitively."""
    seen: dict[Path, None] = {}
    todo = [chunk]
    while todo:
        current = todo.pop()
        for name in re.findall(r'(?:from|import)"\./([\w.-]+\.js)"', current.read_text(encoding="utf-8")):
            found = current.parent / name
            if found.is_file() and found not in seen:
                seen[found] = None
                todo.append(found)
    return list(seen)


def lazy_chunk(name: str, entry: list[Path]) -> list[Path]:
    """A lazily loaded chunk with what it pulls in that the entry does not load already."""
    chunks = list(DIST.rglob(f"{name}-*.js"))
    if not chunks:
        return []
    loaded = set(entry) | {q for p in entry for q in static_imports(p)}
    return [chunks[0], *(p for p in static_imports(chunks[0]) if p not in loaded)]


def bundle_figures() -> list[Figure]:
    assets = [p for p in DIST.rglob("*") if p.is_file()]
    entry = [p for p in assets if p.parent.name == "assets" and p.name.startswith("index-") and p.suffix == ".js"]
    figures = [
        Figure("SPA whole build, gzip (every screen and chunk)", sum(map(gzip_size, assets)) / KIB, "KiB",
               note=f"{len(assets)} files"),
    ]  # fmt: skip
    charts = lazy_chunk("LatencyCharts", entry)
    if charts:
        name = "SPA charts (ECharts, loaded by the timeline and drift screens only), gzip"
        figures.append(Figure(name, sum(map(gzip_size, charts)) / KIB, "KiB", note=f"{len(charts)} chunks"))
    screens = sorted((p for p in assets if re.match(r"\w+View-[\w-]+\.js$", p.name)), key=gzip_size)
    if screens:
        largest = screens[-1]
        note = f"{largest.name.split('-')[0]}; {len(screens)} screens, each loaded on its first visit"
        figures.append(Figure("SPA largest screen chunk, gzip", gzip_size(largest) / KIB, "KiB", note=note))
    return figures


def render_figures(stack: RunningStack, quick: bool) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    samples = 5 if quick else 25
    spa_ms: list[float] = []
    floor_ms: list[float] = []
    fetched: list[str] = []
    with tempfile.TemporaryDirectory(prefix="quantlink-bench-chromium-") as profile, sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            for i in range(samples + 2):  # two warm-ups: the functions' cold starts
                # Each sample starts with an empty cache: every file comes over the wire.
                browser.clear_cookies()
                page.goto("about:blank")
                cdp = browser.new_cdp_session(page)
                cdp.send("Network.clearBrowserCache")
                cdp.detach()
                page.goto(f"{stack.api_base}/api/health", wait_until="load")
                floor = float(page.evaluate("() => performance.now()"))
                page.goto("about:blank")
                page.goto(f"{stack.api_base}/", wait_until="commit")
                page.wait_for_selector("main h1")  # the sign-in screen, rendered
                spa = float(page.evaluate("() => performance.now()"))
                if not fetched:
                    fetched = [
                        page.url,
                        *page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)"),
                    ]
                if i >= 2:
                    floor_ms.append(floor)
                    spa_ms.append(spa)
        finally:
            browser.close()
    p50, floor_p50 = percentile(spa_ms, 50), percentile(floor_ms, 50)
    return [
        first_visit_figure(dist_files(fetched)),
        Figure(
            f"SPA time to first render (sign-in screen, cold cache), p50, n={samples}",
            p50,
            "ms",
            ratio=p50 / floor_p50,
            floor=f"the same browser loading /api/health, p50 = {floor_p50:.1f} ms",
            note=f"p95 {percentile(spa_ms, 95):.0f} ms; stdev {statistics.pstdev(spa_ms):.0f} ms; "
            "config.json + GET /api/config + the entry chunks",
        ),
    ]


def run(stack: RunningStack, quick: bool) -> list[Figure]:
    if not (DIST / "index.html").is_file():
        print("spa bench skipped: web/dist is not built (make web)")
        return []
    figures = bundle_figures()
    if not CHROMIUM.exists():
        print(f"spa bench: no Chromium at {CHROMIUM} (apt-get install -y chromium): time to first render skipped")
        return figures
    return figures + render_figures(stack, quick)
