"""The browser checks can fail: an overflowing page, a wrong direction, axe on a broken page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import PHONE, Browsing, axe_violations, check_page, overflow


@pytest.fixture
def blank(playwright_browser: Any) -> Any:
    context = playwright_browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def test_overflow_is_caught_and_named(blank: Any) -> None:
    blank.set_content(
        '<html lang="ar" dir="rtl"><body><main><table class="wide"><tr>'
        + "<td>عمود&nbsp;طويل&nbsp;جدا</td>" * 12
        + "</tr></table></main></body></html>"
    )
    found = overflow(blank)
    assert found is not None and found["scrollWidth"] > 375
    assert any(e.startswith("table.wide") for e in found["elements"])
    with pytest.raises(AssertionError, match="overflows"):
        check_page(blank, "ar")


def test_direction_and_text_are_checked(blank: Any) -> None:
    blank.set_content('<html lang="ar" dir="ltr"><body><main>مرحبا</main></body></html>')
    with pytest.raises(AssertionError):
        check_page(blank, "ar")
    blank.set_content('<html lang="ar" dir="rtl"><body><main>مرحبا</main></body></html>')
    check_page(blank, "ar", "مرحبا")
    with pytest.raises(AssertionError, match="not on"):
        check_page(blank, "ar", "غير موجود")


def test_axe_reports_serious_violations(blank: Any) -> None:
    blank.set_content(
        "<html><head><title>x</title></head><body><main>"
        '<input type="text"><img src="data:,">'
        '<p style="color:#bbb;background:#fff">faint text</p>'
        "</main></body></html>"
    )
    ids = {v["id"] for v in axe_violations(blank)}
    assert {"label", "image-alt", "color-contrast", "html-has-lang"} <= ids


def test_a_script_the_csp_refuses_is_reported(playwright_browser: Any) -> None:
    opened = Browsing(playwright_browser, "http://127.0.0.1:9")
    try:
        page = opened.page()
        page.set_content(
            '<html><head><meta http-equiv="Content-Security-Policy" content="script-src \'self\'">'
            "</head><body><script>document.title = 'ran'</script></body></html>"
        )
        assert page.title() != "ran"
        assert any("Content Security Policy" in error for error in opened.errors), opened.errors
    finally:
        opened.close()
