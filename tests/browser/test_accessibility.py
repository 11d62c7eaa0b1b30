"""axe-core on the main pages of every role, in Arabic and English, on a phone: no serious issue.

The pages are the role's navigation links (so a page another area adds to the menu is covered
without anyone listing it) plus the detail pages they lead to. Each page is also checked for its
``lang``/``dir`` and for fitting a 375 px viewport; ``--screenshots`` saves each one to
docs/screenshots/<role>-<page>-<language>.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.browser.conftest import (
    PHONE,
    LiveServer,
    axe_violations,
    check_page,
    overflow,
    page_direction,
    screenshot,
    slug,
)
from tests.conftest import clean_database

ROLES = ("anonymous", "volunteer", "manager", "coordinator", "admin")
LANGUAGES = ("ar", "en")
DEMO_LOGIN = {
    "volunteer": ("volunteer1@demo.example.org", "volunteer-2026"),
    "manager": ("manager1@demo.example.org", "manager-2026"),
    "coordinator": ("coordinator@demo.example.org", "coordinator-2026"),
    "admin": ("admin@demo.example.org", "admin-2026"),
}
# Pages that are not in a role's menu but are main pages of it ({name} filled from the data).
EXTRA_PAGES: dict[str, tuple[str, ...]] = {
    "anonymous": (
        "/",
        "/opportunities/{opportunity_id}",
        "/guide/EG-C",
        "/certificates",
        "/forgot-password",
    ),
    "volunteer": (
        "/opportunities/{opportunity_id}",
        "/verify",
        "/messages",
        "/account/data",
        "/calendar",
    ),
    "manager": (
        "/manage/institutions/{institution_id}",
        "/manage/institutions/{institution_id}/contacts",
        "/manage/opportunities/{opportunity_id}",
        "/manage/opportunities/{opportunity_id}/series/new",
        "/manage/shifts/{shift_id}",
        "/manage/shifts/{shift_id}/qr",
    ),
    "coordinator": (
        "/coordinate/runs/new",
        "/coordinate/runs/{run_id}",
        "/coordinate/volunteers/{volunteer_id}/attendance",
    ),
    "admin": (
        "/admin/users/new",
        "/admin/personal-data-access",
        "/sms/inbox",
        "/coordinate/runs/schedules",
    ),
}


@pytest.fixture(scope="module")
def demo(live_server: LiveServer, migrated_app: Flask) -> Iterator[dict[str, Any]]:
    """The demo data (what a new user sees) and a proposed matching run, once for the module."""
    from web import demo_data
    from web.extensions import db
    from web.models import Institution, Opportunity, Shift, User
    from web.services import runs

    app = live_server.app
    clean_database(app)
    with app.app_context():
        demo_data.load()
        manager = db.session.scalar(sa.select(User).where(User.email == DEMO_LOGIN["manager"][0]))
        institution = db.session.scalars(
            sa.select(Institution)
            .where(Institution.managers.contains(manager))
            .order_by(Institution.id)
        ).first()
        opportunity = db.session.scalars(
            sa.select(Opportunity)
            .where(Opportunity.institution_id == institution.id)
            .order_by(Opportunity.id)
        ).first()
        shift = db.session.scalars(
            sa.select(Shift)
            .where(Shift.institution_id == institution.id, Shift.open_taken > 0)
            .order_by(Shift.starts_at)
        ).first()
        coordinator = db.session.scalar(
            sa.select(User).where(User.email == DEMO_LOGIN["coordinator"][0])
        )
        run = runs.start_run(coordinator, "national", [], *runs.default_window(2), time_limit_s=5)
        runs.execute_run(runs.claim_run(run.id, "browser-tests"))
        ids = {
            "institution_id": institution.id,
            "opportunity_id": opportunity.id,
            "shift_id": shift.id,
            "run_id": run.id,
            "volunteer_id": db.session.scalar(
                sa.select(User.id).where(User.email == DEMO_LOGIN["volunteer"][0])
            ),
        }
        db.session.remove()
    yield ids
    clean_database(app)


def set_language(app: Flask, email: str | None, language: str) -> None:
    """The stored language of a user wins over the browser's; set it directly."""
    if email is None:
        return
    from web.extensions import db
    from web.models import User

    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(locale=language))
        db.session.commit()
        db.session.remove()


def menu_paths(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all(".site-nav a", "links => links.map(a => a.href)")
    return [urlsplit(href).path for href in hrefs]


@pytest.mark.parametrize("role", ROLES)
def test_main_pages_have_no_serious_accessibility_issue(
    role: str,
    demo: dict[str, Any],
    live_server: LiveServer,
    playwright_browser: Any,
    screenshots: bool,
) -> None:
    app = live_server.app
    email, password = DEMO_LOGIN.get(role, (None, None))
    problems: list[str] = []
    seen: list[str] = []
    for language in LANGUAGES:
        set_language(app, email, language)
        context = playwright_browser.new_context(
            base_url=live_server.url,
            viewport=PHONE,
            locale="ar-EG" if language == "ar" else "en-GB",
            bypass_csp=True,  # page.evaluate injects axe-core whatever the CSP says
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        try:
            if email is not None:
                page.goto("/login")
                page.fill("#identifier", email)
                page.fill("#password", password)
                with page.expect_navigation():
                    page.locator("main button[type=submit]").click()
            else:
                page.goto("/")
            # path -> the name of its screenshot (ids left out, so names stay put)
            paths = {path: slug(path) or "home" for path in menu_paths(page)}
            for template in EXTRA_PAGES[role]:
                paths[template.format(**demo)] = slug(template.replace("_id}", "}")) or "home"
            if email is not None:  # where the role lands after logging in
                landing = urlsplit(page.url).path
                paths.setdefault(landing, slug(landing) or "home")
            for path, name in paths.items():
                response = page.goto(path)
                if response is None or response.status != 200:
                    problems.append(f"{path} [{language}]: HTTP {response and response.status}")
                    continue
                seen.append(path)
                try:
                    check_page(page, language)
                except AssertionError as exc:
                    problems.append(f"{path} [{language}]: {exc}")
                for violation in axe_violations(page):
                    problems.append(
                        f"{path} [{language}] {violation['impact']} {violation['id']}: "
                        f"{violation['help']} {json.dumps(violation['nodes'], ensure_ascii=False)}"
                    )
                screenshot(
                    page,
                    f"{role}-{name}-{language}",
                    screenshots,
                    once_per=f"{path} {language}",  # by the first role that sees the page
                )
        finally:
            context.close()
    set_language(app, email, "ar")
    assert len(seen) >= 2 * 3, seen
    assert not problems, "\n".join(problems)


def test_focus_is_visible_in_both_directions(
    demo: dict[str, Any], live_server: LiveServer, playwright_browser: Any
) -> None:
    """Tabbing from the top reaches the skip link, shown on screen with a visible outline."""
    for language, direction in (("ar", "rtl"), ("en", "ltr")):
        context = playwright_browser.new_context(
            base_url=live_server.url, viewport=PHONE, locale=language
        )
        page = context.new_page()
        page.goto("/login")
        assert page_direction(page) == [language, direction]
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {cls: el.className, outline: style.outlineStyle, width: style.outlineWidth,
                    left: box.left, right: box.right};
        }"""
        )
        assert focused["cls"] == "skip-link"
        assert focused["outline"] == "solid" and focused["width"] != "0px"
        assert focused["left"] >= 0 and focused["right"] <= PHONE["width"]
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        assert overflow(page) is None
        context.close()
