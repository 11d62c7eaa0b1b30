"""Language choice (user, session, Accept-Language, Arabic), lang/dir, switching, formatting."""

from contextlib import contextmanager
from datetime import UTC, datetime

from flask_babel import format_currency

from web.extensions import db
from web.i18n import format_local, format_local_date, format_local_time, select_locale

PASSWORD = "correct horse battery"
PAGES = ["/", "/login", "/register"]


def html_tag(response) -> str:
    page = response.get_data(as_text=True)
    start = page.index("<html")
    return page[start : page.index(">", start) + 1]


ACCEPT_LANGUAGE = [
    (None, '<html lang="ar" dir="rtl">'),
    ("ar", '<html lang="ar" dir="rtl">'),
    ("ar-EG,ar;q=0.9", '<html lang="ar" dir="rtl">'),
    ("en", '<html lang="en" dir="ltr">'),
    ("en-US,en;q=0.9", '<html lang="en" dir="ltr">'),
    ("fr-FR, en;q=0.5", '<html lang="en" dir="ltr">'),
    ("fr", '<html lang="ar" dir="rtl">'),
    ("*", '<html lang="ar" dir="rtl">'),
]


def test_lang_and_dir_follow_accept_language_with_arabic_default(client):
    for accept, expected in ACCEPT_LANGUAGE:
        headers = {"Accept-Language": accept} if accept else {}
        for path in PAGES:
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
            assert html_tag(response) == expected, (path, accept)


def test_switching_language_anonymously_is_kept_in_the_session(client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    with client.session_transaction() as session:
        assert session["locale"] == "en"
    for path in PAGES:  # the session beats the browser's Accept-Language
        tag = html_tag(client.get(path, headers={"Accept-Language": "ar"}))
        assert tag == '<html lang="en" dir="ltr">'
    client.post("/language", data={"language": "ar"})
    assert (
        html_tag(client.get("/", headers={"Accept-Language": "en"})) == '<html lang="ar" dir="rtl">'
    )


def test_unsupported_language_changes_nothing(client):
    client.post("/language", data={"language": "en"})
    for value in ["fr", "", "EN", "x" * 1000]:
        response = client.post("/language", data={"language": value})
        assert response.status_code == 302
        with client.session_transaction() as session:
            assert session["locale"] == "en", value


def test_switching_language_when_logged_in_is_stored_on_the_user(app, client, factory, login_as):
    user = factory.user("volunteer", email="mona@example.org", locale="ar")
    login_as(user)
    client.post("/language", data={"language": "en", "next": "/account"})
    db.session.refresh(user)
    assert user.locale == "en"
    # Another device, another session: the stored choice follows the user.
    other = app.test_client()
    other.post("/login", data={"identifier": "mona@example.org", "password": PASSWORD})
    tag = html_tag(other.get("/account", headers={"Accept-Language": "ar"}))
    assert tag == '<html lang="en" dir="ltr">'


def test_user_choice_beats_session_and_browser(client, factory, login_as):
    login_as(factory.user("volunteer", locale="ar"))
    with client.session_transaction() as session:
        session["locale"] = "en"
    assert html_tag(client.get("/account", headers={"Accept-Language": "en"})) == (
        '<html lang="ar" dir="rtl">'
    )


def test_user_without_a_choice_follows_session_then_browser(client, factory, login_as):
    login_as(factory.user("volunteer", locale=None))
    assert html_tag(client.get("/account", headers={"Accept-Language": "en"})) == (
        '<html lang="en" dir="ltr">'
    )
    assert html_tag(client.get("/account")) == '<html lang="ar" dir="rtl">'


def test_language_switch_refuses_open_redirects(client):
    for target in [
        "https://evil.example/",
        "//evil.example/",
        "http:evil.example",
        "evil.example",
        "javascript:alert(1)",
    ]:
        response = client.post("/language", data={"language": "en", "next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/", target


def test_language_switch_refuses_backslash_host(client):
    response = client.post("/language", data={"language": "en", "next": "/\\evil.example/"})
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_local_query_strings(client):
    response = client.post("/language", data={"language": "en", "next": "/login?next=/account"})
    assert response.headers["Location"] == "/login?next=/account"


def test_select_locale_outside_a_request_is_arabic(app):
    assert select_locale() == "ar"


MOMENT = datetime(2026, 3, 5, 22, 30, tzinfo=UTC)  # already Friday 6 March in Cairo and Riyadh


@contextmanager
def request_in(app, language):
    """A request context of its own (fresh ``g``, so Flask-Babel chooses the locale anew)."""
    with app.app_context(), app.test_request_context(headers={"Accept-Language": language}):
        yield


def test_dates_and_times_are_formatted_per_locale_and_zone(app):
    with request_in(app, "en"):
        assert format_local_date(MOMENT) == "Friday, March 6, 2026"
        assert format_local_time(MOMENT).replace("\u202f", " ") == "12:30 AM"
        assert format_local_time(MOMENT, "Asia/Riyadh").replace("\u202f", " ") == "1:30 AM"
        assert format_local(MOMENT).startswith("Mar 6, 2026")
        assert format_local(None) == ""
    with request_in(app, "ar"):
        assert format_local_date(MOMENT) == "الجمعة، 6 مارس 2026"
        assert format_local_time(MOMENT) == "12:30 ص"
        assert format_local_time(MOMENT, "Asia/Dubai") == "2:30 ص"
        assert "2026" in format_local(MOMENT) and "ص" in format_local(MOMENT)


def test_numbers_are_formatted_per_locale(app):
    with request_in(app, "en"):
        assert format_currency(1234.5, "EGP") == "EGP1,234.50"
    with request_in(app, "ar"):
        assert "ج.م." in format_currency(1234.5, "EGP")
        assert "1,234.50" in format_currency(1234.5, "EGP")


def test_dates_on_a_page_follow_the_language(client, factory, login_as):
    admin = factory.user("admin")
    admin.created_at = MOMENT
    db.session.commit()
    login_as(admin)
    page = client.get(f"/admin/users/{admin.id}", headers={"Accept-Language": "en"})
    assert "Mar 6, 2026" in page.get_data(as_text=True)
    client.post("/language", data={"language": "ar"})
    db.session.refresh(admin)
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "06\u200f/03\u200f/2026" in page and '<html lang="ar" dir="rtl">' in page
