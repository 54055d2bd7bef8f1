"""What every browser test shares: Debian's Chromium, one Playwright per session, `Session`.

Playwright's sync API runs one event loop per thread, so the whole test session
has ONE `sync_playwright()` and one Chromium, started by the `browser` fixture
of tests/conftest.py on first use; every browser module takes that fixture
instead of starting its own (two in one thread crash the second).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.debian import ensure_debian_packages
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
RESULTS_ROOT = Path(__file__).resolve().parents[1] / "test-results"
RESULTS = RESULTS_ROOT / "admin-browser"

# Debian packages the browser tests need: the browser, and fonts for the Khmer
# and Korean screens (without them the screenshots show empty boxes).
PACKAGES = {
    "chromium": lambda: shutil.which("chromium") or Path(CHROMIUM).exists(),
    "fonts-khmeros": lambda: Path("/usr/share/fonts/truetype/khmeros").is_dir(),
    "fonts-nanum": lambda: Path("/usr/share/fonts/truetype/nanum").is_dir(),
}


def ensure_chromium() -> None:
    """Install Debian's Chromium (never Playwright's own download) and fonts when missing."""
    ensure_debian_packages(PACKAGES)


def launch_browser():
    """Yield one Chromium for the whole test session (the `browser` fixture's body)."""
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests still
    # talk to the database synchronously between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Session:
    """One person's browser context, signed in through the real login form."""

    def __init__(self, browser, live_server, user, name: str, results: Path = RESULTS):
        self.context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.base = live_server.url
        self.name = name
        self.results = results
        results.mkdir(parents=True, exist_ok=True)
        self.page.goto(f"{self.base}/admin/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_url(f"{self.base}/admin/")

    def goto(self, path: str):
        return self.page.goto(f"{self.base}{path}")

    def shot(self, step: str, *, full_page: bool = True) -> None:
        path = self.results / f"{step}-{self.name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)

    def close(self) -> None:
        self.context.close()


# Where on the network picture to click so that the tap lands on the node: in
# the window, and, as the layout is randomised and another node may cover part
# of it, at a point of its box no other node's box covers.
_NODE_POINT = """(label) => {
    const cy = document.getElementById("cb-graph-canvas").cbGraph;
    const node = cy.nodes().filter((n) => n.data("api").label === label)[0];
    cy.center(node);
    // The node is now at the canvas's centre: bring that into the window (a
    // canvas taller than what is left of the window below the tabs is not).
    cy.container().scrollIntoView({ block: "center", inline: "center" });
    // Cytoscape keeps where its canvas is in the window until it hears of
    // the scroll (an event at the next frame): a click before then lands
    // where the node used to be.
    cy.resize();
    const drawn = { includeLabels: false };
    const box = node.renderedBoundingBox(drawn);
    const others = cy.nodes(":visible").not(node).map((n) => n.renderedBoundingBox(drawn));
    const inside = (b, x, y) => x >= b.x1 && x <= b.x2 && y >= b.y1 && y <= b.y2;
    for (const fx of [0.5, 0.3, 0.7, 0.15, 0.85]) {
        for (const fy of [0.5, 0.3, 0.7, 0.15, 0.85]) {
            const x = box.x1 + fx * box.w, y = box.y1 + fy * box.h;
            if (!others.some((b) => inside(b, x, y))) { return { x, y, id: node.id() }; }
        }
    }
    return { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2, id: node.id() };
}"""


def click_graph_node(page, label: str) -> None:
    """Click where the network picture draws the node labelled `label`, and
    check that the workspace selected that node (the expand button names it)."""
    where = page.evaluate(_NODE_POINT, label)
    box = page.locator("#cb-graph-canvas").bounding_box()
    page.mouse.click(box["x"] + where["x"], box["y"] + where["y"])
    expand = page.locator(f"#cb-graph-expand[data-cb-node='{where['id']}']")
    expand.wait_for(state="attached", timeout=5000)
