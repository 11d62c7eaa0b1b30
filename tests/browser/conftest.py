"""Browser fixtures: Debian's chromium via Playwright, the app served on loopback, page checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import TEST_DATABASE_URL, clean_database, make_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
TWILIO_TOKEN = "browser-test-auth-token-0123456789"
# The browser suite runs on one database: PostgreSQL when configured (as CI), else SQLite.
BROWSER_BACKEND = "postgresql" if TEST_DATABASE_URL else "sqlite"


def _must_fail_without_chromium() -> bool:
    """CI and PostgreSQL runs fail when chromium is missing; a bare developer run may skip."""
    return bool(os.environ.get("CI")) or bool(TEST_DATABASE_URL)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the browser tests on one backend (they are slow; the server needs only one)."""
    here = Path(__file__).parent
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if here in Path(item.path).parents and backend not in (None, BROWSER_BACKEND):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    """One headless chromium for the whole run (Debian's; Playwright never downloads one)."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        message = f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if _must_fail_without_chromium():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The app served by Werkzeug on a free loopback port in a thread of the test process."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """Requests are not logged (pytest would show hundreds of lines on a failure)."""

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(migrated_app: Flask, database_url: str) -> Iterator[LiveServer]:
    """The real app (CSRF on, console SMS, signed webhooks) on the Alembic-migrated database."""
    from web.extensions import db

    app = make_app(
        database_url,
        SERVER_NAME=None,
        WTF_CSRF_ENABLED=True,
        SMS_BACKEND="console",
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        PUBLIC_BASE_URL=None,
    )
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def site(live_server: LiveServer, migrated_app: Flask) -> Iterator[LiveServer]:
    """The live server on a clean database (reference data kept)."""
    from web.extensions import db

    clean_database(live_server.app)
    yield live_server
    with live_server.app.app_context():
        db.session.remove()
    clean_database(migrated_app)


@dataclass
class Browsing:
    """Opens pages in fresh browser contexts (one per person) and cleans them up."""

    browser: Any
    base_url: str
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self, viewport: dict[str, int] = PHONE, locale: str = "ar-EG") -> Any:
        """A page of its own (own cookies) under the app's real CSP; errors are collected."""
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport, locale=locale, service_workers="block"
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"),
        )
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def browsing(playwright_browser: Any, site: LiveServer) -> Iterator[Browsing]:
    opened = Browsing(playwright_browser, site.url)
    yield opened
    opened.close()


# --- checks every step makes --------------------------------------------------------------------


def page_direction(page: Any) -> tuple[str, str]:
    return page.evaluate("[document.documentElement.lang, document.documentElement.dir]")


def overflow(page: Any) -> dict[str, Any] | None:
    """None when nothing is wider than the viewport, else the widest offending elements."""
    return page.evaluate(
        """() => {
        const width = window.innerWidth;
        const doc = document.documentElement;
        if (doc.scrollWidth <= width) return null;
        const wide = [];
        for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 0.5 || box.left < -0.5) {
                wide.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                          + ' ' + Math.round(box.left) + '..' + Math.round(box.right));
            }
        }
        return {scrollWidth: doc.scrollWidth, innerWidth: width, elements: wide.slice(0, 8)};
    }"""
    )


def check_page(page: Any, language: str, *texts: str) -> None:
    """The page is in ``language`` with its direction, shows ``texts`` and fits the viewport."""
    lang, direction = page_direction(page)
    assert (lang, direction) == (language, "rtl" if language == "ar" else "ltr"), page.url
    body = page.inner_text("body")
    for text in texts:
        assert text in body, f"{text!r} not on {page.url}:\n{body[:2000]}"
    assert overflow(page) is None, f"{page.url} overflows: {json.dumps(overflow(page))}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page; the serious and critical violations it finds."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                  summary: n.failureSummary}))
        }));
    }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


_TAKEN: set[str] = set()


def screenshot(page: Any, name: str, enabled: bool, *, once_per: str | None = None) -> None:
    """A small palette PNG of the whole page in docs/screenshots/ (only with --screenshots).

    ``once_per``: a key (e.g. path and language) shot once per run, for pages several roles see.
    """
    if not enabled or (once_per is not None and once_per in _TAKEN):
        return
    if once_per is not None:
        _TAKEN.add(once_per)
    from io import BytesIO

    from PIL import Image

    raw = page.screenshot(full_page=True, animations="disabled", caret="hide")
    image = Image.open(BytesIO(raw)).convert("RGB")
    if image.height > 2000:  # the top of a long page shows what it is
        image = image.crop((0, 0, image.width, 2000))
    small = image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    small.save(SCREENSHOTS / f"{name}.png", optimize=True)


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--screenshots"))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
